import type { Knex } from 'knex'
import type { PersonalDataCipher } from '../personal-data'
import { appendClose } from '../record-chain'
import {
  summarise,
  type CloseReportView,
  type DailySummaryView,
  type ReportCancellationRow,
  type ReportSaleRow,
  type ShiftCloseView,
  type SummaryLine
} from '../../core/report/summary'
import type { SaleStatus } from '../../core/sale'

export interface ReportScope {
  /** UTC ISO, inclusive. */
  readonly fromUtc: string
  /** UTC ISO, exclusive. */
  readonly toUtc: string
  readonly terminalId?: string
  readonly operatorCode?: string
}

export type CloseRecord = CloseReportView & { readonly id: number }

export interface NewClose {
  readonly terminalId: string
  readonly kind: 'shift' | 'day'
  readonly businessDate: string
  /** Day close: the business date's UTC bounds; shift close: the shift. */
  readonly select: { readonly fromUtc: string; readonly toUtc: string } | { readonly shiftId: number }
  readonly closedAt: string
  readonly closedBy: number
  readonly late: boolean
  /** A close with no sale is refused, unless this says otherwise and the shift is still open (handed over empty). */
  readonly allowEmpty: boolean
}

export interface ReportsRepository {
  summaryLines(scope: ReportScope): Promise<SummaryLine[]>
  saleRows(scope: ReportScope): Promise<ReportSaleRow[]>
  /** Cooling-off cancellations asked for in the scope's range (by whom: the scope's operator). */
  cancellationRows(scope: ReportScope): Promise<ReportCancellationRow[]>
  /**
   * Numbers the close (max + 1 on the terminal), freezes its summary, marks its sales and, for a
   * shift, ends the shift, all in one transaction; null when there was nothing to close.
   */
  close(input: NewClose): Promise<CloseRecord | null>
  shift(terminalId: string, shiftId: number): Promise<ShiftCloseView | null>
  /** Shifts opened in [fromUtc, toUtc), plus any shift still open or with sales on no shift report. */
  shifts(terminalId: string, range: { fromUtc: string; toUtc: string }): Promise<ShiftCloseView[]>
  list(terminalId: string, range: { from?: string; to?: string }): Promise<CloseRecord[]>
  /** The sales a day close of [fromUtc, toUtc) would take: all of them, and those the centre has not answered. */
  notDayClosed(
    terminalId: string,
    range: { fromUtc: string; toUtc: string }
  ): Promise<{ saleCount: number; unansweredCount: number; unansweredFen: number }>
  find(terminalId: string, number: number): Promise<CloseRecord | null>
}

type LineRow = {
  sale_id: string
  created_at: string
  status: SaleStatus
  operator_code: string
  operator_name: string
  region_code: string
  region_name: string | null
  product_code: string
  product_name: string
  relation: string
  premium_fen: number
  rules_version: number
  policy_sale_id: string | null
}
type SaleListRow = {
  sale_id: string
  created_at: string
  status: SaleStatus
  operator_code: string
  operator_name: string
  region_code: string
  total_fen: number
  line_count: number
}
type ShiftRow = {
  id: number
  operator_code: string
  operator_name: string
  opened_at: string
  closed_at: string | null
  unclosed_count: number
  unclosed_fen: number | null
}
type CloseRow = {
  id: number
  terminal_id: string
  number: number
  kind: 'shift' | 'day'
  business_date: string
  shift_id: number | null
  closed_at: string
  closed_by_code: string
  closed_by_name: string
  late: number | boolean
  sale_count: number
  total_fen: number
  report_json: string
}

function scoped(
  query: Knex.QueryBuilder,
  scope: ReportScope | { saleIds: readonly string[] }
): Knex.QueryBuilder {
  if ('saleIds' in scope) return query.whereIn('s.id', [...scope.saleIds])
  query.where('s.created_at', '>=', scope.fromUtc).andWhere('s.created_at', '<', scope.toUtc)
  if (scope.terminalId !== undefined) query.andWhere('s.terminal_id', scope.terminalId)
  if (scope.operatorCode !== undefined) query.andWhere('o.code', scope.operatorCode)
  return query
}

async function linesOf(
  db: Knex,
  scope: ReportScope | { saleIds: readonly string[] }
): Promise<SummaryLine[]> {
  const rows: LineRow[] = await scoped(
    db('sales as s')
      .join('sale_lines as l', 'l.sale_id', 's.id')
      .join('operators as o', 'o.id', 's.operator_id')
      .leftJoin('regions as r', 'r.code', 's.region_code')
      .select(
        's.id as sale_id',
        's.created_at',
        's.status',
        'o.code as operator_code',
        'o.name as operator_name',
        's.region_code',
        'r.name as region_name',
        'l.product_code',
        'l.product_name',
        'l.insured_relation as relation',
        'l.premium_fen',
        's.rules_version',
        'l.policy_sale_id'
      )
      .orderBy([{ column: 's.created_at' }, { column: 's.id' }, { column: 'l.line_no' }]),
    scope
  )
  return rows.map((r) => ({
    saleId: r.sale_id,
    createdAt: r.created_at,
    status: r.status,
    operatorCode: r.operator_code,
    operatorName: r.operator_name,
    regionCode: r.region_code,
    regionName: r.region_name ?? r.region_code,
    productCode: r.product_code,
    productName: r.product_name,
    relation: r.relation,
    premiumFen: r.premium_fen,
    rulesVersion: r.rules_version,
    kind: r.policy_sale_id === null ? 'new' : 'renewal'
  }))
}

async function salesOf(
  db: Knex,
  scope: ReportScope | { saleIds: readonly string[] }
): Promise<ReportSaleRow[]> {
  const rows: SaleListRow[] = await scoped(
    db('sales as s')
      .join('operators as o', 'o.id', 's.operator_id')
      .select(
        's.id as sale_id',
        's.created_at',
        's.status',
        'o.code as operator_code',
        'o.name as operator_name',
        's.region_code',
        's.total_fen'
      )
      .select(db.raw('(select count(*) from sale_lines l where l.sale_id = s.id) as line_count'))
      .orderBy([{ column: 's.created_at' }, { column: 's.id' }]),
    scope
  )
  return rows.map((r) => ({
    saleId: r.sale_id,
    createdAt: r.created_at,
    status: r.status,
    operatorCode: r.operator_code,
    operatorName: r.operator_name,
    regionCode: r.region_code,
    totalFen: r.total_fen,
    lineCount: Number(r.line_count)
  }))
}

function toClose(row: CloseRow): CloseRecord {
  const frozen = JSON.parse(row.report_json) as { summary: DailySummaryView; sales: ReportSaleRow[] }
  return {
    id: row.id,
    terminalId: row.terminal_id,
    number: row.number,
    kind: row.kind,
    businessDate: row.business_date,
    shiftId: row.shift_id,
    closedAt: row.closed_at,
    closedBy: { code: row.closed_by_code, name: row.closed_by_name },
    late: Boolean(row.late),
    saleCount: row.sale_count,
    totalFen: row.total_fen,
    summary: frozen.summary,
    sales: frozen.sales
  }
}

function shiftsQuery(db: Knex, terminalId: string): Knex.QueryBuilder {
  return db('shifts as sh')
    .join('operators as o', 'o.id', 'sh.operator_id')
    .leftJoin('sales as s', function () {
      this.on('s.shift_id', 'sh.id').andOnNull('s.shift_close_id')
    })
    .where('sh.terminal_id', terminalId)
    .groupBy('sh.id')
    .select('sh.id', 'o.code as operator_code', 'o.name as operator_name', 'sh.opened_at', 'sh.closed_at')
    .select(db.raw('count(s.id) as unclosed_count'), db.raw('sum(s.total_fen) as unclosed_fen'))
    .orderBy('sh.id')
}

function toShift(row: ShiftRow): ShiftCloseView {
  return {
    shiftId: row.id,
    operatorCode: row.operator_code,
    operatorName: row.operator_name,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    unclosedSaleCount: Number(row.unclosed_count),
    unclosedTotalFen: Number(row.unclosed_fen ?? 0)
  }
}

/**
 * Reads for the daily summary and the close reports. A close report is written once and never
 * updated (there is no update here, and the table's triggers refuse one).
 */
export function createReportsRepository(
  db: Knex,
  cipher: PersonalDataCipher,
  reader: Knex = db
): ReportsRepository {
  const closes = () =>
    db('close_reports as c')
      .join('operators as o', 'o.id', 'c.closed_by')
      .select('c.*', 'o.code as closed_by_code', 'o.name as closed_by_name')
  return {
    // The summary reads through the read-only connections, like the rest of what the counter reads.
    summaryLines: (scope) => linesOf(reader, scope),
    saleRows: (scope) => salesOf(reader, scope),
    async cancellationRows(scope) {
      const query = reader('cancellations as c')
        .join('sales as s', 's.id', 'c.sale_id')
        .join('operators as o', 'o.id', 'c.operator_id')
        .join('operators as a', 'a.id', 'c.approved_by')
        .where('c.requested_at', '>=', scope.fromUtc)
        .andWhere('c.requested_at', '<', scope.toUtc)
        .orderBy([{ column: 'c.requested_at' }, { column: 'c.id' }])
        .select<
          Array<{
            id: string
            sale_id: string
            requested_at: string
            refund_fen: number
            status: ReportCancellationRow['status']
            operator_code: string
            operator_name: string
            approver_code: string
          }>
        >(
          'c.id',
          'c.sale_id',
          'c.requested_at',
          'c.refund_fen',
          'c.status',
          'o.code as operator_code',
          'o.name as operator_name',
          'a.code as approver_code'
        )
      if (scope.terminalId !== undefined) void query.andWhere('s.terminal_id', scope.terminalId)
      if (scope.operatorCode !== undefined) void query.andWhere('o.code', scope.operatorCode)
      const rows = await query
      return rows.map((r) => ({
        cancellationId: r.id,
        saleId: r.sale_id,
        requestedAt: r.requested_at,
        refundFen: r.refund_fen,
        status: r.status,
        operatorCode: r.operator_code,
        operatorName: r.operator_name,
        approverCode: r.approver_code
      }))
    },
    async close(input) {
      return db.transaction(async (trx) => {
        const column = input.kind === 'day' ? 'day_close_id' : 'shift_close_id'
        const pick = trx('sales').where({ terminal_id: input.terminalId }).whereNull(column)
        if ('shiftId' in input.select) pick.andWhere('shift_id', input.select.shiftId)
        else
          pick
            .andWhere('created_at', '>=', input.select.fromUtc)
            .andWhere('created_at', '<', input.select.toUtc)
        const saleIds = (await pick.pluck('id')) as string[]
        // An empty report only for a shift still open, decided here, in the write: two hand-overs at
        // once (a double press, a supervisor and the clerk) cannot both end the same shift.
        const stillOpen =
          'shiftId' in input.select &&
          (await trx('shifts').where({ id: input.select.shiftId }).whereNull('closed_at').first('id')) !==
            undefined
        if (saleIds.length === 0 && !(input.allowEmpty && stillOpen)) return null
        const summary = summarise(await linesOf(trx, { saleIds }))
        const sales = await salesOf(trx, { saleIds })
        const [{ last }] = await trx('close_reports')
          .where({ terminal_id: input.terminalId })
          .max<Array<{ last: number | null }>>({ last: 'number' })
        const number = (last ?? 0) + 1
        const id = await appendClose(trx, cipher, {
          terminal_id: input.terminalId,
          number,
          kind: input.kind,
          business_date: input.businessDate,
          shift_id: 'shiftId' in input.select ? input.select.shiftId : null,
          closed_at: input.closedAt,
          closed_by: input.closedBy,
          late: input.late,
          report_json: JSON.stringify({ summary, sales }),
          sale_count: summary.totals.all.saleCount,
          total_fen: summary.totals.all.amountFen
        })
        for (let i = 0; i < saleIds.length; i += 500) {
          await trx('sales')
            .whereIn('id', saleIds.slice(i, i + 500))
            .update({ [column]: id })
        }
        // Handing over ends the shift with its report: never a report for a shift left open, or the reverse.
        if ('shiftId' in input.select)
          await trx('shifts')
            .where({ id: input.select.shiftId })
            .whereNull('closed_at')
            .update({ closed_at: input.closedAt })
        const row = await trx('close_reports as c')
          .join('operators as o', 'o.id', 'c.closed_by')
          .select('c.*', 'o.code as closed_by_code', 'o.name as closed_by_name')
          .where('c.id', id)
          .first<CloseRow>()
        return toClose(row)
      })
    },
    async list(terminalId, range) {
      const query = closes().where('c.terminal_id', terminalId).orderBy('c.number')
      if (range.from !== undefined) query.andWhere('c.business_date', '>=', range.from)
      if (range.to !== undefined) query.andWhere('c.business_date', '<=', range.to)
      return ((await query) as CloseRow[]).map(toClose)
    },
    async notDayClosed(terminalId, { fromUtc, toUtc }) {
      const [row] = (await reader('sales')
        .where({ terminal_id: terminalId })
        .whereNull('day_close_id')
        .andWhere('created_at', '>=', fromUtc)
        .andWhere('created_at', '<', toUtc)
        .select(
          reader.raw('count(*) as sales'),
          reader.raw("sum(case when status in ('queued', 'uploaded') then 1 else 0 end) as unanswered"),
          reader.raw("sum(case when status in ('queued', 'uploaded') then total_fen else 0 end) as fen")
        )) as Array<{ sales: number; unanswered: number | null; fen: number | null }>
      return {
        saleCount: Number(row.sales),
        unansweredCount: Number(row.unanswered ?? 0),
        unansweredFen: Number(row.fen ?? 0)
      }
    },

    async shift(terminalId, shiftId) {
      const row = (await shiftsQuery(reader, terminalId).andWhere('sh.id', shiftId).first()) as
        ShiftRow | undefined
      return row ? toShift(row) : null
    },
    async shifts(terminalId, range) {
      const rows = (await shiftsQuery(reader, terminalId).having(
        reader.raw('(sh.opened_at >= ? and sh.opened_at < ?) or sh.closed_at is null or count(s.id) > 0', [
          range.fromUtc,
          range.toUtc
        ])
      )) as ShiftRow[]
      return rows.map(toShift)
    },
    async find(terminalId, number) {
      const row = (await closes().where({ 'c.terminal_id': terminalId, 'c.number': number }).first()) as
        CloseRow | undefined
      return row ? toClose(row) : null
    }
  }
}
