import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ReceiptView } from '../../../core/sale'
import { openHubDatabase } from '../../../hub/db/open'
import { createFaults } from '../../../hub/faults'
import { startHub } from '../../../hub/server'
import { openTestRuntime, recordingLogger, tempDir } from '../../support/helpers'
import { testClock } from '../../support/hub'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'
import { ok, registerTerminal } from '../../support/sync'

/** Typed as the card's password in this test; none may be found anywhere afterwards. */
const PINS = ['802417', '593104']

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}

describe('the card’s password leaves no trace', () => {
  it('is in no file of the terminal (database, WAL, queue file) or the centre, nor in either’s log', async () => {
    const hubDir = await tempDir('hub-trace-')
    const clock = testClock()
    const hubLog = recordingLogger()
    const hubDb = await openHubDatabase(hubDir, { clock })
    const faults = createFaults()
    const hub = await startHub({ db: hubDb, clock, faults, log: hubLog })
    const terminalLog = recordingLogger()
    const runtime = await openTestRuntime({
      clock,
      log: terminalLog,
      syncTuning: { timeoutMs: 5_000, random: () => 0.5 }
    })
    try {
      await registerTerminal(runtime, hub.url)
      const clerk = await onShift(runtime)
      await ok(runtime.dispatch('sync.now', {}, clerk))
      const order = (accountId: number, productCode: string) => ({
        accountId,
        lines: [{ insured: { relation: 'self' as const }, productCode, units: 1 }]
      })
      // Online: the centre opens the block and refuses the digits (the card still has its initial password).
      const online = await ok<ReceiptView>(
        commit(
          runtime,
          clerk,
          order(await accountIdOf(runtime, clerk, 'C33080001'), 'QZ-HQB-2027'),
          'C33080001',
          {
            pin: PINS[0]
          }
        )
      )
      expect(online.centreResult?.rejection?.code).toBe('WRONG_PIN')
      // Offline: sealed in the queue, and in the queue file an agent would carry.
      faults.unavailable = 1_000
      await ok(
        commit(
          runtime,
          clerk,
          order(await accountIdOf(runtime, clerk, 'E21010002'), 'SY-HEALTH-DEMO'),
          'E21010002',
          {
            pin: PINS[1]
          }
        )
      )
      const exported = await runtime.sync.exportQueue(join(runtime.dataDir, 'queue-export.json'))
      expect(exported.items).toBe(1)
      faults.unavailable = 0
      await ok(runtime.dispatch('sync.now', {}, clerk))
    } finally {
      await hub.close()
    }

    const files = [...(await filesUnder(runtime.dataDir)), ...(await filesUnder(hubDir))]
    expect(files.some((file) => file.endsWith('-wal'))).toBe(true)
    expect(files.some((file) => file.endsWith('queue-export.json'))).toBe(true)
    const found: string[] = []
    let control = 0
    for (const file of files) {
      const bytes = await readFile(file)
      // The search finds what is there: the territory the terminal registered with.
      if (bytes.includes('柯城区医保服务大厅')) control += 1
      for (const pin of PINS) if (bytes.includes(pin)) found.push(`${file}: ${pin}`)
    }
    for (const [name, lines] of [
      ['terminal log', terminalLog.lines],
      ['centre log', hubLog.lines]
    ] as const)
      for (const pin of PINS) if (lines.join('\n').includes(pin)) found.push(`${name}: ${pin}`)
    expect(control).toBeGreaterThan(0)
    expect(hubLog.lines.join('\n')).toContain('sale_authorized')
    expect(found).toEqual([])
    await hubDb.destroy()
  })
})
