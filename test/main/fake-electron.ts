import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A stand-in for the `electron` module (Electron's binary cannot run here). It records what the
 * main process asks of it, so tests can assert the window options and the handlers it installs.
 * Its state lives on globalThis: vi.resetModules() re-imports this file for the mocked `electron`,
 * and both copies must record into the same place.
 */

type Handler = (...args: never[]) => unknown
type AnyHandler = (...args: unknown[]) => unknown

export class Emitter {
  readonly listeners = new Map<string, Handler[]>()
  on(event: string, listener: Handler): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener])
    return this
  }
  once(event: string, listener: Handler): this {
    return this.on(event, listener)
  }
  emit(event: string, ...args: unknown[]): unknown[] {
    return (this.listeners.get(event) ?? []).map((listener) => (listener as AnyHandler)(...args))
  }
}

export class FakeBrowserWindow extends Emitter {
  loaded: { file?: string; url?: string } = {}
  constructor(readonly options: Record<string, unknown>) {
    super()
    shared.windows.push(this)
  }
  static get created(): FakeBrowserWindow[] {
    return shared.windows
  }
  /** The window showing a web contents; in these tests, the one window there is. */
  static fromWebContents(): FakeBrowserWindow | null {
    return shared.windows[0] ?? null
  }
  loadFile(file: string): Promise<void> {
    this.loaded = { file }
    return Promise.resolve()
  }
  loadURL(url: string): Promise<void> {
    this.loaded = { url }
    return Promise.resolve()
  }
  isMinimized(): boolean {
    return false
  }
  restore(): void {}
  focus(): void {}
  show(): void {}
}

/** A web contents as `web-contents-created` hands it over. */
export class FakeWebContents extends Emitter {
  windowOpenHandler: ((details: { url: string }) => unknown) | null = null
  setWindowOpenHandler(handler: (details: { url: string }) => unknown): void {
    this.windowOpenHandler = handler
  }
}

function createFake() {
  const state = {
    singleInstance: true,
    isPackaged: false,
    encryptionAvailable: false,
    /** What the next save dialog answers: a path, or undefined for Cancel. */
    saveDialogPath: undefined as string | undefined,
    storageBackend: 'gnome_libsecret',
    calls: [] as string[],
    paths: new Map<string, string>([['appData', join(tmpdir(), 'counter-fake-appdata')]]),
  }

  const app = Object.assign(new Emitter(), {
    get isPackaged() {
      return state.isPackaged
    },
    requestSingleInstanceLock: () => state.singleInstance,
    setPath: (name: string, value: string) => void state.paths.set(name, value),
    getPath: (name: string) => state.paths.get(name) ?? join(tmpdir(), `counter-fake-${name}`),
    getVersion: () => '0.1.0-fake',
    enableSandbox: () => void state.calls.push('enableSandbox'),
    whenReady: () => Promise.resolve(),
    quit: () => void state.calls.push('quit'),
    exit: (code: number) => void state.calls.push(`exit:${code}`),
  })

  const ipcMain = {
    handlers: new Map<string, AnyHandler>(),
    handle(channel: string, handler: AnyHandler) {
      this.handlers.set(channel, handler)
    },
  }

  const defaultSession = {
    permissionRequestHandler: null as AnyHandler | null,
    permissionCheckHandler: null as AnyHandler | null,
    devicePermissionHandler: null as AnyHandler | null,
    headersHandler: null as AnyHandler | null,
    setPermissionRequestHandler(handler: AnyHandler) {
      defaultSession.permissionRequestHandler = handler
    },
    setPermissionCheckHandler(handler: AnyHandler) {
      defaultSession.permissionCheckHandler = handler
    },
    setDevicePermissionHandler(handler: AnyHandler) {
      defaultSession.devicePermissionHandler = handler
    },
    webRequest: {
      onHeadersReceived(handler: AnyHandler) {
        defaultSession.headersHandler = handler
      },
    },
  }

  const dialog = {
    errors: [] as Array<{ title: string; content: string }>,
    saveDialogs: [] as Array<{ defaultPath: string; filters: unknown }>,
    showErrorBox(title: string, content: string) {
      dialog.errors.push({ title, content })
    },
    showSaveDialog(...args: unknown[]) {
      const options = args[args.length - 1] as { defaultPath: string; filters: unknown }
      dialog.saveDialogs.push(options)
      const filePath = state.saveDialogPath
      return Promise.resolve(filePath === undefined ? { canceled: true, filePath: '' } : { canceled: false, filePath })
    },
  }

  const contextBridge = {
    exposed: new Map<string, unknown>(),
    exposeInMainWorld(key: string, api: unknown) {
      contextBridge.exposed.set(key, api)
    },
  }

  const ipcRenderer = {
    invocations: [] as unknown[][],
    invoke(...args: unknown[]) {
      ipcRenderer.invocations.push(args)
      return Promise.resolve({ ok: true, value: 'from-main' })
    },
  }

  /**
   * Reversible but not plain text; it records what it was asked to wrap. Only the asynchronous API
   * (the synchronous one is deprecated in Electron 45, gone in 46): the main process must not use it.
   */
  const safeStorage = {
    wrapped: [] as string[],
    isAsyncEncryptionAvailable: () => Promise.resolve(state.encryptionAvailable),
    getSelectedStorageBackend: () => state.storageBackend,
    encryptStringAsync(plainText: string) {
      if (!state.encryptionAvailable) return Promise.reject(new Error('Encryption is not available.'))
      safeStorage.wrapped.push(plainText)
      return Promise.resolve(Buffer.concat([Buffer.from('v10'), Buffer.from(Buffer.from(plainText, 'utf8').map((byte) => byte ^ 0x5a))]))
    },
    decryptStringAsync(encrypted: Buffer) {
      if (!state.encryptionAvailable) return Promise.reject(new Error('Decryption is not available.'))
      return Promise.resolve({ result: Buffer.from(encrypted.subarray(3).map((byte) => byte ^ 0x5a)).toString('utf8'), shouldReEncrypt: false })
    },
  }

  return { state, app, ipcMain, session: { defaultSession }, dialog, contextBridge, ipcRenderer, safeStorage, windows: [] as FakeBrowserWindow[] }
}

const holder = globalThis as typeof globalThis & { __fakeElectron?: ReturnType<typeof createFake> }
const shared = (holder.__fakeElectron ??= createFake())

export const { state, app, ipcMain, session, dialog, contextBridge, ipcRenderer, safeStorage } = shared
export const BrowserWindow = FakeBrowserWindow
