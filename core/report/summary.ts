import type { Fen } from '../money'
import { SALE_STATUSES, type SaleStatus } from '../sale'

/**
 * The daily summary (日结), computed from one line per sale line: pure, no I/O, no personal data
 * (relation, product and amounts only; operator names are the staff's own).
 *
 * What counts:
 * - `all` counts every sale in scope whatever its status, so it reconciles fen for fen with the
 *   transaction list (which shows every sale, voided and rejected ones included).
 * - `net` leaves out voided sales (the money was released) and sales the centre rejected (never
 *   settled): what the counter actually took or will settle. Queued, uploaded and accepted count.
 * - Every group carries both, and the groups of one dimension add up to the totals: amounts and
 *   line counts for every dimension; sale counts for the dimensions a sale belongs to exactly once
 *   (operator, region, status, rule bundle). A sale may hold several products and relations, so
 *   for product and relation `saleCount` is the number of sales with such a line and does not add up.
 */
export interface SummaryLine {
  readonly saleId: string
  readonly createdAt: string
  readonly status: SaleStatus
  readonly operatorCode: string
  readonly operatorName: string
  readonly regionCode: string
  readonly regionName: string
  readonly productCode: string
  readonly productName: string
  readonly relation: string
  readonly premiumFen: Fen
  readonly rulesVersion: number
  /** A new policy (新单), or a yearly instalment of a policy held already (续期). */
  readonly kind: SaleKind
}

export const SALE_KINDS = ['new', 'renewal'] as const
export type SaleKind = (typeof SALE_KINDS)[number]
export const SALE_KIND_NAMES: Readonly<Record<SaleKind, string>> = { new: '新单', renewal: '续期' }

export interface SummaryFigures {
  readonly saleCount: number
  readonly lineCount: number
  readonly amountFen: Fen
}

export interface SummaryGroup {
  readonly key: string
  readonly name: string
  readonly all: SummaryFigures
  readonly net: SummaryFigures
}

export interface DailySummaryView {
  readonly totals: { readonly all: SummaryFigures; readonly net: SummaryFigures }
  readonly byOperator: readonly SummaryGroup[]
  readonly byProduct: readonly SummaryGroup[]
  readonly byRegion: readonly SummaryGroup[]
  readonly byRelation: readonly SummaryGroup[]
  /** Every status, in SALE_STATUSES order, zero when none. */
  readonly byStatus: readonly SummaryGroup[]
  /** 新单 and 续期, in SALE_KINDS order, zero when none; absent in closes written before instalments. */
  readonly byKind?: readonly SummaryGroup[]
  /** The rule bundles the sales were decided under: key "regionCode/version". */
  readonly rulesVersions: ReadonlyArray<
    SummaryGroup & { readonly regionCode: string; readonly version: number }
  >
}

/** Not counted in `net`: voided (money released) and rejected by the centre (never settled). */
export const NOT_NET: readonly SaleStatus[] = ['voided', 'rejected']

export function countsInNet(status: SaleStatus): boolean {
  return !NOT_NET.includes(status)
}

class Tally {
  readonly sales = new Set<string>()
  lineCount = 0
  amountFen = 0
  readonly netSales = new Set<string>()
  netLineCount = 0
  netAmountFen = 0

  add(line: SummaryLine): void {
    if (!Number.isSafeInteger(line.premiumFen))
      throw new RangeError(`保费必须是以分为单位的整数：${line.premiumFen}`)
    this.sales.add(line.saleId)
    this.lineCount += 1
    this.amountFen += line.premiumFen
    if (countsInNet(line.status)) {
      this.netSales.add(line.saleId)
      this.netLineCount += 1
      this.netAmountFen += line.premiumFen
    }
  }

  figures(): { all: SummaryFigures; net: SummaryFigures } {
    return {
      all: { saleCount: this.sales.size, lineCount: this.lineCount, amountFen: this.amountFen },
      net: { saleCount: this.netSales.size, lineCount: this.netLineCount, amountFen: this.netAmountFen }
    }
  }
}

function groupBy(
  lines: readonly SummaryLine[],
  keyOf: (line: SummaryLine) => string,
  nameOf: (line: SummaryLine) => string
): SummaryGroup[] {
  const groups = new Map<string, { name: string; tally: Tally }>()
  for (const line of lines) {
    const key = keyOf(line)
    let group = groups.get(key)
    if (!group) {
      group = { name: nameOf(line), tally: new Tally() }
      groups.set(key, group)
    }
    group.tally.add(line)
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, { name, tally }]) => ({ key, name, ...tally.figures() }))
}

/** Chinese status names for the summary, the printout and the exports: the screens' words (i18n `saleStatus`), so paper and screen match. */
export const STATUS_NAMES: Readonly<Record<SaleStatus, string>> = {
  queued: '待上传',
  uploaded: '待确认',
  accepted: '已受理',
  rejected: '被拒',
  voided: '已作废'
}

export function summarise(lines: readonly SummaryLine[]): DailySummaryView {
  const total = new Tally()
  for (const line of lines) total.add(line)
  const byStatus = groupBy(
    lines,
    (l) => l.status,
    (l) => STATUS_NAMES[l.status]
  )
  const byKind = groupBy(
    lines,
    (l) => l.kind,
    (l) => SALE_KIND_NAMES[l.kind]
  )
  return {
    totals: total.figures(),
    byOperator: groupBy(
      lines,
      (l) => l.operatorCode,
      (l) => l.operatorName
    ),
    byProduct: groupBy(
      lines,
      (l) => l.productCode,
      (l) => l.productName
    ),
    byRegion: groupBy(
      lines,
      (l) => l.regionCode,
      (l) => l.regionName
    ),
    byRelation: groupBy(
      lines,
      (l) => l.relation,
      (l) => l.relation
    ),
    byStatus: SALE_STATUSES.map((status) => {
      const found = byStatus.find((g) => g.key === status)
      const zero = { saleCount: 0, lineCount: 0, amountFen: 0 }
      return found ?? { key: status, name: STATUS_NAMES[status], all: zero, net: zero }
    }),
    byKind: SALE_KINDS.map((kind) => {
      const found = byKind.find((g) => g.key === kind)
      const zero = { saleCount: 0, lineCount: 0, amountFen: 0 }
      return found ?? { key: kind, name: SALE_KIND_NAMES[kind], all: zero, net: zero }
    }),
    rulesVersions: groupBy(
      lines,
      (l) => `${l.regionCode}/${l.rulesVersion}`,
      (l) => `${l.regionName} 第 ${l.rulesVersion} 版`
    ).map((group) => {
      const [regionCode, version] = group.key.split('/')
      return { ...group, regionCode, version: Number(version) }
    })
  }
}

/**
 * The checks a summary must pass: each dimension's groups add up to the totals, fen for fen.
 * Returns what does not reconcile (empty when all is well); tests and the close use it.
 */
export function reconciliationProblems(view: DailySummaryView): string[] {
  const problems: string[] = []
  const dimensions: Array<[string, readonly SummaryGroup[], boolean]> = [
    ['operator', view.byOperator, true],
    ['product', view.byProduct, false],
    ['region', view.byRegion, true],
    ['relation', view.byRelation, false],
    ['status', view.byStatus, true],
    // A sale may hold a new policy and an instalment: its sales do not add up here.
    ...(view.byKind ? [['kind', view.byKind, false] as [string, readonly SummaryGroup[], boolean]] : []),
    ['rulesVersion', view.rulesVersions, true]
  ]
  for (const [name, groups, salesAddUp] of dimensions) {
    for (const part of ['all', 'net'] as const) {
      const sum = (field: keyof SummaryFigures) => groups.reduce((acc, g) => acc + g[part][field], 0)
      if (sum('amountFen') !== view.totals[part].amountFen) problems.push(`${name}.${part}.amountFen`)
      if (sum('lineCount') !== view.totals[part].lineCount) problems.push(`${name}.${part}.lineCount`)
      if (salesAddUp && sum('saleCount') !== view.totals[part].saleCount)
        problems.push(`${name}.${part}.saleCount`)
    }
  }
  return problems
}

/** One sale as the summary's transaction list shows it: no payer, no insured person. */
export type ReportSaleRow = Pick<
  SummaryLine,
  'saleId' | 'createdAt' | 'status' | 'operatorCode' | 'operatorName' | 'regionCode'
> & {
  readonly totalFen: Fen
  readonly lineCount: number
  /** The terminal that made the sale: in an office summary (several terminals) only. */
  readonly terminalId?: string
}

/**
 * A cooling-off cancellation (犹豫期退保) asked for in the range, as the summary lists it: the
 * sale, the refund and where it stands, the staff who asked and approved; no payer, no insured.
 */
export interface ReportCancellationRow {
  readonly cancellationId: string
  readonly saleId: string
  readonly requestedAt: string
  readonly refundFen: Fen
  readonly status: 'queued' | 'accepted' | 'rejected'
  readonly operatorCode: string
  readonly operatorName: string
  readonly approverCode: string
}

/** One hour of the day (Shanghai) for the on-screen chart: what each product took, `net` only. */
export interface HourFigures {
  /** 0–23, Asia/Shanghai. */
  readonly hour: number
  /** Product code → lines and amount in that hour; products with nothing that hour are absent. */
  readonly byProduct: Readonly<Record<string, { readonly lineCount: number; readonly amountFen: Fen }>>
}

/**
 * Sales per hour of the day, by product, for the chart: only what counts in `net` (a voided or
 * rejected sale took nothing). Over several days the same hour adds up: the counter's busy hours.
 * Always 24 entries, so the chart's axis does not depend on the data.
 */
export function hourly(lines: readonly SummaryLine[]): HourFigures[] {
  const hours = Array.from({ length: 24 }, () => new Map<string, { lineCount: number; amountFen: number }>())
  for (const line of lines) {
    if (!countsInNet(line.status)) continue
    // Shanghai is UTC+8 all year (no daylight saving).
    const hour = (new Date(line.createdAt).getUTCHours() + 8) % 24
    const figures = hours[hour].get(line.productCode) ?? { lineCount: 0, amountFen: 0 }
    figures.lineCount += 1
    figures.amountFen += line.premiumFen
    hours[hour].set(line.productCode, figures)
  }
  return hours.map((products, hour) => ({ hour, byProduct: Object.fromEntries(products) }))
}

/** `report.summary`: the figures and the transaction list they reconcile to (`totals.all`, fen for fen). */
export interface SummaryReportView {
  /** Shanghai dates, inclusive. */
  readonly from: string
  readonly to: string
  readonly terminalId: string | null
  readonly operatorCode: string | null
  readonly summary: DailySummaryView
  /** For the on-screen chart (the printout stays a table). */
  readonly byHour: readonly HourFigures[]
  /** Every sale counted, whatever its status. */
  readonly sales: readonly ReportSaleRow[]
  /**
   * This terminal's cooling-off cancellations asked for in the range (of sales of any day): the
   * refunds apart from the sales above. Absent in an office summary.
   */
  readonly cancellations?: readonly ReportCancellationRow[]
  /**
   * An office summary (网点, `report.officeSummary`): drawn from the centre, not from this
   * terminal's database; only the sales the centre has received. Absent for a terminal's own summary.
   */
  readonly office?: OfficeScope
}

/** Where an office summary came from: the office, its terminals, and when the centre answered. */
export interface OfficeScope {
  readonly territory: string
  readonly terminalIds: readonly string[]
  /** The centre's `generatedAt`, UTC ISO. */
  readonly asOf: string
}

/** A shift as the close screen lists it: whose, when, and what of it is not on a shift report yet. */
export interface ShiftCloseView {
  readonly shiftId: number
  readonly operatorCode: string
  readonly operatorName: string
  /** UTC ISO. */
  readonly openedAt: string
  readonly closedAt: string | null
  /** Sales of the shift on no shift report yet (all statuses). */
  readonly unclosedSaleCount: number
  readonly unclosedTotalFen: Fen
}

/** What the supervisor should know before closing a day: it can be closed anyway (the close records what it held). */
export interface DayCloseCheckView {
  readonly date: string
  /** Sales of the day on no day close yet. */
  readonly saleCount: number
  /** Of those, the sales the centre has not answered (待上传 and 待确认): their outcome may still change. */
  readonly unansweredCount: number
  readonly unansweredFen: Fen
  /** Shifts still open on this terminal (whatever day they opened). */
  readonly openShifts: readonly ShiftCloseView[]
}

/** A close report (日结单 / 交班单) as written: never changed afterwards, reprinted as it is. */
export interface CloseReportView {
  readonly terminalId: string
  /** 1, 2, 3 … per terminal, never repeated. */
  readonly number: number
  readonly kind: 'shift' | 'day'
  /** The Shanghai date closed (day), or the date the shift opened (shift). */
  readonly businessDate: string
  readonly shiftId: number | null
  /** UTC ISO. */
  readonly closedAt: string
  readonly closedBy: { readonly code: string; readonly name: string }
  /** A day closed after it ended. */
  readonly late: boolean
  /** `summary.totals.all`: every sale the close took, whatever its status. */
  readonly saleCount: number
  readonly totalFen: Fen
  /** Frozen at the close: later uploads, acceptances or voids do not change a report. */
  readonly summary: DailySummaryView
  readonly sales: readonly ReportSaleRow[]
}
