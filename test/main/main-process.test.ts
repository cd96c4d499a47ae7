import { readdir, readFile, writeFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { API_CHANNEL, SAVE_FILE_CHANNEL, SAVE_PDF_CHANNEL } from '../../core/api/channel'
import { CONTENT_SECURITY_POLICY_HEADER } from '../../electron/content-security-policy'
import { tempDir } from '../helpers'
import * as fake from './fake-electron'

vi.mock('electron', async () => await import('./fake-electron'))

const appIndexFile = join(import.meta.dirname, '../../electron/renderer/index.html')
const appUrl = `${pathToFileURL(appIndexFile).href}#/counter`

async function bootMainProcess(): Promise<fake.FakeBrowserWindow> {
  vi.resetModules()
  await import('../../electron/main/index')
  await vi.waitFor(() => expect(fake.FakeBrowserWindow.created).toHaveLength(1), { timeout: 10_000 })
  return fake.FakeBrowserWindow.created[0]
}

function preventable() {
  return { prevented: false, preventDefault() { this.prevented = true } }
}

beforeEach(async () => {
  vi.stubEnv('COUNTER_DATA_DIR', await tempDir())
  fake.FakeBrowserWindow.created.length = 0
  fake.app.listeners.clear()
  fake.ipcMain.handlers.clear()
  fake.state.calls.length = 0
  fake.state.singleInstance = true
  fake.state.encryptionAvailable = false
  fake.state.storageBackend = 'gnome_libsecret'
  fake.safeStorage.wrapped.length = 0
  fake.state.saveDialogPath = undefined
  fake.dialog.saveDialogs.length = 0
})

afterEach(async () => {
  // Quitting closes the database the main process opened.
  fake.app.emit('will-quit')
  await new Promise((resolve) => setTimeout(resolve, 50))
  vi.unstubAllEnvs()
})

describe('the Electron main process', () => {
  it('opens one window with the security baseline: sandbox, isolation, no Node in the page', async () => {
    const window = await bootMainProcess()
    expect(fake.state.calls).toContain('enableSandbox')
    expect(window.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: expect.stringMatching(/preload[\\/]index\.cjs$/),
    })
    expect(window.loaded.file).toBe(appIndexFile)
    expect(window.options).toMatchObject({ width: 1366, height: 768, show: false })
  })

  it('keeps every page on the app: no navigation away, no new windows, no webviews', async () => {
    await bootMainProcess()
    const contents = new fake.FakeWebContents()
    fake.app.emit('web-contents-created', {}, contents)

    const away = preventable()
    contents.emit('will-navigate', away, 'https://evil.example/')
    expect(away.prevented).toBe(true)
    const otherFile = preventable()
    contents.emit('will-navigate', otherFile, 'file:///etc/passwd')
    expect(otherFile.prevented).toBe(true)
    const ownRoute = preventable()
    contents.emit('will-navigate', ownRoute, appUrl)
    expect(ownRoute.prevented).toBe(false)
    const redirect = preventable()
    contents.emit('will-redirect', redirect, 'http://127.0.0.1:9/')
    expect(redirect.prevented).toBe(true)

    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' })
    const webview = preventable()
    contents.emit('will-attach-webview', webview)
    expect(webview.prevented).toBe(true)
  })

  it('denies every permission request and sends the CSP on every response', async () => {
    await bootMainProcess()
    const { defaultSession } = fake.session
    const decisions: boolean[] = []
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid', 'serial']) {
      defaultSession.permissionRequestHandler?.({}, permission, (granted: boolean) => decisions.push(granted))
    }
    expect(decisions).toEqual([false, false, false, false, false, false])
    expect(defaultSession.permissionCheckHandler?.({}, 'media')).toBe(false)
    expect(defaultSession.devicePermissionHandler?.({})).toBe(false)

    let headers: Record<string, string[]> = {}
    defaultSession.headersHandler?.({ responseHeaders: { 'X-Other': ['1'] } }, (reply: { responseHeaders: Record<string, string[]> }) => {
      headers = reply.responseHeaders
    })
    expect(headers).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY_HEADER] })
  })

  it('answers IPC from the app page with real data, and refuses any other sender', async () => {
    await bootMainProcess()
    const handler = fake.ipcMain.handlers.get(API_CHANNEL)
    expect(handler).toBeDefined()
    const invoke = (senderFrame: unknown, call: string, args: unknown, token?: string) => handler?.({ senderFrame }, call, args, token)
    const appFrame = { url: appUrl, parent: null }

    expect(await invoke(appFrame, 'cardholder.lookup', { input: 'A53000001' })).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } })
    const session = (await invoke(appFrame, 'auth.signIn', { operatorCode: '1001', pin: '111111' })) as { ok: true; value: { token: string } }
    const fromApp = await invoke(appFrame, 'cardholder.lookup', { input: 'A53000001' }, session.value.token)
    expect(fromApp).toMatchObject({ ok: true, value: { region: { name: '云南省省本级' }, balanceFen: 180_000 } })

    const forbidden = { ok: false, error: { code: 'FORBIDDEN', message: '此页面无权调用柜台功能' } }
    expect(await invoke({ url: 'https://evil.example/', parent: null }, 'cardholder.lookup', { input: 'A53000001' })).toEqual(forbidden)
    expect(await invoke({ url: appUrl, parent: { url: appUrl } }, 'cardholder.lookup', { input: 'A53000001' })).toEqual(forbidden)
    expect(await invoke(null, 'cardholder.lookup', { input: 'A53000001' })).toEqual(forbidden)
  })

  it('saves the page as a PDF and an export’s bytes where the operator chooses; Cancel writes nothing; other pages and other kinds are refused', async () => {
    await bootMainProcess()
    const folder = await tempDir()
    const appFrame = { url: appUrl, parent: null }
    const pdfBytes = Buffer.from('%PDF-1.7 fake')
    let printed = 0
    const sender = { printToPDF: (options: unknown) => (printed++, expect(options).toEqual({ preferCSSPageSize: true, printBackground: true }), Promise.resolve(pdfBytes)) }
    const savePdf = (frame: unknown, name: unknown) => fake.ipcMain.handlers.get(SAVE_PDF_CHANNEL)?.({ senderFrame: frame, sender }, name)
    const saveFile = (frame: unknown, name: unknown, base64: unknown) => fake.ipcMain.handlers.get(SAVE_FILE_CHANNEL)?.({ senderFrame: frame, sender }, name, base64)

    fake.state.saveDialogPath = join(folder, 'close.pdf')
    expect(await savePdf(appFrame, '日结单-T1-第3号')).toEqual({ ok: true, value: { saved: true, path: join(folder, 'close.pdf') } })
    expect(await readFile(join(folder, 'close.pdf'))).toEqual(pdfBytes)
    // The dialog opens in the documents folder with a cleaned-up name and the PDF filter.
    expect(fake.dialog.saveDialogs[0]).toMatchObject({ defaultPath: expect.stringMatching(/日结单-T1-第3号\.pdf$/), filters: [{ extensions: ['pdf'] }] })

    fake.state.saveDialogPath = join(folder, 'summary.csv')
    const csv = Buffer.from('\uFEFF网点,柯城\r\n')
    expect(await saveFile(appFrame, '../../日结汇总.csv', csv.toString('base64'))).toEqual({ ok: true, value: { saved: true, path: join(folder, 'summary.csv') } })
    expect(await readFile(join(folder, 'summary.csv'))).toEqual(csv)
    expect(fake.dialog.saveDialogs[1].defaultPath).not.toContain('..')

    fake.state.saveDialogPath = undefined
    expect(await savePdf(appFrame, 'x')).toEqual({ ok: true, value: { saved: false } })
    expect(printed).toBe(1)

    fake.state.saveDialogPath = join(folder, 'evil.exe')
    expect(await saveFile(appFrame, 'evil.exe', 'AAAA')).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(await saveFile({ url: 'https://evil.example/', parent: null }, 'a.csv', 'AAAA')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(await savePdf({ url: appUrl, parent: appFrame }, 'a')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    // A place that cannot be written: a Chinese message, nothing claimed saved.
    fake.state.saveDialogPath = join(folder, 'missing-folder', 'a.csv')
    expect(await saveFile(appFrame, 'a.csv', 'AAAA')).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: expect.stringContaining('文件没有保存') } })
    expect(await readdir(folder)).toEqual(['close.pdf', 'summary.csv'])
  })

  it('keeps the personal-data key wrapped by the OS (safeStorage) when it can encrypt', async () => {
    fake.state.encryptionAvailable = true
    await bootMainProcess()
    const dataDir = process.env.COUNTER_DATA_DIR ?? ''
    expect(await readdir(dataDir)).toContain('personal-data.key.os')
    expect(await readdir(dataDir)).not.toContain('personal-data.key')
    expect(fake.safeStorage.wrapped).toHaveLength(1)
    const handler = fake.ipcMain.handlers.get(API_CHANNEL)
    expect(await handler?.({ senderFrame: { url: appUrl, parent: null } }, 'app.info', {})).toMatchObject({ ok: true, value: { personalDataProtection: 'os' } })
  })

  it('falls back to a key file, and says so, when safeStorage cannot encrypt or only pretends to (Linux basic_text)', async () => {
    for (const [available, backend] of [[false, 'gnome_libsecret'], [true, 'basic_text']] as const) {
      fake.state.encryptionAvailable = available
      fake.state.storageBackend = backend
      const dataDir = await tempDir()
      vi.stubEnv('COUNTER_DATA_DIR', dataDir)
      fake.FakeBrowserWindow.created.length = 0
      // Linux only: elsewhere the backend is not asked.
      const platform = vi.spyOn(process, 'platform', 'get').mockReturnValue('linux')
      try {
        await bootMainProcess()
      } finally {
        platform.mockRestore()
      }
      expect(await readdir(dataDir), backend).toContain('personal-data.key')
      expect(fake.safeStorage.wrapped).toEqual([])
      const handler = fake.ipcMain.handlers.get(API_CHANNEL)
      expect(await handler?.({ senderFrame: { url: appUrl, parent: null } }, 'app.info', {})).toMatchObject({ ok: true, value: { personalDataProtection: 'file' } })
      fake.app.emit('will-quit')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })

  it('does not start a second copy: the first window is focused instead', async () => {
    fake.state.singleInstance = false
    vi.resetModules()
    await import('../../electron/main/index')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(fake.state.calls).toContain('quit')
    expect(fake.FakeBrowserWindow.created).toHaveLength(0)
  })

  it('shows a clear error and exits when the data folder cannot be opened', async () => {
    // A data folder "inside" a plain file cannot be created.
    const blocker = join(await tempDir(), 'a-file')
    await writeFile(blocker, '')
    vi.stubEnv('COUNTER_DATA_DIR', join(blocker, 'counter'))
    fake.dialog.errors.length = 0
    vi.resetModules()
    await import('../../electron/main/index')
    await vi.waitFor(() => expect(fake.state.calls).toContain('exit:1'))
    expect(fake.dialog.errors[0]).toMatchObject({ title: '无法打开本机数据', content: expect.stringContaining(join(blocker, 'counter')) })
    expect(fake.FakeBrowserWindow.created).toHaveLength(0)
  })
})
