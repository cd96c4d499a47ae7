import { spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { openHubDatabase } from '../../../hub/db/open'
import { InsecureListenError, startHub } from '../../../hub/server'
import { tempDir } from '../../support/helpers'
import { call, register, testClock } from '../../support/hub'
import { centreDatabase } from '../../support/postgres'
import { httpsCall, selfSignedCertificate } from '../../support/tls'

const root = join(import.meta.dirname, '../../..')
const tsx = createRequire(import.meta.url).resolve('tsx/cli')

async function centre(options: Parameters<typeof startHub>[0] extends infer O ? Partial<O> : never = {}) {
  const clock = testClock()
  const database = await centreDatabase()
  const db = await openHubDatabase(await tempDir('hub-net-'), { clock, databaseUrl: database.url })
  const hub = await startHub({ db, clock, ...options })
  onTestFinished(async () => {
    await hub.close()
    await db.destroy()
  })
  return hub
}

describe('the centre on the network', () => {
  it('serves HTTPS with its certificate; a plain-HTTP call to it gets nothing', async () => {
    const tls = await selfSignedCertificate(await tempDir('hub-tls-'))
    const hub = await centre({ tls: { cert: tls.cert, key: tls.key } })
    expect(hub.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const health = await httpsCall(`${hub.url}/v1/health`, tls.cert)
    expect(health.status).toBe(200)
    const refused = await httpsCall(`${hub.url}/v1/terminals`, tls.cert, { enrolmentCode: 'x' })
    expect(refused.status).toBe(400)
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'BAD_REQUEST' } })
    // Without the certificate trusted, no connection at all.
    await expect(httpsCall(`${hub.url}/v1/health`, Buffer.from(''))).rejects.toThrow()
    await expect(fetch(`${hub.url.replace('https', 'http')}/v1/health`)).rejects.toThrow()
  })

  it('refuses to listen beyond this machine without TLS, in the library and from the command line', async () => {
    const clock = testClock()
    const db = await openHubDatabase(await tempDir('hub-net-'), { clock })
    onTestFinished(() => db.destroy())
    await expect(startHub({ db, clock, host: '0.0.0.0' })).rejects.toThrow(InsecureListenError)
    const dataDir = await tempDir('hub-net-')
    const run = spawnSync(process.execPath, [tsx, 'hub/main.ts'], {
      cwd: root,
      env: { ...process.env, HUB_DATA_DIR: dataDir, HUB_HOST: '0.0.0.0', PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000
    })
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('须配置 TLS 证书与私钥')
    const halfTls = spawnSync(process.execPath, [tsx, 'hub/main.ts'], {
      cwd: root,
      env: { ...process.env, HUB_DATA_DIR: dataDir, HUB_TLS_CERT: '/nonexistent.crt', PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000
    })
    expect(halfTls.status).toBe(2)
    expect(halfTls.stderr).toContain('HUB_TLS_CERT 与 HUB_TLS_KEY 须同时设置')
  }, 60_000)

  it('holds back a terminal that calls too often, with when to come back, and not the others', async () => {
    const hub = await centre({
      rateLimits: { terminal: { perSecond: 0.5, burst: 3 }, address: { perSecond: 0.5, burst: 4 } }
    })
    const first = await register(hub.url, 'T-RATE0001')
    const second = await register(hub.url, 'T-RATE0002')
    const statuses: number[] = []
    for (let n = 0; n < 4; n++)
      statuses.push((await call(hub.url, '/v1/rules?region=330800', { token: first.token })).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const held = await call(hub.url, '/v1/rules?region=330800', { token: first.token })
    expect(held.status).toBe(429)
    expect(held.error()).toEqual({ code: 'RATE_LIMITED', message: '本终端请求过于频繁，请 2 秒后再试' })
    expect(held.headers.get('retry-after')).toBe('2')
    // Another terminal is not held back by the first.
    expect((await call(hub.url, '/v1/rules?region=330800', { token: second.token })).status).toBe(200)
    // Calls without a token count against the address: two registrations used two of four.
    const renewals: number[] = []
    for (let n = 0; n < 3; n++)
      renewals.push(
        (
          await call(hub.url, `/v1/terminals/${first.terminalId}/token`, {
            body: { refreshSecret: 'x'.repeat(43) }
          })
        ).status
      )
    expect(renewals).toEqual([401, 401, 429])
  })

  it('closes a connection whose headers do not arrive in time', async () => {
    const hub = await centre({ timeouts: { headersMs: 300 } })
    const port = Number(new URL(hub.url).port)
    const socket = connect(port, '127.0.0.1')
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const started = Date.now()
      socket.on('connect', () => socket.write('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n'))
      socket.on('error', reject)
      socket.on('close', () => resolve(Date.now() - started))
      socket.resume()
      setTimeout(() => reject(new Error('still open after 10 s')), 10_000)
    })
    expect(closedAfter).toBeLessThan(5_000)
  })
})
