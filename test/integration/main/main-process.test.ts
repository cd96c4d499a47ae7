import { generateKeyPairSync } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  API_CHANNEL,
  CHOOSE_PACKAGE_CHANNEL,
  PRINT_CHANNEL,
  PRINTERS_CHANNEL,
  SAVE_FILE_CHANNEL,
  SAVE_PDF_CHANNEL
} from '../../../core/api/channel'
import type { WebFrameMain } from 'electron'
import { CONTENT_SECURITY_POLICY_HEADER } from '../../../backend/content-security-policy'
import { appLocation, isTrustedSender } from '../../../electron/main/security'
import { APP_INDEX_URL, APP_SCHEME_PRIVILEGES, serveAppRequest } from '../../../electron/main/app-protocol'
import { tempDir } from '../../support/helpers'
import * as fake from './fake-electron'
import { until } from '../../support/wait'

vi.mock('electron', async () => await import('./fake-electron'))

const appUrl = `${APP_INDEX_URL}#/counter`

async function bootMainProcess(): Promise<fake.FakeBrowserWindow> {
  vi.resetModules()
  await import('../../../electron/main/index')
  await until(() => expect(fake.FakeBrowserWindow.created).toHaveLength(1))
  return fake.FakeBrowserWindow.created[0]
}

function preventable() {
  return {
    prevented: false,
    preventDefault() {
      this.prevented = true
    }
  }
}

beforeEach(async () => {
  vi.stubEnv('COUNTER_DATA_DIR', await tempDir())
  fake.FakeBrowserWindow.created.length = 0
  fake.app.listeners.clear()
  fake.ipcMain.handlers.clear()
  fake.state.calls.length = 0
  fake.state.singleInstance = true
  fake.state.encryptionAvailable = false
  fake.state.asyncKeyProvider = 'keyring'
  fake.state.storageBackend = 'gnome_libsecret'
  fake.state.keyringLockedFor = 0
  fake.state.isPackaged = false
  fake.state.pageMissing = false
  fake.state.messageBoxAnswers.length = 0
  fake.state.userDataAtLock = undefined
  // Electron's default until the app sets its own: the product name, in Chinese.
  fake.state.paths.set('userData', join(fake.app.getPath('appData'), '医保个账购买商业健康保险柜台'))
  fake.safeStorage.wrapped.length = 0
  fake.state.saveDialogPath = undefined
  fake.state.openDialogPath = undefined
  fake.dialog.saveDialogs.length = 0
  fake.dialog.messageBoxes.length = 0
  fake.dialog.errors.length = 0
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
      preload: expect.stringMatching(/preload[\\/]index\.cjs$/)
    })
    // From the app's own protocol, registered as standard and secure before the app was ready.
    expect(window.loaded.url).toBe(APP_INDEX_URL)
    expect(fake.protocol.privileged).toContainEqual(APP_SCHEME_PRIVILEGES)
    expect(fake.protocol.handlers.has('app')).toBe(true)
    expect(window.options).toMatchObject({ width: 1366, height: 768, show: false })
  })

  it('keeps every page on the app: no navigation away, no new windows, no webviews', async () => {
    await bootMainProcess()
    const contents = new fake.FakeWebContents()
    fake.app.emit('web-contents-created', {}, contents)

    const away = preventable()
    contents.emit('will-navigate', away, 'https://evil.example/')
    expect(away.prevented).toBe(true)
    for (const url of ['file:///etc/passwd', 'app://counter/assets/other.html', 'app://evil/index.html']) {
      const elsewhere = preventable()
      contents.emit('will-navigate', elsewhere, url)
      expect(elsewhere.prevented, url).toBe(true)
    }
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
    defaultSession.headersHandler?.(
      { responseHeaders: { 'X-Other': ['1'] } },
      (reply: { responseHeaders: Record<string, string[]> }) => {
        headers = reply.responseHeaders
      }
    )
    expect(headers).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY_HEADER] })
  })

  it('runs on this computer’s clock whatever COUNTER_TIME says: the demo clock is browser mode’s alone', async () => {
    vi.stubEnv('COUNTER_TIME', '2030-01-01T00:00:00+08:00')
    vi.stubEnv('COUNTER_TIME_MODE', 'fixed')
    await bootMainProcess()
    const handler = fake.ipcMain.handlers.get(API_CHANNEL)
    const before = Date.now()
    const info = (await handler?.({ senderFrame: { url: appUrl, parent: null } }, 'app.info', {})) as {
      ok: true
      value: { now: string; demoClock: boolean }
    }
    expect(info.value.demoClock).toBe(false)
    expect(Date.parse(info.value.now)).toBeGreaterThanOrEqual(before - 1000)
    expect(Date.parse(info.value.now)).toBeLessThanOrEqual(Date.now() + 1000)
  })

  it('answers IPC from the app page with real data, and refuses any other sender', async () => {
    await bootMainProcess()
    const handler = fake.ipcMain.handlers.get(API_CHANNEL)
    expect(handler).toBeDefined()
    const invoke = (senderFrame: unknown, call: string, args: unknown, token?: string) =>
      handler?.({ senderFrame }, call, args, token)
    const appFrame = { url: appUrl, parent: null }

    expect(await invoke(appFrame, 'cardholder.lookup', { input: 'A53000001' })).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' }
    })
    const session = (await invoke(appFrame, 'auth.signIn', { operatorCode: '1001', pin: '111111' })) as {
      ok: true
      value: { token: string }
    }
    const fromApp = await invoke(appFrame, 'cardholder.lookup', { input: 'A53000001' }, session.value.token)
    expect(fromApp).toMatchObject({
      ok: true,
      value: { region: { name: '云南省省本级' }, balanceFen: 180_000 }
    })

    const forbidden = { ok: false, error: { code: 'FORBIDDEN', message: '此页面无权调用柜台功能' } }
    expect(
      await invoke({ url: 'https://evil.example/', parent: null }, 'cardholder.lookup', {
        input: 'A53000001'
      })
    ).toEqual(forbidden)
    expect(
      await invoke({ url: appUrl, parent: { url: appUrl } }, 'cardholder.lookup', { input: 'A53000001' })
    ).toEqual(forbidden)
    expect(await invoke(null, 'cardholder.lookup', { input: 'A53000001' })).toEqual(forbidden)
  })

  it('lists the system’s printers and prints the page to the chosen one, silently; refuses an unknown printer and other pages', async () => {
    await bootMainProcess()
    const appFrame = { url: appUrl, parent: null }
    const jobs: unknown[] = []
    let answer: [boolean, string] = [true, '']
    const sender = {
      getPrintersAsync: () =>
        Promise.resolve([
          { name: 'EPSON_TM_T82', displayName: 'EPSON TM-T82 收据', description: '80mm', options: {} },
          { name: 'HP_A4', displayName: '', description: 'A4 激光', options: {} }
        ]),
      print: (options: unknown, done: (printed: boolean, reason: string) => void) => {
        jobs.push(options)
        done(...answer)
      }
    }
    const printers = (frame: unknown) =>
      fake.ipcMain.handlers.get(PRINTERS_CHANNEL)?.({ senderFrame: frame, sender })
    const print = (frame: unknown, job: unknown) =>
      fake.ipcMain.handlers.get(PRINT_CHANNEL)?.({ senderFrame: frame, sender }, job)

    expect(await printers(appFrame)).toEqual({
      ok: true,
      value: [
        { name: 'EPSON_TM_T82', displayName: 'EPSON TM-T82 收据', description: '80mm' },
        { name: 'HP_A4', displayName: 'HP_A4', description: 'A4 激光' }
      ]
    })
    const roll = { widthMicrons: 80_000, heightMicrons: 190_000 }
    expect(await print(appFrame, { deviceName: 'EPSON_TM_T82', silent: true, page: roll })).toEqual({
      ok: true,
      value: { printed: true }
    })
    expect(jobs).toEqual([
      {
        silent: true,
        printBackground: true,
        deviceName: 'EPSON_TM_T82',
        pageSize: { width: 80_000, height: 190_000 }
      }
    ])
    // A printer the system does not list is never handed to Chromium.
    expect(await print(appFrame, { deviceName: 'Nowhere', silent: true, page: 'A4' })).toMatchObject({
      ok: false,
      error: { code: 'PRINT_FAILED', message: expect.stringContaining('找不到打印机') }
    })
    answer = [false, 'Print job failed']
    expect(await print(appFrame, { deviceName: null, silent: false, page: 'A4' })).toMatchObject({
      ok: false,
      error: { code: 'PRINT_FAILED', message: expect.stringContaining('打印没有完成') }
    })
    expect(await print(appFrame, { deviceName: 'HP_A4', silent: 'yes', page: 'A4' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' }
    })
    const elsewhere = { url: 'https://evil.example/', parent: null }
    expect(await printers(elsewhere)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(await print(elsewhere, { deviceName: null, silent: true, page: 'A4' })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    expect(jobs).toHaveLength(2)
  })

  it('stages a package the operator chose for files.importPackage; Cancel stages nothing; other pages are refused', async () => {
    await bootMainProcess()
    const appFrame = { url: appUrl, parent: null }
    const choose = (frame: unknown) =>
      fake.ipcMain.handlers.get(CHOOSE_PACKAGE_CHANNEL)?.({ senderFrame: frame, sender: {} })
    fake.state.openDialogPath = undefined
    expect(await choose(appFrame)).toEqual({ ok: true, value: null })
    expect(await choose({ url: 'https://evil.example/', parent: null })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    const folder = await tempDir()
    fake.state.openDialogPath = join(folder, 'not-a-package.ndjson')
    await writeFile(fake.state.openDialogPath, 'hello\n')
    const chosen = (await choose(appFrame)) as { ok: true; value: { uploadId: string } }
    expect(chosen.value.uploadId).toMatch(/^[0-9a-f-]{36}$/)
    // The staged file goes through the real import: an agent's call checks it as the CLI would.
    const api = fake.ipcMain.handlers.get(API_CHANNEL)
    const signIn = (await api?.({ senderFrame: appFrame }, 'auth.signIn', {
      operatorCode: '2001',
      pin: '222222'
    })) as {
      value: { token: string }
    }
    expect(
      await api?.(
        { senderFrame: appFrame },
        'files.importPackage',
        { uploadId: chosen.value.uploadId },
        signIn.value.token
      )
    ).toMatchObject({ ok: false, error: { code: expect.stringMatching(/FILE_REFUSED|NOT_REGISTERED/) } })
    fake.state.openDialogPath = undefined
  })

  it('saves the page as a PDF and an export’s bytes where the operator chooses; Cancel writes nothing; other pages and other kinds are refused', async () => {
    await bootMainProcess()
    const folder = await tempDir()
    const appFrame = { url: appUrl, parent: null }
    const pdfBytes = Buffer.from('%PDF-1.7 fake')
    let printed = 0
    const sender = {
      printToPDF: (options: unknown) => (
        printed++,
        expect(options).toEqual({ preferCSSPageSize: true, printBackground: true }),
        Promise.resolve(pdfBytes)
      )
    }
    const savePdf = (frame: unknown, name: unknown) =>
      fake.ipcMain.handlers.get(SAVE_PDF_CHANNEL)?.({ senderFrame: frame, sender }, name)
    const saveFile = (frame: unknown, name: unknown, base64: unknown) =>
      fake.ipcMain.handlers.get(SAVE_FILE_CHANNEL)?.({ senderFrame: frame, sender }, name, base64)

    fake.state.saveDialogPath = join(folder, 'close.pdf')
    expect(await savePdf(appFrame, '日结单-T1-第3号')).toEqual({
      ok: true,
      value: { saved: true, path: join(folder, 'close.pdf') }
    })
    expect(await readFile(join(folder, 'close.pdf'))).toEqual(pdfBytes)
    // The dialog opens in the documents folder with a cleaned-up name and the PDF filter.
    expect(fake.dialog.saveDialogs[0]).toMatchObject({
      defaultPath: expect.stringMatching(/日结单-T1-第3号\.pdf$/),
      filters: [{ extensions: ['pdf'] }]
    })

    fake.state.saveDialogPath = join(folder, 'summary.csv')
    const csv = Buffer.from('\uFEFF网点,柯城\r\n')
    expect(await saveFile(appFrame, '../../日结汇总.csv', csv.toString('base64'))).toEqual({
      ok: true,
      value: { saved: true, path: join(folder, 'summary.csv') }
    })
    expect(await readFile(join(folder, 'summary.csv'))).toEqual(csv)
    expect(fake.dialog.saveDialogs[1].defaultPath).not.toContain('..')

    fake.state.saveDialogPath = undefined
    fake.state.openDialogPath = undefined
    expect(await savePdf(appFrame, 'x')).toEqual({ ok: true, value: { saved: false } })
    expect(printed).toBe(1)

    fake.state.saveDialogPath = join(folder, 'evil.exe')
    expect(await saveFile(appFrame, 'evil.exe', 'AAAA')).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' }
    })
    // Names every object has are not kinds of file.
    for (const name of ['a.constructor', 'a.toString', 'a.__proto__', 'a.hasOwnProperty']) {
      fake.state.saveDialogPath = join(folder, name)
      expect(await saveFile(appFrame, name, 'AAAA'), name).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT' }
      })
    }
    expect(await saveFile({ url: 'https://evil.example/', parent: null }, 'a.csv', 'AAAA')).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    expect(await savePdf({ url: appUrl, parent: appFrame }, 'a')).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    // A place that cannot be written: a Chinese message, nothing claimed saved.
    fake.state.saveDialogPath = join(folder, 'missing-folder', 'a.csv')
    expect(await saveFile(appFrame, 'a.csv', 'AAAA')).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL', message: expect.stringContaining('文件没有保存') }
    })
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
    expect(await handler?.({ senderFrame: { url: appUrl, parent: null } }, 'app.info', {})).toMatchObject({
      ok: true,
      value: { personalDataProtection: 'os' }
    })
  })

  it('falls back to a key file, and says so, when safeStorage cannot encrypt, or encrypts under Chromium’s built-in key while the synchronous backend names a keyring', async () => {
    for (const [available, provider] of [
      [false, 'keyring'],
      [true, 'built-in']
    ] as const) {
      fake.state.encryptionAvailable = available
      fake.state.asyncKeyProvider = provider
      // What the synchronous API reports; the asynchronous API may still have fallen back.
      fake.state.storageBackend = 'gnome_libsecret'
      const dataDir = await tempDir()
      vi.stubEnv('COUNTER_DATA_DIR', dataDir)
      fake.FakeBrowserWindow.created.length = 0
      await bootMainProcess()
      expect(await readdir(dataDir), provider).toContain('personal-data.key')
      expect(await readdir(dataDir), provider).not.toContain('personal-data.key.os')
      const handler = fake.ipcMain.handlers.get(API_CHANNEL)
      expect(await handler?.({ senderFrame: { url: appUrl, parent: null } }, 'app.info', {})).toMatchObject({
        ok: true,
        value: { personalDataProtection: 'file' }
      })
      fake.app.emit('will-quit')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })

  it('waits for a keyring that is still locked at start, then opens as usual', async () => {
    fake.state.encryptionAvailable = true
    await bootMainProcess()
    fake.app.emit('will-quit')
    await new Promise((resolve) => setTimeout(resolve, 50))
    fake.FakeBrowserWindow.created.length = 0

    // Unlocked after two refusals ("temporarily unavailable"): no dialog, no refusal, the same key.
    fake.state.keyringLockedFor = 2
    await bootMainProcess()
    expect(fake.dialog.messageBoxes).toEqual([])
    expect(fake.dialog.errors).toEqual([])
    const handler = fake.ipcMain.handlers.get(API_CHANNEL)
    expect(await handler?.({ senderFrame: { url: appUrl, parent: null } }, 'app.info', {})).toMatchObject({
      ok: true,
      value: { personalDataProtection: 'os' }
    })
  })

  it(
    'says in Chinese when the keyring stays locked, opens on 重试 once it is unlocked, and changes nothing on 退出',
    { timeout: 30_000 },
    async () => {
      fake.state.encryptionAvailable = true
      const dataDir = process.env.COUNTER_DATA_DIR ?? ''
      await bootMainProcess()
      fake.app.emit('will-quit')
      await new Promise((resolve) => setTimeout(resolve, 50))
      const keyBefore = await readFile(join(dataDir, 'personal-data.key.os'))
      // 退出: locked through every wait (about four seconds); the app ends, the key file is as it was, no window.
      fake.FakeBrowserWindow.created.length = 0
      fake.state.keyringLockedFor = 1000
      fake.state.messageBoxAnswers.push(1)
      vi.resetModules()
      await import('../../../electron/main/index')
      await until(() => expect(fake.state.calls).toContain('exit:1'))
      expect(fake.dialog.messageBoxes).toHaveLength(1)
      expect(fake.dialog.messageBoxes[0]).toMatchObject({
        message: '系统密钥环尚未解锁',
        buttons: ['重试', '退出']
      })
      expect(fake.dialog.messageBoxes[0].detail).toContain('数据未被改动')
      expect(fake.dialog.errors).toEqual([])
      expect(fake.FakeBrowserWindow.created).toHaveLength(0)
      expect((await readFile(join(dataDir, 'personal-data.key.os'))).equals(keyBefore)).toBe(true)
      expect(await readdir(dataDir)).not.toContain('personal-data.key')

      // 重试: still locked for the first round, unlocked by the time the operator presses it.
      fake.state.calls.length = 0
      fake.dialog.messageBoxes.length = 0
      fake.state.keyringLockedFor = 1 + 4 // the first try and its four retries
      fake.state.messageBoxAnswers.push(0)
      await bootMainProcess()
      expect(fake.dialog.messageBoxes).toHaveLength(1)
      expect(fake.state.calls).not.toContain('exit:1')
      const handler = fake.ipcMain.handlers.get(API_CHANNEL)
      expect(await handler?.({ senderFrame: { url: appUrl, parent: null } }, 'app.info', {})).toMatchObject({
        ok: true,
        value: { personalDataProtection: 'os' }
      })
    }
  )

  it('does not start a second copy: the first window is focused instead', async () => {
    fake.state.singleInstance = false
    vi.resetModules()
    await import('../../../electron/main/index')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(fake.state.calls).toContain('quit')
    expect(fake.FakeBrowserWindow.created).toHaveLength(0)
  })

  it('takes the single-instance lock in the ASCII data folder, never creating the default Chinese-named one for it', async () => {
    await bootMainProcess()
    expect(fake.state.userDataAtLock).toBe(join(fake.app.getPath('appData'), 'yibao-counter'))
  })

  it('says plainly that the page could not be loaded, instead of an uncaught error, and ends', async () => {
    fake.state.pageMissing = true
    await bootMainProcess()
    await until(() => expect(fake.state.calls).toContain('exit:1'))
    expect(fake.dialog.errors).toEqual([
      { title: '无法打开柜台界面', content: expect.stringContaining('ERR_FILE_NOT_FOUND') }
    ])
    expect(fake.dialog.errors[0].content).toContain('请重新安装柜台程序')
  })

  it('honours the dev server address only when not packaged: an installed app shows its own file and trusts nothing else', async () => {
    vi.stubEnv('ELECTRON_RENDERER_URL', 'https://evil.example/')
    fake.state.isPackaged = true
    // The installer put the centre's keys beside the app: the packaged app reads them from there.
    const resources = await tempDir()
    const { publicKey } = generateKeyPairSync('ed25519')
    await writeFile(
      join(resources, 'trusted-keys.json'),
      JSON.stringify({
        format: 'yibao-trusted-keys/1',
        keys: [{ keyId: 'QZ-centre-2026', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) }]
      })
    )
    Object.defineProperty(process, 'resourcesPath', { value: resources, configurable: true })
    const window = await bootMainProcess()
    expect(window.loaded).toEqual({ url: APP_INDEX_URL })
    const handler = fake.ipcMain.handlers.get(API_CHANNEL)
    const forbidden = { ok: false, error: { code: 'FORBIDDEN', message: '此页面无权调用柜台功能' } }
    expect(
      await handler?.({ senderFrame: { url: 'https://evil.example/', parent: null } }, 'app.info', {})
    ).toEqual(forbidden)
    expect(await handler?.({ senderFrame: { url: appUrl, parent: null } }, 'app.info', {})).toMatchObject({
      ok: true,
      value: { demoData: false, needsSetUp: true, trust: { keyIds: ['QZ-centre-2026'], demoKey: false } }
    })
    const contents = new fake.FakeWebContents()
    fake.app.emit('web-contents-created', {}, contents)
    const away = preventable()
    contents.emit('will-navigate', away, 'https://evil.example/#/counter')
    expect(away.prevented).toBe(true)

    // npm run dev, unpackaged: the dev server it names.
    fake.app.emit('will-quit')
    await new Promise((resolve) => setTimeout(resolve, 50))
    vi.stubEnv('ELECTRON_RENDERER_URL', 'http://localhost:5173/')
    fake.state.isPackaged = false
    fake.FakeBrowserWindow.created.length = 0
    expect((await bootMainProcess()).loaded).toEqual({ url: 'http://localhost:5173/' })
  })

  it('shows a clear error and exits when the data folder cannot be opened', async () => {
    // A data folder "inside" a plain file cannot be created.
    const blocker = join(await tempDir(), 'a-file')
    await writeFile(blocker, '')
    vi.stubEnv('COUNTER_DATA_DIR', join(blocker, 'counter'))
    fake.dialog.errors.length = 0
    vi.resetModules()
    await import('../../../electron/main/index')
    await until(() => expect(fake.state.calls).toContain('exit:1'))
    expect(fake.dialog.errors[0]).toMatchObject({
      title: '无法打开本机数据',
      content: expect.stringContaining(join(blocker, 'counter'))
    })
    expect(fake.FakeBrowserWindow.created).toHaveLength(0)
  })
})

describe('the app:// protocol: the built renderer folder and nothing else', () => {
  async function rendererFolder(): Promise<string> {
    // A folder with a # and a space, as an install folder may have.
    const root = join(await tempDir(), '医保柜台 #2', 'renderer')
    await mkdir(join(root, 'assets'), { recursive: true })
    await writeFile(join(root, 'index.html'), '<!doctype html><title>柜台</title>')
    await writeFile(join(root, 'assets', 'app.js'), 'export {}')
    await writeFile(join(root, '..', 'secret.txt'), 'not for the page')
    return root
  }
  const get = (root: string, url: string, method = 'GET') => serveAppRequest(root, { url, method })

  it('serves the page with its policy, and assets with their types', async () => {
    const root = await rendererFolder()
    const page = await get(root, APP_INDEX_URL)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY_HEADER)
    expect(await page.text()).toContain('柜台')
    expect((await get(root, 'app://counter/')).status).toBe(200)
    const script = await get(root, 'app://counter/assets/app.js')
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(script.headers.get('content-security-policy')).toBeNull()
  })

  it('refuses anything outside the folder, another host, a bad escape and other methods', async () => {
    const root = await rendererFolder()
    for (const url of [
      'app://counter/../secret.txt',
      'app://counter/%2e%2e/secret.txt',
      'app://counter/assets/..%2f..%2fsecret.txt',
      'app://counter/%2F..%2Fsecret.txt',
      'app://counter/missing.js',
      'app://other/index.html'
    ]) {
      const answer = await get(root, url)
      expect(answer.status, url).toBe(404)
      expect(await answer.text(), url).not.toContain('not for the page')
    }
    expect((await get(root, 'app://counter/%E0%A4%A')).status).toBe(400)
    expect((await get(root, APP_INDEX_URL, 'POST')).status).toBe(405)
  })

  it('answers IPC only for the app’s own page at the top level', () => {
    const location = appLocation({ env: {}, isPackaged: true, rendererDir: '/opt/counter/renderer' })
    const frame = (url: string, parent: unknown = null) => ({ url, parent }) as unknown as WebFrameMain
    expect(isTrustedSender(frame(`${APP_INDEX_URL}#/sale`), location)).toBe(true)
    expect(isTrustedSender(frame('app://counter/#/counter'), location)).toBe(true)
    for (const url of [
      'app://counter/assets/app.js',
      'app://other/index.html',
      'file:///opt/counter/renderer/index.html',
      'https://evil.example/index.html'
    ])
      expect(isTrustedSender(frame(url), location), url).toBe(false)
    expect(isTrustedSender(frame(APP_INDEX_URL, frame(APP_INDEX_URL)), location)).toBe(false)
  })
})
