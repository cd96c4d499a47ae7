import { stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'

/**
 * The built renderer's files, as browser mode's server and Electron's `app://` protocol both serve
 * them: a URL path resolved inside the renderer folder, never outside it.
 */

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wav': 'audio/wav',
  '.map': 'application/json; charset=utf-8'
}

export const contentTypeOf = (file: string): string =>
  CONTENT_TYPES[extname(file)] ?? 'application/octet-stream'

export type StaticFile =
  | { readonly ok: true; readonly file: string; readonly size: number; readonly isHtml: boolean }
  | { readonly ok: false; readonly status: 400 | 404; readonly message: string }

/** The file a URL path names under `root` (`/` is index.html); 400 for a malformed escape, 404 otherwise. */
export async function resolveStaticFile(root: string, pathname: string): Promise<StaticFile> {
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    // A malformed % escape is the caller's mistake, not the server's.
    return { ok: false, status: 400, message: '地址中的 % 转义不正确' }
  }
  const relative = pathname === '/' ? 'index.html' : decoded.replace(/^\/+/, '')
  const file = normalize(join(root, relative))
  if (!file.startsWith(normalize(root + sep))) return { ok: false, status: 404, message: '没有这个文件' }
  const info = await stat(file).catch(() => null)
  if (!info?.isFile()) return { ok: false, status: 404, message: '没有这个文件' }
  return { ok: true, file, size: info.size, isHtml: extname(file) === '.html' }
}
