import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const root = join(import.meta.dirname, '../..')
const tsx = createRequire(import.meta.url).resolve('tsx/cli')

export interface CliRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * `npm run hub -- …` as the centre's staff run it: a process of its own on the data folder (and
 * database, through `env`) of the centre under test. Asynchronous on purpose: a centre running in
 * the test's own process goes on answering meanwhile. With spawnSync it froze for the whole run,
 * and on a slow machine closed its idle keep-alive connections the moment it woke, under the
 * test's next call (ECONNRESET).
 */
export function hubCli(dataDir: string, env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, 'hub/main.ts', ...args], {
      cwd: root,
      env: { ...process.env, HUB_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('error', reject)
    child.once('close', (status) => resolve({ status, stdout, stderr }))
  })
}
