import type { Session, WebContents, WebFrameMain } from 'electron'
import { CONTENT_SECURITY_POLICY_HEADER } from '../../backend/content-security-policy'
import { isAppOrigin } from './app-protocol'

/**
 * Where the app's own page lives: the built renderer folder served on `app://counter/`, or
 * electron-vite's dev server while developing.
 */
export type AppLocation =
  { readonly kind: 'app'; readonly rendererDir: string } | { readonly kind: 'dev'; readonly url: string }

/**
 * The page to show. `ELECTRON_RENDERER_URL` (set by `npm run dev`) is honoured only in a build
 * that is not packaged: in an installed app whoever sets it could point the window, and the IPC
 * sender check with it, at any origin.
 */
export function appLocation(options: {
  env: NodeJS.ProcessEnv
  isPackaged: boolean
  rendererDir: string
}): AppLocation {
  const devUrl = options.env.ELECTRON_RENDERER_URL
  if (devUrl && !options.isPackaged) return { kind: 'dev', url: devUrl }
  return { kind: 'app', rendererDir: options.rendererDir }
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
  return isAppOrigin(parsed) && (parsed.pathname === '/' || parsed.pathname === '/index.html')
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
