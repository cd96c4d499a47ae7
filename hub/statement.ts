import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { reportCsv } from '../core/report/csv'
import {
  insurerStatement,
  insurersOf,
  owedFen,
  type StatementLine,
  type StatementLineKind,
  type StatementPeriod
} from '../core/report/insurer-statement'
import type { Clock } from '../core/time'
import { workbookOf } from '../backend/shared'
import { hubTrustedKeys } from './file-key'
import { createNames, dayAfter, dayStartUtc } from './office'

/**
 * The lines of the insurers' settlement statements for a period of settlement dates (Shanghai):
 * every line of an accepted sale (a new policy or a yearly instalment), every cooling-off refund
 * and every reversal the centre settled in it. Each insurer is the one its product names in the
 * bundle the sale was made under.
 */
export async function statementLines(db: Knex, period: StatementPeriod): Promise<StatementLine[]> {
  const from = dayStartUtc(period.from)
  const until = dayStartUtc(dayAfter(period.to))
  interface Row {
    sale_id: string
    line_no: number
    settled_at: string
    reference: string | null
    rules_region_code: string
    rules_version: number
    product_code: string
    premium_fen: number
    policy_no: string | null
    instalment_no?: number | null
  }
  const saleLines = (q: Knex.QueryBuilder) =>
    q
      .join('received_sales as s', 's.sale_id', 'r.item_id')
      .join('received_sale_lines as l', 'l.sale_id', 'r.item_id')
      // A new line's policy by its sale line; an instalment's through the payment it made.
      .leftJoin('policies as p', function () {
        this.on('p.sale_id', '=', 'l.sale_id').andOn('p.line_no', '=', 'l.line_no')
      })
      .leftJoin('instalment_payments as ip', function () {
        this.on('ip.sale_id', '=', 'l.sale_id').andOn('ip.line_no', '=', 'l.line_no')
      })
      .leftJoin('policies as pp', 'pp.id', 'ip.policy_id')
      .where({ 'r.type': 'sale', 'r.outcome': 'accepted' })
  // A sale line as the statement shows it, settled at `settledAt` (the acceptance or the reversal).
  const lineOf = (settledAt: string) => [
    'r.item_id as sale_id',
    'l.line_no',
    `${settledAt} as settled_at`,
    'r.reference',
    's.rules_region_code',
    's.rules_version',
    'l.product_code',
    'l.premium_fen',
    'l.instalment_no',
    db.raw('coalesce(p.policy_no, pp.policy_no) as policy_no')
  ]
  const accepted: Row[] = await saleLines(db('item_results as r'))
    .where('r.settled_at', '>=', from)
    .where('r.settled_at', '<', until)
    .select(lineOf('r.settled_at'))
  const reversed: Row[] = await saleLines(db('item_results as r'))
    .join('hub_sales as h', 'h.sale_id', 'r.item_id')
    .where('h.reversed_at', '>=', from)
    .where('h.reversed_at', '<', until)
    .select(lineOf('h.reversed_at'))
  const cancelled: Row[] = await db('policies as p')
    .join('received_sales as s', 's.sale_id', 'p.sale_id')
    .join('item_results as r', 'r.item_id', 'p.sale_id')
    .where('p.cancelled_at', '>=', from)
    .where('p.cancelled_at', '<', until)
    .select(
      'p.sale_id',
      'p.line_no',
      'p.cancelled_at as settled_at',
      'r.reference',
      's.rules_region_code',
      's.rules_version',
      'p.product_code',
      'p.premium_fen',
      'p.policy_no'
    )
  const names = createNames(db, hubTrustedKeys())
  const lines: StatementLine[] = []
  const add = async (rows: readonly Row[], kindOf: (row: Row) => StatementLineKind) => {
    for (const row of rows) {
      const bundle = await names.bundle(row.rules_region_code, row.rules_version)
      const product = bundle?.products.find((p) => p.code === row.product_code)
      lines.push({
        kind: kindOf(row),
        settledAt: row.settled_at,
        reference: row.reference,
        saleId: row.sale_id,
        lineNo: row.line_no,
        regionCode: row.rules_region_code,
        regionName: bundle?.region.name ?? row.rules_region_code,
        productCode: row.product_code,
        productName: product?.name ?? row.product_code,
        // A bundle that no longer verifies (its key retired) still names who is owed: said plainly.
        insurer: product?.insurer ?? '（规则包中未载明保险公司）',
        policyNo: row.policy_no,
        premiumFen: row.premium_fen
      })
    }
  }
  await add(accepted, (row) => (row.instalment_no == null ? 'new' : 'instalment'))
  await add(reversed, () => 'reversal')
  await add(cancelled, () => 'cancellation')
  return lines
}

/**
 * `npm run hub -- statement`: one xlsx and one CSV per insurer (or the one named) into `dir`.
 * Returns the files written, with each statement's total.
 */
export async function writeInsurerStatements(
  db: Knex,
  options: { period: StatementPeriod; dir: string; clock: Clock; insurer?: string }
): Promise<Array<{ insurer: string; files: string[]; lines: number; owedFen: number }>> {
  const lines = await statementLines(db, options.period)
  const insurers = insurersOf(lines).filter(
    (name) => options.insurer === undefined || name === options.insurer
  )
  await mkdir(options.dir, { recursive: true })
  const generatedAt = options.clock.now().toISOString()
  const written = []
  for (const insurer of insurers) {
    const document = insurerStatement(insurer, lines, options.period, generatedAt)
    const base = join(options.dir, document.fileBaseName)
    await writeFile(
      `${base}.xlsx`,
      await workbookOf(document, {
        listTitle: '结算明细',
        summaryWidths: [24, 30, 10, 14, 10, 14, 12, 14, 10, 14, 14],
        listWidths: [20, 12, 22, 38, 6, 10, 16, 26, 14]
      })
    )
    await writeFile(`${base}.csv`, reportCsv(document), 'utf8')
    const own = lines.filter((line) => line.insurer === insurer)
    written.push({
      insurer,
      files: [`${base}.xlsx`, `${base}.csv`],
      lines: own.length,
      owedFen: own.reduce((sum, line) => sum + owedFen(line), 0)
    })
  }
  return written
}
