import ExcelJS from 'exceljs'
import type { PaperSize, Worksheet } from 'exceljs'
import type { ReportCell, ReportColumn, ReportDocument, ReportTable } from '../../core/report/document'

/**
 * A report document as an Excel workbook: the terminal's reports and the centre's insurer
 * statements (which reaches it through backend/shared.ts) are drawn by this one writer.
 */

/** The transaction list's sheet; every other table goes on the 汇总 sheet. */
export const SALE_LIST_TITLE = '交易清单'
const A4 = 9 as PaperSize
const MONEY_FORMAT = '#,##0.00'
const COUNT_FORMAT = '0'
/** Excel refuses a header or footer section longer than this. */
const HEADER_FOOTER_MAX = 255

/** In a page header or footer '&' starts a code: a literal one is written '&&'. */
const headerText = (text: string) => text.replaceAll('&', '&&')

function pageHeader(document: ReportDocument): string {
  const title = `&L&"-,Bold"${headerText(document.title)}&"-,Regular"`
  const fields = document.fields.map((field) => `${field.label}：${field.value}`)
  // Title on the first line, the fields under it; cut short rather than refused by Excel.
  let text = `${title}\n${headerText(fields.join('  '))}`
  if (text.length > HEADER_FOOTER_MAX) text = `${text.slice(0, HEADER_FOOTER_MAX - 1).replace(/&+$/, '')}…`
  return text
}

const PAGE_FOOTER = '&C第 &P 页 / 共 &N 页'

function printSetup(sheet: Worksheet, document: ReportDocument, orientation: 'portrait' | 'landscape'): void {
  sheet.pageSetup = {
    ...sheet.pageSetup,
    paperSize: A4,
    orientation,
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: 0,
    // Room at the top for the two-line page header.
    margins: { left: 0.5, right: 0.5, top: 1.1, bottom: 0.75, header: 0.3, footer: 0.3 }
  }
  sheet.headerFooter = { ...sheet.headerFooter, oddHeader: pageHeader(document), oddFooter: PAGE_FOOTER }
}

/**
 * A cell's value. Money is integer fen everywhere else; here, at the boundary to Excel, it becomes
 * a number of yuan (fen / 100, the double nearest the exact amount) shown with two decimals by
 * the number format, so the spreadsheet can sum it. Nothing computes with this value here.
 */
function cellValue(cell: ReportCell): string | number {
  if (typeof cell === 'string') return cell
  if ('count' in cell) return cell.count
  return cell.fen / 100
}

function formatCells(sheet: Worksheet, rowNumber: number, columns: readonly ReportColumn[]): void {
  const row = sheet.getRow(rowNumber)
  columns.forEach((column, index) => {
    if (column.kind === 'money') row.getCell(index + 1).numFmt = MONEY_FORMAT
    else if (column.kind === 'count') row.getCell(index + 1).numFmt = COUNT_FORMAT
    if (column.kind !== 'text') row.getCell(index + 1).alignment = { horizontal: 'right' }
  })
}

const THIN = { style: 'thin' as const }

/** A table from `row` on: its title, bold column labels, its rows, a bold 合计 row, its note. Returns the next free row. */
function writeTable(sheet: Worksheet, table: ReportTable, row: number, withTitle: boolean): number {
  let at = row
  if (withTitle) {
    sheet.getCell(at, 1).value = table.title
    sheet.getCell(at, 1).font = { bold: true, size: 12 }
    at += 1
  }
  const header = sheet.getRow(at)
  header.values = table.columns.map((column) => column.label)
  header.font = { bold: true }
  table.columns.forEach((column, index) => {
    const cell = header.getCell(index + 1)
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF4' } }
    cell.border = { bottom: THIN }
    if (column.kind !== 'text') cell.alignment = { horizontal: 'right' }
  })
  at += 1
  for (const cells of table.rows) {
    sheet.getRow(at).values = cells.map(cellValue)
    formatCells(sheet, at, table.columns)
    at += 1
  }
  if (table.totals) {
    const totals = sheet.getRow(at)
    totals.values = table.totals.map(cellValue)
    totals.font = { bold: true }
    formatCells(sheet, at, table.columns)
    table.columns.forEach((_, index) => (totals.getCell(index + 1).border = { top: THIN }))
    at += 1
  }
  if (table.note) {
    sheet.getCell(at, 1).value = table.note
    sheet.getCell(at, 1).font = { italic: true, size: 9, color: { argb: 'FF666666' } }
    at += 1
  }
  return at
}

/** Which table of a document gets a sheet of its own, and the column widths (characters). */
export interface WorkbookLayout {
  readonly listTitle: string
  readonly summaryWidths?: readonly number[]
  readonly listWidths?: readonly number[]
}

/**
 * The document as an Excel workbook: a 汇总 sheet (title, header fields, every summary table) and
 * a sheet for the list (交易清单 unless the layout names another: frozen, repeated-on-print column
 * labels). A4, the header fields in the page header of every printed page, "第 x 页 / 共 y 页" in
 * the footer.
 */
export async function workbookOf(
  document: ReportDocument,
  layout: WorkbookLayout = { listTitle: SALE_LIST_TITLE }
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook()
  workbook.creator = '医保个账购买商业健康保险柜台'
  workbook.title = document.title

  const summary = workbook.addWorksheet('汇总')
  summary.getCell(1, 1).value = document.title
  summary.getCell(1, 1).font = { bold: true, size: 14 }
  let row = 2
  for (const field of document.fields) {
    summary.getCell(row, 1).value = field.label
    summary.getCell(row, 1).font = { bold: true }
    summary.getCell(row, 2).value = field.value
    row += 1
  }
  row += 1
  for (const table of document.tables.filter((t) => t.title !== layout.listTitle)) {
    row = writeTable(summary, table, row, true) + 1
  }
  summary.columns = (layout.summaryWidths ?? [34, 14, 12, 16, 12, 16]).map((width) => ({ width }))
  printSetup(summary, document, 'portrait')

  const saleList = document.tables.find((t) => t.title === layout.listTitle)
  const sales = workbook.addWorksheet(layout.listTitle, {
    views: [{ state: 'frozen', xSplit: 0, ySplit: 1 }]
  })
  if (saleList) writeTable(sales, saleList, 1, false)
  const withTerminal = saleList?.columns[1]?.label === '终端'
  sales.columns = (layout.listWidths ?? [20, ...(withTerminal ? [14] : []), 38, 14, 14, 8, 14, 12]).map(
    (width) => ({ width })
  )
  printSetup(sales, document, 'landscape')
  sales.pageSetup.printTitlesRow = '1:1'

  return Buffer.from(await workbook.xlsx.writeBuffer())
}
