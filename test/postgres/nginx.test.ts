import { spawn } from 'node:child_process'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  PROTOCOL_HEADER,
  snapshotEndSchema,
  uploadResponseSchema,
  type SaleItem
} from '../../core/sync/protocol'
import { tempDir } from '../support/helpers'
import { saleFor } from '../support/hub'
import { startHub } from '../support/hub-process'
import { freePort } from '../support/ports'
import { freshPostgresUrl } from '../support/postgres'
import { httpsCall, selfSignedCertificate } from '../support/tls'

/**
 * docs/centre-nginx.conf as an operator deploys it, with only its ports and certificate paths
 * changed: Debian's nginx terminates TLS in front of two centre processes on one PostgreSQL
 * database, and a terminal registers, downloads a snapshot, uploads and asks an authorization
 * through it.
 */

const root = join(import.meta.dirname, '../..')
const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx'

async function startNginx(
  centrePorts: readonly number[],
  tls: { certFile: string; keyFile: string }
): Promise<{ url: string }> {
  const dir = await tempDir('nginx-')
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub))
  const port = await freePort()
  const example = await readFile(join(root, 'docs/centre-nginx.conf'), 'utf8')
  let upstream = 0
  const site = example
    .replace(/server 127\.0\.0\.1:\d+;/g, () => `server 127.0.0.1:${centrePorts[upstream++]};`)
    .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
    .replace('/etc/ssl/yibao/centre.crt', tls.certFile)
    .replace('/etc/ssl/yibao/centre.key', tls.keyFile)
  expect(upstream).toBe(centrePorts.length)
  await writeFile(join(dir, 'centre.conf'), site)
  // What /etc/nginx/nginx.conf gives the included file, with everything in the test's folder.
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/centre.conf;
}
`
  )
  const nginx = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  nginx.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => nginx.once('exit', () => resolve()))
  onTestFinished(async () => {
    nginx.kill('SIGTERM')
    await exited
  })
  const url = `https://127.0.0.1:${port}`
  const tlsCert = await readFile(tls.certFile)
  for (let tries = 0; ; tries++) {
    if (nginx.exitCode !== null)
      throw new Error(
        `nginx exited: ${output}${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`
      )
    const up = await httpsCall(`${url}/v1/health`, tlsCert).catch(() => null)
    if (up?.status === 200) break
    if (tries > 100) throw new Error(`nginx did not answer: ${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { url }
}

describe('the centre behind nginx (docs/centre-nginx.conf)', () => {
  it('carries registration, a streamed snapshot, uploads and authorizations to two centre processes', async () => {
    const databaseUrl = await freshPostgresUrl()
    const centres = await Promise.all([
      startHub(await tempDir('hub-a-'), { env: { DATABASE_URL: databaseUrl } }),
      startHub(await tempDir('hub-b-'), { env: { DATABASE_URL: databaseUrl } })
    ])
    onTestFinished(async () => {
      await Promise.all(centres.map((centre) => centre.kill()))
    })
    const tls = await selfSignedCertificate(await tempDir('nginx-tls-'))
    const { url } = await startNginx(
      centres.map((centre) => centre.port),
      tls
    )
    const ca = tls.cert
    // Registration needs no token: it goes through with the address nginx saw.
    const { generateKeyPairSync } = await import('node:crypto')
    const { newTerminalFileKey } = await import('../../backend/services/sync/files/file-crypto')
    const { publicKey } = generateKeyPairSync('ed25519')
    const registered = await httpsCall(`${url}/v1/terminals`, ca, {
      enrolmentCode: 'DEMO-ALL',
      terminalId: 'T-NGINX001',
      territory: '测试大厅 1 号窗口',
      appVersion: '0.1.0',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      filePublicKeyPem: newTerminalFileKey().publicKeyPem
    })
    expect(registered.status).toBe(201)
    const { token } = JSON.parse(registered.text) as { token: string }
    const authorized = (path: string, body?: unknown) => httpsCallWithToken(`${url}${path}`, ca, token, body)

    const snapshot = await authorized('/v1/snapshot')
    expect(snapshot.status).toBe(200)
    const lines = snapshot.text.trimEnd().split('\n')
    expect(snapshotEndSchema.parse(JSON.parse(lines.at(-1) ?? '')).count).toBe(lines.length - 2)

    // Several uploads at once spread over both processes; each sale settled once.
    const sales: SaleItem[] = Array.from({ length: 6 }, () =>
      saleFor('A53000003', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], { terminalId: 'T-NGINX001' })
    )
    const answers = await Promise.all(
      sales.map((sale) => authorized('/v1/transactions', { terminalId: 'T-NGINX001', items: [sale] }))
    )
    for (const answer of answers) expect(answer.status).toBe(200)
    // nginx took turns: both processes settled some.
    for (const centre of centres) expect(centre.output()).toContain('upload_settled')
    const again = await authorized('/v1/transactions', { terminalId: 'T-NGINX001', items: sales })
    expect(uploadResponseSchema.parse(JSON.parse(again.text)).results.map((r) => r.outcome)).toEqual(
      sales.map(() => 'alreadyAccepted')
    )
    const online = saleFor('A53000003', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
      terminalId: 'T-NGINX001'
    })
    const authorization = await authorized('/v1/authorizations', {
      terminalId: 'T-NGINX001',
      saleId: online.saleId,
      items: [online]
    })
    expect(uploadResponseSchema.parse(JSON.parse(authorization.text)).results[0].outcome).toBe('accepted')

    // The test hooks never reach the outside, and a body over the limit stops at nginx.
    expect((await httpsCall(`${url}/v1/_test/faults`, ca, { unavailable: 1 })).status).toBe(404)
    const tooLarge = await authorized('/v1/transactions', {
      terminalId: 'T-NGINX001',
      padding: 'x'.repeat(9 * 1024 * 1024)
    })
    expect(tooLarge.status).toBe(413)
  }, 120_000)
})

function httpsCallWithToken(url: string, ca: Buffer, token: string, body?: unknown) {
  return httpsCall(url, ca, body, { authorization: `Bearer ${token}`, [PROTOCOL_HEADER]: '2' })
}
