import { spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEMO_OPERATORS } from '../../../db/seeds/demo-population'
import { DEMO_BUNDLE_REGIONS } from '../../../db/seeds/demo-bundles'
import { seededRandom } from '../../../fixtures/keystroke-corpus'
import { openTestRuntime, tempDir, TEST_NOW } from '../../support/helpers'
import { fixedClock } from '../../../core/time'
import { buildLegacyDatabase, LEGACY_SALE_ID } from '../../support/legacy-database'

const root = join(import.meta.dirname, '../../..')
/** Rounds of each test: a few in `npm test`, many in `npm run test:crash`. */
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 8)

/**
 * Starts a terminal on `dataDir` in its own process and kills it (SIGKILL) `afterMs` after it
 * began opening; true when it was killed before it had opened.
 */
async function startThenKill(dataDir: string, afterMs: number): Promise<boolean> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/start-terminal.ts', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  let opened = false
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    if (output.includes('OPENED')) opened = true
    if (output.includes('STARTING') && !output.includes('KILL')) {
      output += 'KILL'
      setTimeout(() => child.kill('SIGKILL'), afterMs)
    }
  })
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]))
  )
  if (signal !== 'SIGKILL' && code !== 0) throw new Error(`the terminal failed to start:\n${output}`)
  return !opened
}

/** What a complete demo terminal holds: every operator, every region's rules. */
async function expectWhole(dataDir: string): Promise<void> {
  const runtime = await openTestRuntime({ dataDir })
  expect((await runtime.db('operators').orderBy('code').pluck('code')).sort()).toEqual(
    DEMO_OPERATORS.map((operator) => operator.code).sort()
  )
  expect((await runtime.db('rule_bundles').pluck('region_code')).sort()).toEqual(
    [...DEMO_BUNDLE_REGIONS].sort()
  )
  expect(await runtime.db.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }])
}

describe('a start killed at any moment opens again, whole', () => {
  it('a first start on a new folder, killed at random (twice in a row), then started again', async () => {
    const random = seededRandom(11)
    let killedMidway = 0
    for (let round = 0; round < ROUNDS; round++) {
      const dataDir = await tempDir()
      for (let kill = 0; kill < 2; kill++)
        if (await startThenKill(dataDir, Math.floor(random() * 300))) killedMidway += 1
      await expectWhole(dataDir)
    }
    // Most kills must land while opening, or the test would prove little.
    expect(killedMidway).toBeGreaterThan(ROUNDS)
  }, 1_800_000)

  it('an upgrade across 0004 killed at random keeps its sale and one pre-upgrade copy', async () => {
    const random = seededRandom(12)
    for (let round = 0; round < Math.ceil((ROUNDS * 3) / 4); round++) {
      const dataDir = await tempDir()
      await buildLegacyDatabase(dataDir, fixedClock(TEST_NOW))
      for (let kill = 0; kill < 2; kill++) await startThenKill(dataDir, Math.floor(random() * 300))
      await expectWhole(dataDir)
      const runtime = await openTestRuntime({ dataDir })
      expect(await runtime.db('sales').where({ id: LEGACY_SALE_ID }).pluck('status')).toEqual(['queued'])
      const copies = (await readdir(join(dataDir, 'backups'))).filter((name) => name.endsWith('.sqlite3'))
      // One copy for each migration that was first pending at some start: retries took no more.
      expect(copies.filter((name) => name.includes('before-0004_personal_data'))).toHaveLength(1)
      expect(new Set(copies.map((name) => name.replace(/^counter-\w+-/, ''))).size).toBe(copies.length)
    }
  }, 1_800_000)
})
