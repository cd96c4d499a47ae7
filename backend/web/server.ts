import { createReadStream } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AppError, fail, type Result } from '../../core/errors'
import type { SessionView } from '../../core/operators'
import type { CounterRuntime } from '../runtime'
import { MAX_PACKAGE_BYTES } from '../services/file-exchange'
import type { Dispatch } from '../api/dispatch'
import { CONTENT_SECURITY_POLICY_HEADER } from '../content-security-policy'
import { contentTypeOf, resolveStaticFile } from '../static-files'
import type { Logger } from '../services/log'

/**
 * Browser mode: the built renderer and the same API dispatcher behind it, over HTTP on loopback.
 * It is how the real UI runs and is tested where Electron cannot; it never listens beyond 127.0.0.1.
 */

const MAX_BODY_BYTES = 1024 * 1024

export interface WebServerOptions {
  /** 0 picks a free port. */
  readonly port: number
  readonly staticDir: string
  readonly dispatch: Dispatch
  readonly log: Logger
  /**
   * `POST /files/package`: a sync package's bytes, streamed to the data folder for
   * `files.importPackage`; only for a signed-in session.
   */
  readonly receivePackage?: (
    body: IncomingMessage,
    sessionToken: string | undefined
  ) => Promise<Result<unknown>>
}

export interface RunningWebServer {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

function sendJson(response: ServerResponse, status: number, body: Result<unknown>): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff'
  })
  response.end(text)
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new HttpRefusal(413, '请求内容过大')
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new HttpRefusal(400, '请求内容不是有效的 JSON')
  }
}

/**
 * `POST /files/package` for a runtime: only an agent's or a supervisor's session may leave a file
 * here (the import call checks again); nobody else fills the data folder.
 */
export function packageReceiver(
  runtime: Pick<CounterRuntime, 'dispatch' | 'files'>
): NonNullable<WebServerOptions['receivePackage']> {
  return async (body, sessionToken) => {
    const session = await runtime.dispatch('auth.session', {}, { transport: 'http', sessionToken })
    if (!session.ok) return session
    if ((session.value as SessionView).operator.role === 'clerk')
      return fail('FORBIDDEN', '文件交换由上门服务专员或主管办理')
    try {
      return { ok: true, value: { uploadId: await runtime.files.receive(body, MAX_PACKAGE_BYTES) } }
    } catch (error) {
      return error instanceof AppError
        ? fail(error.code, error.message)
        : fail('FILE_REFUSED', '文件没有传完')
    }
  }
}

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  let allowedHosts = new Set<string>()
  let allowedOrigins = new Set<string>()

  /** Host and Origin checks stop another web page (or a DNS-rebinding host name) from driving the API. */
  function checkCaller(request: IncomingMessage): void {
    if (!allowedHosts.has(request.headers.host ?? '')) throw new HttpRefusal(403, '只接受本机地址的访问')
    const origin = request.headers.origin
    if (origin !== undefined && !allowedOrigins.has(origin))
      throw new HttpRefusal(403, '不接受其他网页的调用')
  }

  async function serveApi(request: IncomingMessage, response: ServerResponse, call: string): Promise<void> {
    if (request.method !== 'POST') throw new HttpRefusal(405, '接口只接受 POST')
    // A JSON content type cannot be sent cross-origin without a preflight, which this server never grants.
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      throw new HttpRefusal(415, '接口只接受 application/json')
    }
    const args = await readJsonBody(request)
    const token = request.headers['x-counter-session']
    sendJson(
      response,
      200,
      await options.dispatch(call, args, {
        transport: 'http',
        sessionToken: typeof token === 'string' ? token : undefined
      })
    )
  }

  async function servePackage(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST') throw new HttpRefusal(405, '只接受 POST')
    // Not a type a form can send cross-origin without a preflight, which this server never grants.
    if (request.headers['content-type'] !== 'application/octet-stream')
      throw new HttpRefusal(415, '同步包只接受 application/octet-stream')
    const token = request.headers['x-counter-session']
    const receive = options.receivePackage
    if (!receive) throw new HttpRefusal(404, '没有这个地址')
    sendJson(response, 200, await receive(request, typeof token === 'string' ? token : undefined))
  }

  async function serveStatic(
    request: IncomingMessage,
    response: ServerResponse,
    pathname: string
  ): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpRefusal(405, '只接受 GET')
    const found = await resolveStaticFile(options.staticDir, pathname)
    if (!found.ok) throw new HttpRefusal(found.status, found.message)
    const { file, isHtml } = found
    response.writeHead(200, {
      'content-type': contentTypeOf(file),
      'content-length': found.size,
      'x-content-type-options': 'nosniff',
      // Built assets carry a content hash in their names; the page itself is always fetched fresh.
      'cache-control': isHtml ? 'no-cache' : 'public, max-age=31536000, immutable',
      ...(isHtml
        ? { 'content-security-policy': CONTENT_SECURITY_POLICY_HEADER, 'x-frame-options': 'DENY' }
        : {})
    })
    if (request.method === 'HEAD') {
      response.end()
      return
    }
    createReadStream(file).pipe(response)
  }

  const server = createServer((request, response) => {
    const handle = async () => {
      checkCaller(request)
      const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1')
      if (pathname.startsWith('/api/')) await serveApi(request, response, pathname.slice('/api/'.length))
      else if (pathname === '/files/package' && options.receivePackage) await servePackage(request, response)
      else await serveStatic(request, response, pathname)
    }
    handle().catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy()
        return
      }
      if (error instanceof HttpRefusal) {
        sendJson(response, error.status, fail('INVALID_ARGUMENT', error.message))
        return
      }
      options.log.error('http_failed', { error: error instanceof Error ? error.name : 'unknown' })
      sendJson(response, 500, fail('INTERNAL', '系统内部错误，操作未完成。'))
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`])

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
  }
}
