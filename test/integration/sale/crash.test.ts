import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../../db/connection'
import { DATABASE_FILE_NAME } from '../../../backend/runtime'
import { seededRandom } from '../../../fixtures/keystroke-corpus'
import { tempDir } from '../../support/helpers'

const root = join(import.meta.dirname, '../../..')

/** Starts the sale writer and kills it (SIGKILL: no clean-up of any kind) after `killAfter` commits. */
async function sellThenKill(
  dataDir: string,
  killAfter: number,
  extraDelayMs: number,
  offset: number
): Promise<string[]> {
  // tsx as a loader in this very process (its CLI would start a second process the kill would miss).
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/sale-writer.ts', dataDir, String(offset)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  const committed: string[] = []
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let killing = false
  await new Promise<void>((resolve, reject) => {
    let buffer = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        if (line.startsWith('COMMITTED ')) committed.push(line.slice('COMMITTED '.length))
        // Mid-flight: the next sale is being written when the process dies.
        if (line === 'COMMITTING' && committed.length >= killAfter && !killing) {
          killing = true
          setTimeout(() => child.kill('SIGKILL'), extraDelayMs)
        }
      }
    })
    child.once('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))
    )
  })
  return committed
}

/** Rounds (kills) on one data folder: ten in `npm test`, more in `npm run test:crash`. */
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 10)

describe('a crash at any moment', () => {
  it('leaves each sale whole or absent, and every sale reported as paid is in the database, restart after restart', async () => {
    const random = seededRandom(5)
    // One folder for every round: each start opens what the last kill left.
    const dataDir = await tempDir()
    let offset = 0
    let sold = 0
    for (let round = 0; round < ROUNDS; round++) {
      const reportedPaid = await sellThenKill(
        dataDir,
        5 + Math.floor(random() * 30),
        Math.floor(random() * 20),
        offset
      )
      const db = openDatabase(join(dataDir, DATABASE_FILE_NAME))
      try {
        expect(await db.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }])
        const sales: Array<{ id: string; total_fen: number }> = await db('sales').select('id', 'total_fen')
        const ids = new Set(sales.map((s) => s.id))
        for (const id of reportedPaid) expect(ids.has(id), `reported paid but missing: ${id}`).toBe(true)
        expect(sales.length).toBeGreaterThanOrEqual(sold + reportedPaid.length)
        for (const sale of sales) {
          const lines: number[] = await db('sale_lines').where({ sale_id: sale.id }).pluck('premium_fen')
          expect(lines.length).toBeGreaterThan(0)
          expect(lines.reduce((a, b) => a + b, 0)).toBe(sale.total_fen)
          expect(await db('ledger').where({ sale_id: sale.id }).select('kind', 'amount_fen')).toEqual([
            { kind: 'reserve', amount_fen: -sale.total_fen }
          ])
          expect(await db('outbox').where({ sale_id: sale.id }).pluck('kind')).toEqual(['sale'])
        }
        // Nothing written for a sale that is not there.
        for (const table of ['sale_lines', 'ledger', 'outbox']) {
          const orphans = await db(table)
            .whereNotIn('sale_id', [...ids])
            .count<Array<{ n: number }>>({ n: '*' })
          expect(orphans, table).toEqual([{ n: 0 }])
        }
        // The centre took the queue while the terminal was down (the offline limits start again).
        await db('outbox')
          .where({ state: 'pending' })
          .update({ state: 'sent', sent_at: new Date().toISOString() })
        await db('sales').whereIn('status', ['queued', 'uploaded']).update({ status: 'accepted' })
        sold = sales.length
        offset += 40
      } finally {
        await db.destroy()
      }
    }
    expect(sold).toBeGreaterThanOrEqual(ROUNDS * 5)
  }, 1_800_000)
})
