import type { ReportCell, ReportDocument } from '@core/report/document'
import { formatYuan } from '@core/money'

/**
 * Rows of one table the printout shows: a day's transaction list fits (about 25 pages); a month's
 * (tens of thousands of rows, hundreds of pages) is for the Excel or CSV export, not for paper.
 */
export const MAX_PRINTED_ROWS = 1000

/** A cell as printed and shown: amounts in yuan with two decimals, from integer fen. */
export function cellText(cell: ReportCell): string {
  if (typeof cell === 'string') return cell
  return 'fen' in cell ? formatYuan(cell.fen) : String(cell.count)
}

/** Text inside a CSS string: quotes and backslashes escaped, line breaks flattened. */
export function cssString(text: string): string {
  return `"${text
    .replace(/[\r\n]+/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')}"`
}

/**
 * The A4 page of a report, for the print dialog and the PDF alike: the document's header fields
 * in the top margin and "第 n 页 / 共 N 页" at the bottom of every page. Chromium (and so Electron)
 * draws @page margin boxes itself, so each page carries them however the tables break.
 */
export function reportPageRules(document: ReportDocument): string {
  const field = (label: string) => document.fields.find((f) => f.label === label)
  const line = (labels: readonly string[]) =>
    labels
      .map((label) => field(label))
      .filter((f) => f !== undefined)
      .map((f) => `${f.label}：${f.value}`)
      .join('　')
  const box = 'font-size: 8pt; color: #333; font-family: var(--counter-font);'
  return `@page {
  size: A4;
  margin: 20mm 12mm 16mm 12mm;
  @top-left { content: ${cssString(document.title)}; font-size: 9pt; font-weight: 600; }
  @top-right { content: ${cssString(line(['网点', '终端', '操作员', '统计区间']))}; ${box} }
  @bottom-left { content: ${cssString(line(['打印人', '打印时间']))}; ${box} }
  @bottom-right { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; ${box} }
}`
}
