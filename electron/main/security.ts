import { posix, win32 } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Session, WebContents, WebFrameMain } from 'electron'
import { CONTENT_SECURITY_POLICY_HEADER } from '../../backend/content-security-policy'

/**
 * Where the app's own page lives: the built file (with the platform's way of comparing paths), or
 * electron-vite's dev server while developing.
 */
export type AppLocation =
  | { readonly kind: 'file'; readonly indexFile: string; readonly windowsPaths: boolean }
  | { readonly kind: 'dev'; readonly url: string }

/**
 * The page to show. `ELECTRON_RENDERER_URL` (set by `npm run dev`) is honoured only in a build
 * that is not packaged: in an installed app whoever sets it could point the window, and the IPC
 * sender check with it, at any origin.
 */
export function appLocation(options: {
  env: NodeJS.ProcessEnv
  isPackaged: boolean
  indexFile: string
  platform: NodeJS.Platform
}): AppLocation {
  const devUrl = options.env.ELECTRON_RENDERER_URL
  if (devUrl && !options.isPackaged) return { kind: 'dev', url: devUrl }
  return { kind: 'file', indexFile: options.indexFile, windowsPaths: options.platform === 'win32' }
}

/**
 * Whether a file URL names this file, compared as the platform compares paths: decoded from the
 * URL (a `#` or a space in the install folder is escaped there), and on Windows without regard to
 * case (Chromium writes the drive letter in capitals whatever the path said).
 */
function isSameFile(url: URL, file: string, windowsPaths: boolean): boolean {
  let path: string
  try {
    path = fileURLToPath(url, { windows: windowsPaths })
  } catch {
    return false // a host on a POSIX file URL, an encoded separator
  }
  if (!windowsPaths) return posix.normalize(path) === posix.normalize(file)
  return win32.normalize(path).toUpperCase() === win32.normalize(file).toUpperCase()
}

/** Only the app's own page, at any hash route, may be shown; nothing else is navigated to. */
export function isAppUrl(url: string, location: AppLocation): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (location.kind === 'dev') return parsed.origin === new URL(location.url).origin
  // A file URL naming a host (file://server/share/…) is another machine's file, whatever its path.
  return (
    parsed.protocol === 'file:' &&
    parsed.host === '' &&
    isSameFile(parsed, location.indexFile, location.windowsPaths)
  )
}

/** IPC is answered only for the app's own top-level page, never for a frame it might embed. */
export function isTrustedSender(frame: WebFrameMain | null | undefined, location: AppLocation): boolean {
  return frame !== null && frame !== undefined && frame.parent === null && isAppUrl(frame.url, location)
}

/** Every web contents: no navigation away, no new windows, no <webview>. */
export function hardenWebContents(contents: WebContents, location: AppLocation): void {
  const refuseForeign = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url, location)) event.preventDefault()
  }
  contents.on('will-navigate', refuseForeign)
  contents.on('will-redirect', refuseForeign)
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
}

/** The session grants no permission (camera, geolocation, notifications, devices …) and sends the CSP. */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
  session.setDevicePermissionHandler(() => false)
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY_HEADER]
      }
    })
  })
}
