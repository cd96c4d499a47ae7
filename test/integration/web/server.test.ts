import { mkdir, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY_HEADER } from '../../../backend/content-security-policy'
import { startWebServer, type RunningWebServer } from '../../../backend/web/server'
import { openTestRuntime, recordingLogger, tempDir } from '../../support/helpers'

let server: RunningWebServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

let token = ''

async function start(): Promise<RunningWebServer> {
  const runtime = await openTestRuntime()
  const staticDir = join(await tempDir(), 'renderer')
  await mkdir(join(staticDir, 'assets'), { recursive: true })
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>柜台</title>')
  await writeFile(join(staticDir, 'assets', 'app-1a2b.js'), 'console.log(1)')
  await writeFile(join(staticDir, '..', 'secret.txt'), 'outside the static folder')
  server = await startWebServer({ port: 0, staticDir, dispatch: runtime.dispatch, log: recordingLogger() })
  const signIn = await send(server.port, {
    method: 'POST',
    path: '/api/auth.signIn',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ operatorCode: '1001', pin: '111111' })
  })
  token = (JSON.parse(signIn.body) as { value: { token: string } }).value.token
  return server
}

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw HTTP request, so Host and Origin can be set as a hostile page or rebinding name would. */
function send(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string }
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: { host: `127.0.0.1:${port}`, ...options.headers }
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8')
          })
        )
      }
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

const json = { 'content-type': 'application/json' }
const signedJson = () => ({ ...json, 'x-counter-session': token })

describe('browser-mode server', () => {
  it('listens on loopback only and says where', async () => {
    const { url, port } = await start()
    expect(url).toBe(`http://127.0.0.1:${port}/`)
  })

  it('serves the page with the CSP header and hashed assets as immutable', async () => {
    const { port } = await start()
    const page = await send(port, { path: '/' })
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>柜台</title>')
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY_HEADER)
    const asset = await send(port, { path: '/assets/app-1a2b.js' })
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(asset.headers['cache-control']).toContain('immutable')
  })

  it('never serves a file outside the renderer folder', async () => {
    const { port } = await start()
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const reply = await send(port, { path })
      expect(reply.status, path).toBe(404)
      expect(reply.body).not.toContain('outside the static folder')
    }
  })

  it('answers a malformed % escape with 400 and a Chinese reason, not a server error', async () => {
    const { port } = await start()
    for (const path of ['/%E0%A4%A', '/assets/%zz.js', '/%']) {
      const reply = await send(port, { path })
      expect(reply.status, path).toBe(400)
      expect(reply.body).toContain('转义不正确')
    }
  })

  it('answers API calls with the same results as IPC, for a signed-in operator only', async () => {
    const { port } = await start()
    const anonymous = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: json,
      body: JSON.stringify({ input: 'E21010002' })
    })
    expect(JSON.parse(anonymous.body)).toEqual({
      ok: false,
      error: { code: 'UNAUTHENTICATED', message: '请先登录' }
    })
    const reply = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: signedJson(),
      body: JSON.stringify({ input: 'E21010002' })
    })
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({
      ok: true,
      value: { region: { name: '沈阳市' }, balanceFen: 650_000 }
    })
    const unknown = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: signedJson(),
      body: JSON.stringify({ input: 'Z00000000' })
    })
    expect(JSON.parse(unknown.body)).toMatchObject({ ok: false, error: { code: 'CARD_NOT_FOUND' } })
  })

  it('refuses another host name (DNS rebinding) and another page’s origin', async () => {
    const { port } = await start()
    const body = JSON.stringify({ input: 'E21010002' })
    const rebound = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: { ...json, host: `evil.example:${port}` },
      body
    })
    expect(rebound.status).toBe(403)
    const foreign = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: { ...json, origin: 'http://evil.example' },
      body
    })
    expect(foreign.status).toBe(403)
    expect(foreign.body).not.toContain('沈阳')
    const sameOrigin = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: { ...signedJson(), origin: `http://127.0.0.1:${port}` },
      body
    })
    expect(sameOrigin.status).toBe(200)
  })

  it('refuses a form post, a GET and broken JSON with a Chinese message', async () => {
    const { port } = await start()
    const form = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: { 'content-type': 'text/plain' },
      body: '{"input":"E21010002"}'
    })
    expect(form.status).toBe(415)
    const get = await send(port, { path: '/api/cardholder.lookup' })
    expect(get.status).toBe(405)
    const broken = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: json,
      body: '{"input": '
    })
    expect(broken.status).toBe(400)
    expect(JSON.parse(broken.body)).toEqual({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: '请求内容不是有效的 JSON' }
    })
  })

  it('refuses a body over 1 MiB', async () => {
    const { port } = await start()
    const reply = await send(port, {
      method: 'POST',
      path: '/api/cardholder.lookup',
      headers: json,
      body: JSON.stringify({ input: 'x'.repeat(1_100_000) })
    })
    expect(reply.status).toBe(413)
  })
})
