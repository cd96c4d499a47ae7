import type { Fen } from '../money'
import type { InsuredRelation } from '../rules/bundle'
import { RELATION_LABELS } from '../rules/labels'
import { formatShanghaiDateTime } from '../time'
import {
  STATUS_NAMES,
  type CloseReportView,
  type DailySummaryView,
  type ReportCancellationRow,
  type ReportSaleRow,
  type SummaryFigures,
  type SummaryGroup,
  type SummaryReportView
} from './summary'

/**
 * A report as a document: a title, the lines every page carries (office, terminal, operator,
 * range, who printed it and when), and plain tables. The A4 printout, the PDF, the Excel workbook
 * and the CSV file are all drawn from one such document, so they cannot disagree with each other.
 * Pure data, Chinese text, no personal data (no payer, no insured person: staff names only).
 */

/** A table cell: text, a count, or an amount in fen (shown as yuan with two decimals). */
export type ReportCell = string | { readonly count: number } | { readonly fen: Fen }

export interface ReportColumn {
  readonly label: string
  readonly kind: 'text' | 'count' | 'money'
}

export interface ReportTable {
  /** e.g. 按操作员, 交易清单. */
  readonly title: string
  readonly columns: readonly ReportColumn[]
  readonly rows: ReadonlyArray<readonly ReportCell[]>
  /** The 合计 row, when the table's rows add up to one. */
  readonly totals?: readonly ReportCell[]
  /** A line under the table, e.g. what `net` leaves out. */
  readonly note?: string
}

/** One "label: value" line of the page header. */
export interface ReportField {
  readonly label: string
  readonly value: string
}

/** What a report was drawn from: a date range's live summary, or one close report as written. */
export type ReportSource =
  | {
      readonly kind: 'summary'
      readonly from: string
      readonly to: string
      readonly terminalId?: string
      readonly operatorCode?: string
    }
  | { readonly kind: 'close'; readonly number: number }
  /** The office's (网点) summary, from the centre (`report.officeSummary`). */
  | { readonly kind: 'office'; readonly from: string; readonly to: string }

export interface ReportDocument {
  /** e.g. 日结汇总表, 日结单 第 12 号, 交班单 第 13 号. */
  readonly title: string
  /**
   * On every printed page (running header) and at the top of every sheet and file, in this order:
   * 网点, 终端, 操作员, 统计区间, 打印人, 打印时间; then, for a close, 编号, 结账时间, 结账人, 补结.
   */
  readonly fields: readonly ReportField[]
  readonly tables: readonly ReportTable[]
  /** A file name without extension, safe on Windows: e.g. 日结单-T-3301-0007-第12号. */
  readonly fileBaseName: string
}

/** Who and what a document is printed for: the caller's side of it, passed in (the builders do no I/O). */
export interface ReportMeta {
  /** The terminal's registered territory (网点); null before registration. */
  readonly office: string | null
  readonly terminalId: string
  /** The operator scope: '全部', or e.g. '1001 张敏'. */
  readonly operator: string
  readonly printedBy: { readonly code: string; readonly name: string }
  /** UTC ISO; shown in Asia/Shanghai. */
  readonly printedAt: string
}

/** The relation of the insured person to the payer, in the engine's words, in its order (本人 first). */
const RELATION_ORDER: readonly string[] = Object.keys(RELATION_LABELS)
const relationName = (key: string) =>
  Object.hasOwn(RELATION_LABELS, key) ? RELATION_LABELS[key as InsuredRelation] : key

/** Relations in their usual order (本人 first), not by key; unknown keys last. */
function relationOrder(groups: readonly SummaryGroup[]): SummaryGroup[] {
  const rank = (key: string) =>
    RELATION_ORDER.includes(key) ? RELATION_ORDER.indexOf(key) : RELATION_ORDER.length
  return [...groups].sort((a, b) => rank(a.key) - rank(b.key))
}

const NET_NOTE = '实收：不含已作废与中心拒绝的交易。'
const NOT_ADDITIVE_NOTE = (what: string) =>
  `一笔交易可含多个${what}，各行笔数之和可大于合计笔数，故合计笔数不列（—）。`

const count = (value: number): ReportCell => ({ count: value })
const money = (fen: Fen): ReportCell => ({ fen })
/** "1001 张敏"; the code alone when the name is unknown (the centre's office lines carry only the code). */
const staff = (person: { readonly code: string; readonly name: string }) =>
  person.name && person.name !== person.code ? `${person.code} ${person.name}` : person.code

function headerFields(meta: ReportMeta, terminalId: string, range: string): ReportField[] {
  return [
    { label: '网点', value: meta.office ?? '未登记' },
    { label: '终端', value: terminalId },
    { label: '操作员', value: meta.operator },
    { label: '统计区间', value: range },
    { label: '打印人', value: staff(meta.printedBy) },
    { label: '打印时间', value: formatShanghaiDateTime(meta.printedAt, true) }
  ]
}

function totalsTable(summary: DailySummaryView): ReportTable {
  const { all, net } = summary.totals
  return {
    title: '合计',
    columns: [
      { label: '项目', kind: 'text' },
      { label: '笔数', kind: 'count' },
      { label: '人次', kind: 'count' },
      { label: '金额', kind: 'money' }
    ],
    rows: [
      ['全部', count(all.saleCount), count(all.lineCount), money(all.amountFen)],
      ['实收 (不含作废与被拒)', count(net.saleCount), count(net.lineCount), money(net.amountFen)]
    ],
    note: NET_NOTE
  }
}

/**
 * One dimension's table. The 合计 row sums the rows (they add up to the summary's totals, which
 * `reconciliationProblems` checks); sale counts only where a sale belongs to exactly one group.
 */
function dimensionTable(
  title: string,
  nameLabel: string,
  groups: readonly SummaryGroup[],
  nameOf: (group: SummaryGroup) => string,
  salesAddUp: boolean,
  note?: string
): ReportTable {
  const sum = (part: 'all' | 'net', field: keyof SummaryFigures) =>
    groups.reduce((acc, group) => acc + group[part][field], 0)
  return {
    title,
    columns: [
      { label: nameLabel, kind: 'text' },
      { label: '笔数', kind: 'count' },
      { label: '人次', kind: 'count' },
      { label: '金额', kind: 'money' },
      { label: '实收笔数', kind: 'count' },
      { label: '实收金额', kind: 'money' }
    ],
    rows: groups.map((group) => [
      nameOf(group),
      count(group.all.saleCount),
      count(group.all.lineCount),
      money(group.all.amountFen),
      count(group.net.saleCount),
      money(group.net.amountFen)
    ]),
    totals: [
      '合计',
      salesAddUp ? count(sum('all', 'saleCount')) : '—',
      count(sum('all', 'lineCount')),
      money(sum('all', 'amountFen')),
      salesAddUp ? count(sum('net', 'saleCount')) : '—',
      money(sum('net', 'amountFen'))
    ],
    note: note ?? NET_NOTE
  }
}

const SALE_LIST_NOTE = '全部交易，含已作废与中心拒绝的交易；合计等于汇总的“全部”。'

/** The transaction list; `withTerminal`: a 终端 column after the time (an office's list spans terminals). */
const CANCELLATION_STATUS: Readonly<Record<ReportCancellationRow['status'], string>> = {
  queued: '待中心受理',
  accepted: '已退回',
  rejected: '中心拒绝'
}

/** 犹豫期退保 asked for in the range: apart from the sales, which they do not change. */
function cancellationTable(rows: readonly ReportCancellationRow[]): ReportTable {
  const refunded = rows.filter((r) => r.status === 'accepted').reduce((sum, r) => sum + r.refundFen, 0)
  return {
    title: '犹豫期退保',
    columns: [
      { label: '申请时间', kind: 'text' },
      { label: '原交易号', kind: 'text' },
      { label: '经办', kind: 'text' },
      { label: '批准', kind: 'text' },
      { label: '退保金额', kind: 'money' },
      { label: '状态', kind: 'text' }
    ],
    rows: rows.map((r) => [
      formatShanghaiDateTime(r.requestedAt, true),
      r.saleId,
      staff({ code: r.operatorCode, name: r.operatorName }),
      r.approverCode,
      money(r.refundFen),
      CANCELLATION_STATUS[r.status]
    ]),
    totals: ['已退回合计', `${rows.length} 笔`, '', '', money(refunded), ''],
    note: '退保金额在中心受理后退回医保个人账户（中心拒绝的不退）；退保不改变上列交易的金额与状态。'
  }
}

function saleListTable(
  summary: DailySummaryView,
  sales: readonly ReportSaleRow[],
  withTerminal = false,
  note = SALE_LIST_NOTE
): ReportTable {
  const regionNames = new Map(summary.byRegion.map((group) => [group.key, group.name]))
  const terminal = (cells: ReportCell[], value: ReportCell): ReportCell[] =>
    withTerminal ? [cells[0], value, ...cells.slice(1)] : cells
  return {
    title: '交易清单',
    columns: [
      { label: '时间', kind: 'text' },
      ...(withTerminal ? [{ label: '终端', kind: 'text' } as const] : []),
      { label: '交易号', kind: 'text' },
      { label: '经办', kind: 'text' },
      { label: '地区', kind: 'text' },
      { label: '人次', kind: 'count' },
      { label: '金额', kind: 'money' },
      { label: '状态', kind: 'text' }
    ],
    // The payer and the insured people are not in a ReportSaleRow at all: nothing to leave out here.
    rows: sales.map((sale) =>
      terminal(
        [
          formatShanghaiDateTime(sale.createdAt, true),
          sale.saleId,
          staff({ code: sale.operatorCode, name: sale.operatorName }),
          regionNames.get(sale.regionCode) ?? sale.regionCode,
          count(sale.lineCount),
          money(sale.totalFen),
          STATUS_NAMES[sale.status]
        ],
        sale.terminalId ?? ''
      )
    ),
    totals: terminal(
      [
        '合计',
        `${sales.length} 笔`,
        '',
        '',
        count(sales.reduce((acc, sale) => acc + sale.lineCount, 0)),
        money(sales.reduce((acc, sale) => acc + sale.totalFen, 0)),
        ''
      ],
      ''
    ),
    note
  }
}

function summaryTables(summary: DailySummaryView, sales: readonly ReportSaleRow[]): ReportTable[] {
  return [
    totalsTable(summary),
    dimensionTable(
      '按操作员',
      '操作员',
      summary.byOperator,
      (g) => staff({ code: g.key, name: g.name }),
      true
    ),
    dimensionTable(
      '按产品',
      '产品',
      summary.byProduct,
      (g) => `${g.name} (${g.key})`,
      false,
      `${NET_NOTE}${NOT_ADDITIVE_NOTE('产品')}`
    ),
    dimensionTable('按地区', '地区', summary.byRegion, (g) => g.name, true),
    dimensionTable(
      '按参保关系',
      '参保关系',
      relationOrder(summary.byRelation),
      (g) => relationName(g.key),
      false,
      `${NET_NOTE}${NOT_ADDITIVE_NOTE('参保关系')}`
    ),
    dimensionTable('按状态', '状态', summary.byStatus, (g) => g.name, true),
    // Closes written before instalments existed have no such table.
    ...(summary.byKind
      ? [
          dimensionTable(
            '新单与续期',
            '业务类型',
            summary.byKind,
            (g) => g.name,
            false,
            `${NET_NOTE}${NOT_ADDITIVE_NOTE('新单与续期')}`
          )
        ]
      : []),
    dimensionTable('按规则包版本', '规则包版本', summary.rulesVersions, (g) => g.name, true),
    saleListTable(summary, sales)
  ]
}

/** Characters Windows refuses in a file name (and control characters), replaced by '_'. */
export function safeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[<>:"/\\|?*\u0000-\u001f]/g, '_').replace(/[. ]+$/, '') || '报表'
}

/** The daily summary (日结汇总表) of a date range, as it is now. */
export function summaryDocument(view: SummaryReportView, meta: ReportMeta): ReportDocument {
  const terminalId = view.terminalId ?? meta.terminalId
  const range = view.from === view.to ? view.from : `${view.from} 至 ${view.to}`
  return {
    title: '日结汇总表',
    fields: headerFields(meta, terminalId, range),
    tables: [
      ...summaryTables(view.summary, view.sales),
      ...(view.cancellations && view.cancellations.length > 0 ? [cancellationTable(view.cancellations)] : [])
    ],
    fileBaseName: safeFileName(
      `日结汇总-${terminalId}-${view.from}至${view.to}${view.operatorCode === null ? '' : `-${view.operatorCode}`}`
    )
  }
}

/** What an office summary holds, under its header and its transaction list. */
export const OFFICE_NOTE =
  '网点汇总由医保中心提供，只含中心已收到的交易；各窗口尚未上传的交易，上传后才会计入。经办栏为工号（中心只收到工号）。'

/** The office's terminals for the 终端 field: "3 台：T-1、T-2、T-3". */
export function officeTerminals(terminalIds: readonly string[]): string {
  return `${terminalIds.length} 台：${terminalIds.join('、')}`
}

/**
 * The office's daily summary (网点日结汇总表) of a date range, from the centre's lines: the same
 * tables as a terminal's, the office's terminals in the 终端 field, a 终端 column in the transaction
 * list, and the note that only what the centre has received is in it.
 */
export function officeDocument(
  view: SummaryReportView & { readonly office: NonNullable<SummaryReportView['office']> },
  meta: ReportMeta
): ReportDocument {
  const range = view.from === view.to ? view.from : `${view.from} 至 ${view.to}`
  const header = headerFields(
    { ...meta, office: view.office.territory },
    officeTerminals(view.office.terminalIds),
    range
  )
  const tables = summaryTables(view.summary, view.sales).slice(0, -1)
  return {
    title: '网点日结汇总表',
    fields: [...header, { label: '中心数据时间', value: formatShanghaiDateTime(view.office.asOf, true) }],
    tables: [
      { ...tables[0], note: `${tables[0].note ?? ''}${OFFICE_NOTE}` },
      ...tables.slice(1),
      saleListTable(view.summary, view.sales, true, `${SALE_LIST_NOTE}${OFFICE_NOTE}`)
    ],
    fileBaseName: safeFileName(`网点日结汇总-${view.office.territory}-${view.from}至${view.to}`)
  }
}

/** A close report (日结单 / 交班单) as it was written, whenever it is printed. */
export function closeDocument(view: CloseReportView, meta: ReportMeta): ReportDocument {
  const kind = view.kind === 'day' ? '日结单' : '交班单'
  const range =
    view.kind === 'day' || view.shiftId === null
      ? view.businessDate
      : `${view.businessDate} / 班次 ${view.shiftId}`
  return {
    title: `${kind} 第 ${view.number} 号`,
    fields: [
      ...headerFields(meta, view.terminalId, range),
      { label: '编号', value: String(view.number) },
      { label: '结账时间', value: formatShanghaiDateTime(view.closedAt, true) },
      { label: '结账人', value: staff(view.closedBy) },
      { label: '补结', value: view.late ? '是' : '否' }
    ],
    tables: summaryTables(view.summary, view.sales),
    fileBaseName: safeFileName(`${kind}-${view.terminalId}-第${view.number}号`)
  }
}
