import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers'
import { call, register } from './helpers'

const root = join(import.meta.dirname, '../..')
const tsx = createRequire(import.meta.url).resolve('tsx/cli')

describe('hub: npm run hub as a child process', () => {
  it('prints its URL and the demo codes, takes faults through /v1/_test/faults, and stops cleanly on SIGTERM', async () => {
    const dataDir = await tempDir()
    const child = spawn(process.execPath, [tsx, 'hub/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HUB_DATA_DIR: dataDir, HUB_TEST_HOOKS: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      let stdout = ''
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`hub did not start: ${stdout}`)), 30_000)
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8')
          const match = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout)
          if (match && stdout.includes('DEMO-310000')) {
            clearTimeout(timer)
            resolve(match[0])
          }
        })
      })
      expect(stdout).toContain('DEMO-ALL')
      expect(stdout).toContain('可反复使用')

      const { token } = await register(url, 'T-CHILD001')
      const set = await call(url, '/v1/_test/faults', {
        body: { unavailable: 1, lockedAccounts: ['53990053000001'] }
      })
      expect(set.json()).toEqual({
        dropResponseAfterCommit: 0,
        unavailable: 1,
        delayMs: 0,
        lockedAccounts: ['53990053000001']
      })
      expect((await call(url, '/v1/rules?region=330800', { token })).status).toBe(503)
      expect((await call(url, '/v1/rules?region=330800', { token })).status).toBe(200)
      const bad = await call(url, '/v1/_test/faults', { body: { unavailable: -1 } })
      expect(bad.status).toBe(400)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  }, 60_000)
})
