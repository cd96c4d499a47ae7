import { readFile } from 'node:fs/promises'
import { CONTENT_SECURITY_POLICY_HEADER } from '../../backend/content-security-policy'
import { contentTypeOf, resolveStaticFile } from '../../backend/static-files'

/**
 * The app's page comes from `app://counter/`, a protocol of its own, not from `file://` (Electron's
 * security checklist, item 18): a page on `file://` may read any local file its origin can name,
 * while this protocol serves the built renderer folder and nothing else. Registered as standard
 * and secure (relative URLs, `fetch`, a secure context), before the app is ready.
 */
export const APP_SCHEME = 'app'
export const APP_HOST = 'counter'
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

/** Whether a parsed URL is on the app's protocol and host (Node gives a custom scheme no origin to compare). */
export const isAppOrigin = (url: URL): boolean => url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST

export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true }
} as const

/** Answers one request for `app://counter/…` from the renderer folder `root`; 404 for anything else. */
export async function serveAppRequest(
  root: string,
  request: { url: string; method: string }
): Promise<Response> {
  const refuse = (status: number, message: string) =>
    new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
  let url: URL
  try {
    url = new URL(request.url)
  } catch {
    return refuse(400, '地址不正确')
  }
  if (!isAppOrigin(url)) return refuse(404, '没有这个文件')
  if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, '只接受 GET')
  const found = await resolveStaticFile(root, url.pathname)
  if (!found.ok) return refuse(found.status, found.message)
  const headers: Record<string, string> = {
    'content-type': contentTypeOf(found.file),
    'x-content-type-options': 'nosniff'
  }
  // The policy goes with the page itself: the session's header hook does not see custom protocols.
  if (found.isHtml) headers['content-security-policy'] = CONTENT_SECURITY_POLICY_HEADER
  return new Response(request.method === 'HEAD' ? null : await readFile(found.file), { status: 200, headers })
}
