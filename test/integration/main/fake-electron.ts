import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from 'node:crypto'
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
  /** As Electron's: rejects with Chromium's error code when the page cannot be loaded. */
  loadURL(url: string): Promise<void> {
    this.loaded = { url }
    return shared.state.pageMissing
      ? Promise.reject(
          Object.assign(new Error(`ERR_FILE_NOT_FOUND (-6) loading '${url}'`), {
            code: 'ERR_FILE_NOT_FOUND',
            errno: -6
          })
        )
      : Promise.resolve()
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

/** Chromium's Linux fallback key ("peanuts"), as its async key provider uses it: AES-128-CBC, an IV of spaces. */
const BUILT_IN_KEY = pbkdf2Sync('peanuts', 'saltysalt', 1, 16, 'sha1')
const IV = Buffer.alloc(16, ' ')

function createFake() {
  const state = {
    singleInstance: true,
    isPackaged: false,
    encryptionAvailable: false,
    /**
     * What safeStorage's asynchronous API encrypts with: the desktop's keyring ('v11', a key only
     * the keyring holds), or Chromium's built-in key ('v10'), which it falls back to when no
     * keyring answers, whatever the synchronous API's backend says.
     */
    asyncKeyProvider: 'keyring' as 'keyring' | 'built-in',
    /** What the synchronous API reports: the app must not take this for the asynchronous API's protection. */
    storageBackend: 'gnome_libsecret',
    /** Operations rejected as "temporarily unavailable" before the keyring answers: a locked keyring. */
    keyringLockedFor: 0,
    /** What the next save dialog answers: a path, or undefined for Cancel. */
    saveDialogPath: undefined as string | undefined,
    openDialogPath: undefined as string | undefined,
    /** The index of the button the next message boxes answer with, in turn. */
    messageBoxAnswers: [] as number[],
    /** The page file cannot be loaded (a damaged install). */
    pageMissing: false,
    /** The userData folder when the single-instance lock was asked for (the lock lives there). */
    userDataAtLock: undefined as string | undefined,
    calls: [] as string[],
    paths: new Map<string, string>([['appData', join(tmpdir(), 'counter-fake-appdata')]])
  }
  /** The keyring's own key: stays the same for the run, like a user's login keyring. */
  const keyringKey = randomBytes(16)

  const app = Object.assign(new Emitter(), {
    requestSingleInstanceLock: () => {
      state.userDataAtLock = state.paths.get('userData')
      return state.singleInstance
    },
    setPath: (name: string, value: string) => void state.paths.set(name, value),
    getPath: (name: string) => state.paths.get(name) ?? join(tmpdir(), `counter-fake-${name}`),
    getVersion: () => '0.1.0-fake',
    enableSandbox: () => void state.calls.push('enableSandbox'),
    whenReady: () => Promise.resolve(),
    quit: () => void state.calls.push('quit'),
    exit: (code: number) => void state.calls.push(`exit:${code}`)
  })
  // A getter of its own: Object.assign would have copied the value once.
  Object.defineProperty(app, 'isPackaged', { get: () => state.isPackaged })

  const ipcMain = {
    handlers: new Map<string, AnyHandler>(),
    handle(channel: string, handler: AnyHandler) {
      this.handlers.set(channel, handler)
    }
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
      }
    }
  }

  const dialog = {
    errors: [] as Array<{ title: string; content: string }>,
    saveDialogs: [] as Array<{ defaultPath: string; filters: unknown }>,
    messageBoxes: [] as Array<{ title: string; message: string; detail: string; buttons: string[] }>,
    showErrorBox(title: string, content: string) {
      dialog.errors.push({ title, content })
    },
    showMessageBox(options: { title: string; message: string; detail: string; buttons: string[] }) {
      dialog.messageBoxes.push(options)
      return Promise.resolve({
        response: state.messageBoxAnswers.shift() ?? options.buttons.length - 1,
        checkboxChecked: false
      })
    },
    showOpenDialog() {
      const filePath = state.openDialogPath
      return Promise.resolve(
        filePath === undefined
          ? { canceled: true, filePaths: [] }
          : { canceled: false, filePaths: [filePath] }
      )
    },
    showSaveDialog(...args: unknown[]) {
      const options = args[args.length - 1] as { defaultPath: string; filters: unknown }
      dialog.saveDialogs.push(options)
      const filePath = state.saveDialogPath
      return Promise.resolve(
        filePath === undefined ? { canceled: true, filePath: '' } : { canceled: false, filePath }
      )
    }
  }

  const contextBridge = {
    exposed: new Map<string, unknown>(),
    exposeInMainWorld(key: string, api: unknown) {
      contextBridge.exposed.set(key, api)
    }
  }

  const ipcRenderer = {
    invocations: [] as unknown[][],
    invoke(...args: unknown[]) {
      ipcRenderer.invocations.push(args)
      return Promise.resolve({ ok: true, value: 'from-main' })
    }
  }

  /**
   * safeStorage's asynchronous API as Chromium implements it on Linux: a provider prefix, then
   * AES-128-CBC under the provider's key. It records what it was asked to wrap. Only the
   * asynchronous API exists here (the synchronous one is deprecated in Electron 45, gone in 46).
   */
  const providerKeys: Record<string, Buffer> = { v10: BUILT_IN_KEY, v11: keyringKey }
  const locked = () => {
    if (state.keyringLockedFor <= 0) return false
    state.keyringLockedFor--
    return true
  }
  const safeStorage = {
    wrapped: [] as string[],
    isAsyncEncryptionAvailable: () => Promise.resolve(state.encryptionAvailable),
    getSelectedStorageBackend: () => state.storageBackend,
    encryptStringAsync(plainText: string) {
      if (!state.encryptionAvailable) return Promise.reject(new Error('Encryption is not available.'))
      if (locked()) return Promise.reject(new Error('Encryption is temporarily unavailable.'))
      safeStorage.wrapped.push(plainText)
      const prefix = state.asyncKeyProvider === 'keyring' ? 'v11' : 'v10'
      const cipher = createCipheriv('aes-128-cbc', providerKeys[prefix], IV)
      return Promise.resolve(
        Buffer.concat([Buffer.from(prefix), cipher.update(plainText, 'utf8'), cipher.final()])
      )
    },
    decryptStringAsync(encrypted: Buffer) {
      if (!state.encryptionAvailable) return Promise.reject(new Error('Decryption is not available.'))
      if (locked()) return Promise.reject(new Error('Decryption is temporarily unavailable.'))
      const prefix = encrypted.subarray(0, 3).toString()
      try {
        const decipher = createDecipheriv('aes-128-cbc', providerKeys[prefix], IV)
        const result = Buffer.concat([decipher.update(encrypted.subarray(3)), decipher.final()]).toString(
          'utf8'
        )
        return Promise.resolve({
          result,
          shouldReEncrypt: prefix !== (state.asyncKeyProvider === 'keyring' ? 'v11' : 'v10')
        })
      } catch {
        return Promise.reject(
          new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.')
        )
      }
    }
  }

  const protocol = {
    privileged: [] as unknown[],
    handlers: new Map<string, (request: Request) => Promise<Response>>(),
    registerSchemesAsPrivileged(schemes: unknown[]) {
      // Electron accepts this only before the app is ready, once.
      state.calls.push('registerSchemesAsPrivileged')
      this.privileged.push(...schemes)
    },
    handle(scheme: string, handler: (request: Request) => Promise<Response>) {
      this.handlers.set(scheme, handler)
    }
  }

  return {
    state,
    app,
    protocol,
    ipcMain,
    session: { defaultSession },
    dialog,
    contextBridge,
    ipcRenderer,
    safeStorage,
    windows: [] as FakeBrowserWindow[]
  }
}

const holder = globalThis as typeof globalThis & { __fakeElectron?: ReturnType<typeof createFake> }
const shared = (holder.__fakeElectron ??= createFake())

export const { state, app, protocol, ipcMain, session, dialog, contextBridge, ipcRenderer, safeStorage } =
  shared
export const BrowserWindow = FakeBrowserWindow
