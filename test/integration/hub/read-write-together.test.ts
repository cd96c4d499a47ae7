import { describe, expect, it } from 'vitest'
import {
  dialectOf,
  drawnNumbers,
  insertStatements,
  readTogether,
  settlementNumbersQuery,
  updateRows,
  writeTogether
} from '../../../hub/db/dialect'
import { newId, openTestHub } from '../../support/hub'

/**
 * A settlement run reads its facts and writes what it changes in one round trip each on
 * PostgreSQL (hub/db/dialect.ts); SQLite runs the same statements one after another. Both must
 * give the same rows, and a write must land whole or not at all. Runs on both (centre-pg project).
 */

function receivedSale(saleId: string) {
  return {
    sale_id: saleId,
    terminal_id: 'T-TEST',
    operator_code: '1001',
    created_at: '2026-03-01T02:00:00.000Z',
    region_code: '330800',
    rules_region_code: '330800',
    rules_version: 1,
    total_fen: 12_000
  }
}

function linesOf(saleId: string) {
  return [1, 2, 3].map((lineNo) => ({
    sale_id: saleId,
    line_no: lineNo,
    relation: 'self',
    product_code: 'QZ-HMB',
    premium_fen: 4_000,
    instalment_no: null
  }))
}

describe('hub: reads and writes together', () => {
  it('reads several queries in one round trip on PostgreSQL, with the values the queries give alone', async () => {
    const { db } = await openTestHub()
    const postgres = dialectOf(db) === 'postgres'
    const cards: string[] = await db('accounts').orderBy('id').limit(3).pluck('card_number')
    const alone: Array<{ id: number; card_number: string; balance_fen: number; name: string }> = await db(
      'accounts'
    )
      .whereIn('card_number', cards)
      .orderBy('id')
      .select('id', 'card_number', 'balance_fen', 'name')
    expect(alone).toHaveLength(3)
    const statements: string[] = []
    db.on('query', (query: { sql: string }) => statements.push(query.sql))
    const together = await db.transaction(async (trx) => {
      statements.length = 0
      const rows = await readTogether<{
        accounts: typeof alone
        nothing: unknown[]
        none: unknown[]
        numbers: Array<{ n: number | string }>
      }>(trx, {
        accounts: trx('accounts')
          .whereIn('card_number', cards)
          .orderBy('id')
          .select('id', 'card_number', 'balance_fen', 'name'),
        nothing: trx('accounts').where('card_number', 'C00000000').select('id'),
        none: null,
        numbers: settlementNumbersQuery(trx, 3)
      })
      return { rows, asked: statements.length }
    })
    expect(together.rows.accounts).toEqual(alone)
    expect(typeof together.rows.accounts[0].balance_fen).toBe('number')
    expect(together.rows.nothing).toEqual([])
    expect(together.rows.none).toEqual([])
    const numbers = drawnNumbers(together.rows.numbers)
    expect(numbers).toHaveLength(3)
    expect(numbers[1] - numbers[0]).toBe(1)
    expect(numbers[2] - numbers[1]).toBe(1)
    // One round trip on PostgreSQL; SQLite asks each in turn.
    expect(together.asked).toBe(postgres ? 1 : 3)
  })

  it('writes rows that refer to each other at once, a call too big for one statement in several, all or nothing', async () => {
    const { db } = await openTestHub()
    const postgres = dialectOf(db) === 'postgres'
    // 1,200 sales and 3,600 lines: 31,200 bound values, more than one statement takes.
    const saleIds = Array.from({ length: 1_200 }, () => newId())
    const statements: string[] = []
    db.on('query', (query: { sql: string }) => statements.push(query.sql))
    await db.transaction(async (trx) => {
      // Lists of values, 500 rows a statement, in an order they could run in one after another:
      // each sale before the lines that refer to it.
      const slices = <Row>(rows: readonly Row[]) =>
        Array.from({ length: Math.ceil(rows.length / 500) }, (_, i) => rows.slice(i * 500, (i + 1) * 500))
      const parts = [
        ...slices(saleIds.map(receivedSale)).map((rows) => trx('received_sales').insert(rows)),
        ...slices(saleIds.flatMap(linesOf)).map((rows) => trx('received_sale_lines').insert(rows))
      ]
      statements.length = 0
      await writeTogether(trx, parts)
      expect(parts).toHaveLength(11)
      // insertStatements too gives at most 500 rows a statement, as a list of values or as JSON.
      expect(insertStatements(trx, 'received_sales', saleIds.map(receivedSale))).toHaveLength(3)
      expect(statements).toHaveLength(postgres ? 2 : 11)
    })
    const [{ sales }] = await db('received_sales')
      .whereIn('sale_id', saleIds.slice(0, 500))
      .count({ sales: '*' })
    const [{ lines }] = await db('received_sale_lines').count({ lines: '*' })
    expect(Number(sales)).toBe(500)
    expect(Number(lines)).toBe(3_600)

    // A sale already there: the whole call fails, and the transaction leaves nothing of it.
    const fresh = newId()
    await expect(
      db.transaction((trx) =>
        writeTogether(trx, [
          ...insertStatements(trx, 'received_sales', [receivedSale(fresh)]),
          ...insertStatements(trx, 'received_sale_lines', linesOf(fresh)),
          ...insertStatements(trx, 'received_sales', [receivedSale(saleIds[0])])
        ])
      )
    ).rejects.toThrow()
    expect(await db('received_sales').where({ sale_id: fresh }).first()).toBeUndefined()
    expect(await db('received_sale_lines').where({ sale_id: fresh }).first()).toBeUndefined()
  })

  it('inserts and sets many rows each to its own values, text of any characters and whole numbers alike', async () => {
    const { db } = await openTestHub()
    const saleIds = [newId(), newId(), newId()]
    // What an array or JSON literal would trip on: quotes, commas, braces, a backslash, a space,
    // NULL spelt out, characters beyond ASCII.
    const codes = [`a,"b'{}\\ `, 'NULL', '操作员']
    await db.transaction((trx) =>
      writeTogether(trx, [
        ...insertStatements(
          trx,
          'received_sales',
          saleIds.map((saleId) => ({ ...receivedSale(saleId), operator_code: codes[2] }))
        ),
        ...insertStatements(trx, 'received_sale_lines', linesOf(saleIds[2]))
      ])
    )
    const lines: Array<{ instalment_no: number | null; premium_fen: number }> = await db(
      'received_sale_lines'
    )
      .where({ sale_id: saleIds[2] })
      .select('instalment_no', 'premium_fen')
    expect(lines).toEqual([1, 2, 3].map(() => ({ instalment_no: null, premium_fen: 4_000 })))
    await db.transaction((trx) =>
      updateRows(
        trx,
        'received_sales',
        { column: 'sale_id', type: 'text' },
        { operator_code: 'text', total_fen: 'whole' },
        saleIds
          .slice(0, 2)
          .map((saleId, index) => ({ sale_id: saleId, operator_code: codes[index], total_fen: 100 + index }))
      )
    )
    const rows: Array<{ sale_id: string; operator_code: string; total_fen: number }> = await db(
      'received_sales'
    )
      .whereIn('sale_id', saleIds)
      .select('sale_id', 'operator_code', 'total_fen')
    const bySale = new Map(rows.map((row) => [row.sale_id, row]))
    expect(bySale.get(saleIds[0])).toMatchObject({ operator_code: codes[0], total_fen: 100 })
    expect(bySale.get(saleIds[1])).toMatchObject({ operator_code: 'NULL', total_fen: 101 })
    // A row not named is left as it was.
    expect(bySale.get(saleIds[2])).toMatchObject({ operator_code: '操作员', total_fen: 12_000 })
  })
})
