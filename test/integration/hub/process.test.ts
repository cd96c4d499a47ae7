import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../support/helpers'
import { hubCli } from '../../support/hub-cli'
import { call, openTestHub, register } from '../../support/hub'
import { centreDatabase } from '../../support/postgres'

const root = join(import.meta.dirname, '../../..')
const tsx = createRequire(import.meta.url).resolve('tsx/cli')

describe('hub: npm run hub as a child process', () => {
  it('prints its URL and the demo codes, takes faults through /v1/_test/faults, and stops cleanly on SIGTERM', async () => {
    const dataDir = await tempDir()
    const database = await centreDatabase()
    const child = spawn(process.execPath, [tsx, 'hub/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HUB_DATA_DIR: dataDir, HUB_TEST_HOOKS: '1', ...database.env },
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

  it('hands out an enrolment code a terminal then registers with, for its regions only, and refuses it twice', async () => {
    const dataDir = await tempDir()
    const database = await centreDatabase()
    const hub = (...args: string[]) => hubCli(dataDir, database.env, ...args)
    const added = await hub('add-enrolment-code', 'KC-2026-0001', '--regions', '330800,210100')
    expect(added.status).toBe(0)
    expect(added.stdout).toContain('已发放注册码 KC-2026-0001：地区 330800、210100，一次性')
    const again = await hub('add-enrolment-code', 'KC-2026-0001', '--regions', '330800')
    expect(again.status).toBe(1)
    expect(again.stdout).toContain('已存在')
    const bad = await hub('add-enrolment-code', 'KC-2026-0002', '--regions', 'quzhou')
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('add-enrolment-code 需要注册码')
    expect((await hub('prune-removals', '0')).stdout).toContain('已清理第 0 版及以前的删除记录')

    const centre = await openTestHub({ dir: dataDir, databaseUrl: database.url })
    const registered = await register(centre.url, 'T-KECHENG1', 'KC-2026-0001')
    expect([...registered.regionCodes].sort()).toEqual(['210100', '330800'])
    // One terminal per code: the next one is refused.
    await expect(register(centre.url, 'T-KECHENG2', 'KC-2026-0001')).rejects.toThrow(
      /registration failed: 403/
    )
  }, 120_000)
})
