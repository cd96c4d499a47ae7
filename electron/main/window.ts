import { BrowserWindow, type BrowserWindowConstructorOptions } from 'electron'
import { APP_INDEX_URL } from './app-protocol'
import type { AppLocation } from './security'

export function mainWindowOptions(preloadPath: string, devTools: boolean): BrowserWindowConstructorOptions {
  return {
    width: 1366,
    height: 768,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    autoHideMenuBar: true,
    backgroundColor: '#f5f7fa',
    title: '医保个账购买商业健康保险柜台',
    webPreferences: {
      preload: preloadPath,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools
    }
  }
}

export function createMainWindow(options: { preloadPath: string; devTools: boolean }): BrowserWindow {
  const window = new BrowserWindow(mainWindowOptions(options.preloadPath, options.devTools))
  window.once('ready-to-show', () => window.show())
  return window
}

/** The customer-facing window: full screen on the second display, nothing but the keypad. */
export function customerWindowOptions(
  preloadPath: string,
  bounds: { x: number; y: number; width: number; height: number }
): BrowserWindowConstructorOptions {
  const main = mainWindowOptions(preloadPath, false)
  return {
    ...main,
    ...bounds,
    minWidth: undefined,
    minHeight: undefined,
    fullscreen: true,
    frame: false,
    title: '请输入社保卡密码'
  }
}

/**
 * Loads the app's page (at a route, for the customer's window); rejects (with Chromium's error
 * code) when it cannot, for the caller to say so.
 */
export async function loadAppPage(
  window: BrowserWindow,
  location: AppLocation,
  route?: string
): Promise<void> {
  const page = location.kind === 'dev' ? location.url : APP_INDEX_URL
  await window.loadURL(route ? `${page}#${route}` : page)
}
