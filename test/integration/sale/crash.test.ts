import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../../db/connection'
import { DATABASE_FILE_NAME } from '../../../backend/runtime'
import { seededRandom } from '../../../fixtures/keystroke-corpus'
import { tempDir } from '../../support/helpers'

const root = join(import.meta.dirname, '../../..')

/** Starts the sale writer and kills it (SIGKILL: no clean-up of any kind) after `killAfter` commits. */
async function sellThenKill(dataDir: string, killAfter: number, extraDelayMs: number): Promise<string[]> {
  // tsx as a loader in this very process (its CLI would start a second process the kill would miss).
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/sale-writer.ts', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const committed: string[] = []
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    let buffer = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines)
        if (line.startsWith('COMMITTED ')) committed.push(line.slice('COMMITTED '.length))
      if (committed.length >= killAfter) {
        // Mid-flight: the next sale is being written when the process dies.
        setTimeout(() => child.kill('SIGKILL'), extraDelayMs)
      }
    })
    child.once('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))
    )
  })
  return committed
}

describe('a crash at any moment', () => {
  it('leaves each sale whole or absent, and every sale reported as paid is in the database', async () => {
    const random = seededRandom(5)
    for (let round = 0; round < 3; round++) {
      const dataDir = await tempDir()
      const reportedPaid = await sellThenKill(
        dataDir,
        5 + Math.floor(random() * 30),
        Math.floor(random() * 7)
      )
      const db = openDatabase(join(dataDir, DATABASE_FILE_NAME))
      try {
        expect(await db.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }])
        const sales: Array<{ id: string; total_fen: number }> = await db('sales').select('id', 'total_fen')
        const ids = new Set(sales.map((s) => s.id))
        for (const id of reportedPaid) expect(ids.has(id), `reported paid but missing: ${id}`).toBe(true)
        expect(sales.length).toBeGreaterThanOrEqual(reportedPaid.length)
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
      } finally {
        await db.destroy()
      }
    }
  }, 120_000)
})
