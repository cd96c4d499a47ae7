import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import { openDatabase } from '../../../db/connection'
import { createPersonalDataCipher } from '../../../db/personal-data'
import { checkChain } from '../../../db/record-chain'
import { FILE_KEY_FILE } from '../../../backend/services/personal-data-key'
import { DATABASE_FILE_NAME } from '../../../backend/runtime'
import { seededRandom } from '../../../fixtures/keystroke-corpus'
import { tempDir } from '../../support/helpers'

const root = join(import.meta.dirname, '../../..')

/**
 * Starts the sale writer and kills it (SIGKILL: no clean-up of any kind) after `killAfter` commits,
 * `extraDelayMs` into the next commit or, with `during: 'void'`, into the next void.
 */
async function sellThenKill(
  dataDir: string,
  killAfter: number,
  extraDelayMs: number,
  offset: number,
  during: 'sale' | 'void'
): Promise<{ committed: string[]; voided: string[] }> {
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
  const voided: string[] = []
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
        if (line.startsWith('VOIDED ')) voided.push(line.slice('VOIDED '.length))
        // Mid-flight: the next sale (or void) is being written when the process dies. A void writes
        // only after the supervisor's PIN is checked (a slow hash): aimed just past that.
        const starting = during === 'sale' ? line === 'COMMITTING' : line.startsWith('VOIDING ')
        if (starting && committed.length >= killAfter && !killing) {
          killing = true
          const approvalMs = during === 'void' ? Number(line.split(' ')[2]) : 0
          setTimeout(() => child.kill('SIGKILL'), Math.max(0, approvalMs - 10 + extraDelayMs))
        }
      }
    })
    child.once('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))
    )
  })
  return { committed, voided }
}

/** Rounds (kills) on one data folder: ten in `npm test`, more in `npm run test:crash`. */
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 10)
/** The longer run (`npm run test:crash`) must have sold at least this many across its kills. */
const MIN_SALES = Number(process.env.CRASH_MIN_SALES ?? 0)

describe('a crash at any moment', () => {
  it('leaves each sale whole or absent, and every sale reported as paid is in the database, restart after restart', async () => {
    const random = seededRandom(5)
    // One folder for every round: each start opens what the last kill left.
    const dataDir = await tempDir()
    let offset = 0
    let sold = 0
    let voids = 0
    for (let round = 0; round < ROUNDS; round++) {
      const reported = await sellThenKill(
        dataDir,
        5 + Math.floor(random() * 40),
        Math.floor(random() * 20),
        offset,
        random() < 0.5 ? 'sale' : 'void'
      )
      const reportedPaid = reported.committed
      const db = openDatabase(join(dataDir, DATABASE_FILE_NAME))
      try {
        expect(await db.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }])
        const sales: Array<{ id: string; total_fen: number; status: string }> = await db('sales').select(
          'id',
          'total_fen',
          'status'
        )
        const cipher = createPersonalDataCipher(
          Buffer.from((await readFile(join(dataDir, FILE_KEY_FILE), 'utf8')).trim(), 'base64')
        )
        const ids = new Set(sales.map((s) => s.id))
        for (const id of reportedPaid) expect(ids.has(id), `reported paid but missing: ${id}`).toBe(true)
        expect(sales.length).toBeGreaterThanOrEqual(sold + reportedPaid.length)
        for (const sale of sales) {
          const lines: number[] = await db('sale_lines').where({ sale_id: sale.id }).pluck('premium_fen')
          expect(lines.length).toBeGreaterThan(0)
          expect(lines.reduce((a, b) => a + b, 0)).toBe(sale.total_fen)
          // A void is whole or absent too: status, released reserve, cancelled upload and audit line together.
          const voided = sale.status === 'voided'
          expect(
            await db('ledger').where({ sale_id: sale.id }).orderBy('id').select('kind', 'amount_fen')
          ).toEqual([
            { kind: 'reserve', amount_fen: -sale.total_fen },
            ...(voided ? [{ kind: 'release', amount_fen: sale.total_fen }] : [])
          ])
          expect(await db('outbox').where({ sale_id: sale.id }).select('kind', 'state')).toEqual([
            { kind: 'sale', state: voided ? 'cancelled' : expect.stringMatching(/^(pending|sent)$/) }
          ])
          expect(await db('audit_log').where({ subject: sale.id, action: 'void' }).count({ n: '*' })).toEqual(
            [{ n: voided ? 1 : 0 }]
          )
        }
        for (const id of reported.voided)
          expect(sales.find((s) => s.id === id)?.status, `reported voided: ${id}`).toBe('voided')
        // The audit chain holds across every kill: each line was linked in its own write.
        expect(await checkChain(db, cipher, 'audit')).toMatchObject({ brokenAt: null })
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
        voids += reported.voided.length
        offset += 50
      } finally {
        await db.destroy()
      }
    }
    expect(sold).toBeGreaterThanOrEqual(Math.max(ROUNDS * 5, MIN_SALES))
    expect(voids).toBeGreaterThan(0)
    process.stdout.write(`crash test: ${ROUNDS} kills, ${sold} sales, ${voids} voids\n`)
  }, 1_800_000)
})
