import { readdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ExportedReportView } from '../../../core/api/contract'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import { openHubDatabase, HUB_DB_FILE } from '../../../hub/db/open'
import { createFaults } from '../../../hub/faults'
import { startHub } from '../../../hub/server'
import { openTestRuntime, recordingLogger, signedIn, tempDir } from '../../support/helpers'
import { exportDemoPackage, testClock } from '../../support/hub'
import { accountIdOf, APPLICANT_MOBILE, commit, onShift } from '../../support/sale-fixtures'
import { ok, registerTerminal } from '../../support/sync'

/**
 * Names, ID numbers and card numbers of the people the terminal serves are in no file it writes
 * (the database sealed, its WAL, the queue file, the package, the reports it exports, the key
 * file's folder) and in no file the centre writes but its own database, which holds the population
 * by nature (docs/architecture.md); nor in either's log (#15).
 */

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}

/** Every value that identifies someone in the demo population, cardholders and family alike, and the applicant's mobile the sales carry. */
const PLANTED = [
  ...DEMO_ACCOUNTS.flatMap((account) => [
    account.cardNumber,
    account.idNumber,
    account.name,
    ...account.family.flatMap((member) => [member.idNumber, member.name])
  ]),
  APPLICANT_MOBILE
]

describe('personal data leaves no trace outside the sealed database', () => {
  it('no name, ID or card number in any file either side writes, or in either log', async () => {
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
    const terminalId = () =>
      runtime
        .db('settings')
        .where({ key: 'terminal_id' })
        .first<{ value: string }>('value')
        .then((row) => row.value)
    try {
      await registerTerminal(runtime, hub.url)
      const clerk = await onShift(runtime)
      // The snapshot download: the whole population of the terminal's regions, sealed as it lands.
      await ok(runtime.dispatch('sync.now', {}, clerk))
      const sell = async (card: string, productCode: string) =>
        ok(
          commit(
            runtime,
            clerk,
            {
              accountId: await accountIdOf(runtime, clerk, card),
              lines: [{ insured: { relation: 'self' }, productCode, units: 1 }]
            },
            card
          )
        )
      await sell('C33080001', 'QZ-HQB-2027')
      faults.unavailable = 1_000
      await sell('E21010002', 'SY-HEALTH-DEMO')
      await runtime.sync.exportQueue(join(runtime.dataDir, 'queue-export.json'))
      faults.unavailable = 0
      await ok(runtime.dispatch('sync.now', {}, clerk))
      const packageFile = join(hubDir, 'agent.package')
      await exportDemoPackage(hubDb, clock, await terminalId(), packageFile)
      await runtime.sync.importPackage(packageFile)
      // The supervisor's day close, exported as the operator would save it.
      const supervisor = await signedIn(runtime, 'supervisor')
      const close = await ok<{ number: number }>(
        runtime.dispatch('report.closeDay', { date: '2026-11-22' }, supervisor)
      )
      for (const format of ['xlsx', 'csv'] as const) {
        const exported = await ok<ExportedReportView>(
          runtime.dispatch(
            'report.export',
            { source: { kind: 'close', number: close.number }, format },
            supervisor
          )
        )
        await writeFile(join(runtime.dataDir, exported.fileName), Buffer.from(exported.base64, 'base64'))
      }
    } finally {
      await hub.close()
    }

    const hubDatabaseFiles = new Set([HUB_DB_FILE, `${HUB_DB_FILE}-wal`, `${HUB_DB_FILE}-shm`])
    const files = [
      ...(await filesUnder(runtime.dataDir)),
      ...(await filesUnder(hubDir)).filter((file) => !hubDatabaseFiles.has(basename(file)))
    ]
    // What is searched is really there: the WAL, the queue file, the package, both exports.
    for (const suffix of ['-wal', 'queue-export.json', 'agent.package', '.xlsx', '.csv'])
      expect(
        files.some((file) => file.endsWith(suffix)),
        suffix
      ).toBe(true)
    const found: string[] = []
    for (const file of files) {
      const bytes = await readFile(file)
      for (const value of PLANTED) if (bytes.includes(value)) found.push(`${file}: ${value.slice(0, 2)}…`)
    }
    for (const [name, lines] of [
      ['terminal log', terminalLog.lines],
      ['centre log', hubLog.lines]
    ] as const) {
      const text = lines.join('\n')
      for (const value of PLANTED) if (text.includes(value)) found.push(`${name}: ${value.slice(0, 2)}…`)
    }
    // The search itself finds what is there: the centre's database does hold the population.
    const centreDatabase = await Promise.all(
      [HUB_DB_FILE, `${HUB_DB_FILE}-wal`].map((name) =>
        readFile(join(hubDir, name)).catch(() => Buffer.alloc(0))
      )
    )
    expect(Buffer.concat(centreDatabase).includes('C33080001')).toBe(true)
    // The mobile went to the centre, for the insurer.
    expect(Buffer.concat(centreDatabase).includes(APPLICANT_MOBILE)).toBe(true)
    expect(found).toEqual([])
    await hubDb.destroy()
  })
})
