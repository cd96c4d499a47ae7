import type { Session, WebContents, WebFrameMain } from 'electron'
import { CONTENT_SECURITY_POLICY_HEADER } from '../content-security-policy'

/** Where the app's own page lives: the built file, or the dev server while developing. */
export type AppLocation = { readonly kind: 'file'; readonly indexFile: string } | { readonly kind: 'dev'; readonly url: string }

function fileUrlPath(indexFile: string): string {
  return new URL(`file://${indexFile.startsWith('/') ? '' : '/'}${indexFile.replaceAll('\\', '/')}`).pathname
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
  return parsed.protocol === 'file:' && parsed.pathname === fileUrlPath(location.indexFile)
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
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY_HEADER] },
    })
  })
}
