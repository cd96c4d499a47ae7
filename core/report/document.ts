import type { Fen } from '../money'

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
  | { readonly kind: 'summary'; readonly from: string; readonly to: string; readonly terminalId?: string; readonly operatorCode?: string }
  | { readonly kind: 'close'; readonly number: number }

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
