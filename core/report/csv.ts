import { formatYuan } from '../money'
import type { ReportCell, ReportDocument } from './document'

/** Written first, so Excel (which otherwise guesses the ANSI code page, GBK on a Chinese Windows) reads the file as UTF-8. */
export const UTF8_BOM = '\uFEFF'
const CRLF = '\r\n'

/**
 * A text cell that a spreadsheet would take for a formula (= + - @, or a leading tab or CR that
 * some programs strip first) gets an apostrophe in front: it is then shown as text, never run.
 */
export function neutralised(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
}

/** RFC 4180: a field with a comma, a double quote or a line break is quoted, its quotes doubled. */
export function quoted(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field
}

function cellText(cell: ReportCell): string {
  if (typeof cell === 'string') return neutralised(cell)
  if ('count' in cell) return String(cell.count)
  // Yuan with two decimals, formatted from the integer fen; without thousands separators, so the
  // cell is a plain number to any spreadsheet or script (and never needs quoting).
  return formatYuan(cell.fen).replaceAll(',', '')
}

const line = (fields: readonly string[]) => fields.map(quoted).join(',') + CRLF

/**
 * The document as CSV: the title, the header fields as "label,value" lines, then each table
 * (title line, column labels, rows, 合计, note), a blank line between blocks. CRLF line ends.
 * The string starts with the BOM: written as UTF-8 it begins EF BB BF.
 */
export function reportCsv(document: ReportDocument): string {
  const blocks: string[] = []
  blocks.push(
    line([neutralised(document.title)]) +
      document.fields.map((field) => line([neutralised(field.label), neutralised(field.value)])).join('')
  )
  for (const table of document.tables) {
    let block = line([neutralised(table.title)])
    block += line(table.columns.map((column) => neutralised(column.label)))
    for (const row of table.rows) block += line(row.map(cellText))
    if (table.totals) block += line(table.totals.map(cellText))
    if (table.note) block += line([neutralised(table.note)])
    blocks.push(block)
  }
  return UTF8_BOM + blocks.join(CRLF)
}
