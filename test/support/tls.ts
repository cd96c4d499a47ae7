import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { request } from 'node:https'
import { join } from 'node:path'

/** A self-signed certificate for 127.0.0.1, made by openssl as an operator would. */
export async function selfSignedCertificate(
  dir: string
): Promise<{ cert: Buffer; key: Buffer; certFile: string; keyFile: string }> {
  const certFile = join(dir, 'centre.crt')
  const keyFile = join(dir, 'centre.key')
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1'
    ],
    { encoding: 'utf8' }
  )
  if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`)
  return { cert: await readFile(certFile), key: await readFile(keyFile), certFile, keyFile }
}

/** An HTTPS call trusting only `ca`, as a terminal trusts the province's certificate. */
export function httpsCall(
  url: string,
  ca: Buffer,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      url,
      {
        method: text === undefined ? 'GET' : 'POST',
        ca,
        headers: { ...headers, ...(text === undefined ? {} : { 'content-type': 'application/json' }) }
      },
      (res) => {
        let answer = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (answer += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: answer, headers: res.headers }))
      }
    )
    req.on('error', reject)
    req.end(text)
  })
}
