import { join } from 'node:path'
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  protocol,
  safeStorage,
  screen,
  session,
  type IpcMainInvokeEvent
} from 'electron'
import { systemClock } from '../../core/time'
import { CHOOSE_PACKAGE_CHANNEL } from '../../core/api/channel'
import { fail, type Result } from '../../core/errors'
import { stderrLogger } from '../../backend/services/log'
import { KeyStoreLockedError } from '../../backend/services/personal-data-key'
import { openCounterRuntime, resolveDataDir, type CounterRuntime } from '../../backend/runtime'
import { TRUST_FILE_NAME } from '../../backend/services/rules/trust'
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, serveAppRequest } from './app-protocol'
import { registerApi } from './ipc'
import { registerFileSaving } from './save-files'
import { registerPrinting } from './printing'
import { osKeyProtector } from './key-protector'
import { appLocation, hardenSession, hardenWebContents, isTrustedSender } from './security'
import { createMainWindow, customerWindowOptions, loadAppPage } from './window'
import { registerCustomerDisplay } from './customer-display'

/**
 * The Electron shell, kept thin: paths, lifecycle, security wiring. Everything it calls is tested in
 * Node; this file is tested with a mocked `electron`.
 */

const here = import.meta.dirname
const rendererDir = join(here, '../renderer')
const location = appLocation({ env: process.env, isPackaged: app.isPackaged, rendererDir })

let runtime: CounterRuntime | null = null
let mainWindow: BrowserWindow | null = null

/**
 * Opens the data folder. A key store that stays locked (a Linux keyring the user has not unlocked
 * yet) is not an error to die of: the operator is told in Chinese and may try again once it is
 * unlocked. Anything else ends the app with its reason.
 */
async function openRuntime(dataDir: string): Promise<CounterRuntime | null> {
  for (;;) {
    try {
      return await openCounterRuntime({
        dataDir,
        clock: systemClock,
        log: stderrLogger,
        appVersion: app.getVersion(),
        // The centre keys the installer put beside the app (admin-owned, unlike the data folder).
        trustFiles: app.isPackaged ? [join(process.resourcesPath, TRUST_FILE_NAME)] : [],
        // The personal-data key, wrapped by DPAPI / Keychain / a keyring where the OS offers one.
        personalDataProtector: await osKeyProtector(safeStorage)
      })
    } catch (error) {
      if (error instanceof KeyStoreLockedError) {
        stderrLogger.error('personal_data_key_store_locked', {})
        const choice = await dialog.showMessageBox({
          type: 'warning',
          title: '个人信息密钥暂时无法读取',
          message: '系统密钥环尚未解锁',
          detail: `${error.message}\n\n解锁后点"重试"；点"退出"关闭柜台程序。`,
          buttons: ['重试', '退出'],
          defaultId: 0,
          cancelId: 1,
          noLink: true
        })
        if (choice.response === 0) continue
      } else {
        dialog.showErrorBox(
          '无法打开本机数据',
          `${error instanceof Error ? error.message : String(error)}\n数据目录：${dataDir}`
        )
      }
      app.exit(1)
      return null
    }
  }
}

async function start(): Promise<void> {
  hardenSession(session.defaultSession)
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(rendererDir, request))
  const dataDir = resolveDataDir(process.env, app.getPath('userData'))
  runtime = await openRuntime(dataDir)
  if (!runtime) return
  const isTrusted = (event: IpcMainInvokeEvent) => isTrustedSender(event.senderFrame, location)
  registerApi(ipcMain, runtime.dispatch, isTrusted)
  registerFileSaving(
    ipcMain,
    {
      async chooseFile(event, options) {
        const owner = BrowserWindow.fromWebContents(event.sender)
        const choice = owner
          ? await dialog.showSaveDialog(owner, options)
          : await dialog.showSaveDialog(options)
        return choice.canceled ? undefined : choice.filePath
      },
      // The page's own @page rules decide size, margins and the running header and page numbers.
      printToPdf: (event) => event.sender.printToPDF({ preferCSSPageSize: true, printBackground: true }),
      defaultDir: app.getPath('documents')
    },
    isTrusted
  )
  registerPrinting(
    ipcMain,
    {
      printers: async (event) =>
        (await event.sender.getPrintersAsync()).map((printer) => ({
          name: printer.name,
          displayName: printer.displayName || printer.name,
          description: printer.description
        })),
      // The page's print root and @page rule lay it out; the job names the paper too, for drivers that ask.
      print: (event, job) =>
        new Promise((resolve) => {
          event.sender.print(
            {
              silent: job.silent,
              printBackground: true,
              ...(job.deviceName === null ? {} : { deviceName: job.deviceName }),
              pageSize:
                job.page === 'A4' ? 'A4' : { width: job.page.widthMicrons, height: job.page.heightMicrons }
            },
            (printed, reason) => resolve(printed ? { printed: true } : { printed: false, reason })
          )
        })
    },
    isTrusted
  )
  // A sync package from a USB stick: chosen here, imported by the files.importPackage call.
  const opened = runtime
  ipcMain.handle(CHOOSE_PACKAGE_CHANNEL, async (event): Promise<Result<{ uploadId: string } | null>> => {
    if (!isTrusted(event)) return fail('FORBIDDEN', '此页面无权选择文件')
    const owner = BrowserWindow.fromWebContents(event.sender)
    const options = {
      properties: ['openFile' as const],
      filters: [{ name: '同步包', extensions: ['ndjson', 'package'] }]
    }
    const choice = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options)
    if (choice.canceled || choice.filePaths.length === 0) return { ok: true, value: null }
    return { ok: true, value: { uploadId: opened.files.stagePath(choice.filePaths[0]) } }
  })
  // At start and every few minutes, in the background: the counter never waits for it.
  runtime.sync.start()
  const window = createMainWindow({
    preloadPath: join(here, '../preload/index.cjs'),
    devTools: !app.isPackaged
  })
  mainWindow = window
  window.on('closed', () => {
    mainWindow = null
  })
  registerCustomerDisplay(ipcMain, {
    otherDisplays: () => {
      const here = screen.getDisplayMatching(window.getBounds())
      return screen
        .getAllDisplays()
        .filter((display) => display.id !== here.id)
        .map((display) => display.bounds)
    },
    openWindow: (bounds) => {
      const customer = new BrowserWindow(customerWindowOptions(join(here, '../preload/index.cjs'), bounds))
      customer.once('ready-to-show', () => customer.show())
      loadAppPage(customer, location, '/customer-pin').catch(() => customer.close())
      return {
        webContentsId: customer.webContents.id,
        close: () => {
          if (!customer.isDestroyed()) customer.close()
        },
        onClosed: (listener) => customer.on('closed', listener)
      }
    },
    isTrusted,
    isCounterWindow: (event) => mainWindow !== null && event.sender.id === mainWindow.webContents.id
  })
  try {
    await loadAppPage(window, location)
  } catch (error) {
    // A missing or damaged page file: said plainly, not as Electron's uncaught-error dialog.
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unknown'
    stderrLogger.error('app_page_not_loaded', { code })
    dialog.showErrorBox(
      '无法打开柜台界面',
      `柜台程序的界面文件无法载入（${code}），程序文件可能不完整。请重新安装柜台程序，或联系运维人员。本机数据未受影响。`
    )
    app.exit(1)
  }
}

export function bootstrap(): void {
  // An ASCII folder name: some office tools and backup scripts still trip over non-ASCII paths.
  // Set before the single-instance lock, which lives in this folder: otherwise the default,
  // Chinese-named folder is created just to hold the lock.
  app.setPath('userData', join(app.getPath('appData'), 'yibao-counter'))
  // One counter per machine: two windows would read the same card swipe and write the same database.
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  app.enableSandbox()
  // Before ready, or the scheme is not standard (no relative URLs) nor a secure context.
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES])
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
  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => {
      stderrLogger.error('app_not_started', { error: error instanceof Error ? error.name : 'unknown' })
      dialog.showErrorBox(
        '柜台程序无法启动',
        '启动时出现意外错误，本机数据未受影响。请重新启动柜台程序；反复出现请联系运维人员。'
      )
      app.exit(1)
    })
}

bootstrap()
