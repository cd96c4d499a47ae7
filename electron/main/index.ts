import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, safeStorage, session, type IpcMainInvokeEvent } from 'electron'
import { systemClock } from '../../core/time'
import { stderrLogger } from '../services/log'
import { openCounterRuntime, resolveDataDir, type CounterRuntime } from '../services/runtime'
import { registerApi } from './ipc'
import { registerFileSaving } from './save-files'
import { osKeyProtector } from './key-protector'
import { hardenSession, hardenWebContents, isTrustedSender, type AppLocation } from './security'
import { createMainWindow } from './window'

/**
 * The Electron shell, kept thin: paths, lifecycle, security wiring. Everything it calls is tested in
 * Node; this file is tested with a mocked `electron`.
 */

const here = import.meta.dirname
const location: AppLocation = process.env.ELECTRON_RENDERER_URL
  ? { kind: 'dev', url: process.env.ELECTRON_RENDERER_URL }
  : { kind: 'file', indexFile: join(here, '../renderer/index.html') }

let runtime: CounterRuntime | null = null
let mainWindow: BrowserWindow | null = null

async function start(): Promise<void> {
  hardenSession(session.defaultSession)
  const dataDir = resolveDataDir(process.env, app.getPath('userData'))
  try {
    runtime = await openCounterRuntime({
      dataDir,
      clock: systemClock,
      log: stderrLogger,
      appVersion: app.getVersion(),
      // The personal-data key, wrapped by DPAPI / Keychain / a keyring where the OS offers one.
      personalDataProtector: await osKeyProtector(safeStorage, process.platform),
    })
  } catch (error) {
    dialog.showErrorBox('无法打开本机数据', `${error instanceof Error ? error.message : String(error)}\n数据目录：${dataDir}`)
    app.exit(1)
    return
  }
  const isTrusted = (event: IpcMainInvokeEvent) => isTrustedSender(event.senderFrame, location)
  registerApi(ipcMain, runtime.dispatch, isTrusted)
  registerFileSaving(
    ipcMain,
    {
      async chooseFile(event, options) {
        const owner = BrowserWindow.fromWebContents(event.sender)
        const choice = owner ? await dialog.showSaveDialog(owner, options) : await dialog.showSaveDialog(options)
        return choice.canceled ? undefined : choice.filePath
      },
      // The page's own @page rules decide size, margins and the running header and page numbers.
      printToPdf: (event) => event.sender.printToPDF({ preferCSSPageSize: true, printBackground: true }),
      defaultDir: app.getPath('documents'),
    },
    isTrusted,
  )
  // At start and every few minutes, in the background: the counter never waits for it.
  runtime.sync.sync.start()
  mainWindow = createMainWindow({ preloadPath: join(here, '../preload/index.cjs'), location, devTools: !app.isPackaged })
  mainWindow.on('closed', () => {
    mainWindow = null
  })
}

export function bootstrap(): void {
  // One counter per machine: two windows would read the same card swipe and write the same database.
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  // An ASCII folder name: some office tools and backup scripts still trip over non-ASCII paths.
  app.setPath('userData', join(app.getPath('appData'), 'yibao-counter'))
  app.enableSandbox()
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, location))
  app.on('second-instance', () => {
    if (!mainWindow) return
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.focus()
  })
  app.on('window-all-closed', () => app.quit())
  app.on('will-quit', () => {
    // Committed transactions are already durable in the WAL; closing just releases the file.
    void runtime?.close()
  })
  app.whenReady().then(start, (error: unknown) => {
    stderrLogger.error('app_not_ready', { error: error instanceof Error ? error.name : 'unknown' })
    app.exit(1)
  })
}

bootstrap()
