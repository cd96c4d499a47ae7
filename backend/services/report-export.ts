import ExcelJS from 'exceljs'
import type { PaperSize, Worksheet } from 'exceljs'
import type { Knex } from 'knex'
import type { Caller } from '../../core/api/contract'
import { AppError } from '../../core/errors'
import { reportCsv } from '../../core/report/csv'
import {
  closeDocument,
  officeDocument,
  summaryDocument,
  type ReportCell,
  type ReportColumn,
  type ReportDocument,
  type ReportMeta,
  type ReportSource,
  type ReportTable
} from '../../core/report/document'
import type { Clock } from '../../core/time'
import type { OperatorsRepository } from '../../db/repositories/operators'
import type { SyncStateRepository } from '../../db/repositories/sync-state'
import type { ReportsService } from './reports'

export type ExportFormat = 'xlsx' | 'csv'

export interface ExportedReport {
  readonly fileName: string
  readonly mimeType: string
  /** The file's bytes, base64: the same over IPC and HTTP; the renderer saves it as a download. */
  readonly base64: string
}

/** The transaction list's sheet; every other table goes on the 汇总 sheet. */
const SALE_LIST_TITLE = '交易清单'
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

/**
 * The document as an Excel workbook: a 汇总 sheet (title, header fields, every summary table) and
 * a 交易清单 sheet (frozen, repeated-on-print column labels). A4, the header fields in the page
 * header of every printed page, "第 x 页 / 共 y 页" in the footer.
 */
export async function workbookOf(document: ReportDocument): Promise<Buffer> {
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
  for (const table of document.tables.filter((t) => t.title !== SALE_LIST_TITLE)) {
    row = writeTable(summary, table, row, true) + 1
  }
  summary.columns = [{ width: 34 }, { width: 14 }, { width: 12 }, { width: 16 }, { width: 12 }, { width: 16 }]
  printSetup(summary, document, 'portrait')

  const saleList = document.tables.find((t) => t.title === SALE_LIST_TITLE)
  const sales = workbook.addWorksheet(SALE_LIST_TITLE, { views: [{ state: 'frozen', xSplit: 0, ySplit: 1 }] })
  if (saleList) writeTable(sales, saleList, 1, false)
  const withTerminal = saleList?.columns[1]?.label === '终端'
  sales.columns = [
    { width: 20 },
    ...(withTerminal ? [{ width: 14 }] : []),
    { width: 38 },
    { width: 14 },
    { width: 14 },
    { width: 8 },
    { width: 14 },
    { width: 12 }
  ]
  printSetup(sales, document, 'landscape')
  sales.pageSetup.printTitlesRow = '1:1'

  return Buffer.from(await workbook.xlsx.writeBuffer())
}

const MIME_TYPES: Readonly<Record<ExportFormat, string>> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8'
}

export interface ReportExportService {
  /** The document a report prints from (and every export is drawn from). */
  document(caller: Caller, source: ReportSource): Promise<ReportDocument>
  /** The document as a file; each export is written to the audit log. */
  export(caller: Caller, source: ReportSource, format: ExportFormat): Promise<ExportedReport>
}

export interface ReportExportDeps {
  readonly reports: ReportsService
  readonly operators: OperatorsRepository
  readonly syncState: SyncStateRepository
  readonly db: Knex
  readonly clock: Clock
  readonly terminalId: string
}

/** Report documents for print and export: the figures from the reports service, the page header from who asks, when and where. */
export function createReportExportService(deps: ReportExportDeps): ReportExportService {
  async function staffName(id: number): Promise<{ code: string; name: string }> {
    const operator = await deps.operators.findById(id)
    if (!operator) throw new AppError('UNAUTHENTICATED', '请先登录')
    return { code: operator.code, name: operator.name }
  }

  async function operatorScope(code: string): Promise<string> {
    const operator = await deps.operators.findByCode(code)
    return operator ? `${operator.code} ${operator.name}` : code
  }

  async function meta(caller: Caller, operator: string): Promise<ReportMeta> {
    return {
      office: (await deps.syncState.read()).territory,
      terminalId: deps.terminalId,
      operator,
      printedBy: await staffName(caller.operatorId),
      printedAt: deps.clock.now().toISOString()
    }
  }

  async function documentOf(caller: Caller, source: ReportSource): Promise<ReportDocument> {
    if (source.kind === 'office') {
      const view = await deps.reports.officeSummary({ from: source.from, to: source.to })
      if (!view.office) throw new AppError('INTERNAL', '网点汇总缺少中心的来源信息')
      return officeDocument({ ...view, office: view.office }, await meta(caller, '全部'))
    }
    if (source.kind === 'summary') {
      const view = await deps.reports.summary(source)
      return summaryDocument(
        view,
        await meta(caller, view.operatorCode === null ? '全部' : await operatorScope(view.operatorCode))
      )
    }
    const view = await deps.reports.close({ number: source.number })
    let operator = '全部'
    if (view.kind === 'shift' && view.shiftId !== null) {
      // A shift is one operator's: the shift close is theirs.
      const shift = await deps
        .db('shifts')
        .where({ id: view.shiftId })
        .first<{ operator_id: number } | undefined>('operator_id')
      const holder = shift ? await deps.operators.findById(shift.operator_id) : null
      if (holder) operator = `${holder.code} ${holder.name}`
    }
    return closeDocument(view, await meta(caller, operator))
  }

  return {
    document: documentOf,
    async export(caller, source, format) {
      const document = await documentOf(caller, source)
      const bytes = format === 'xlsx' ? await workbookOf(document) : Buffer.from(reportCsv(document), 'utf8')
      // Subject: the close number or the date range; details: the format only (nothing personal).
      await deps.operators.audit({
        at: deps.clock.now().toISOString(),
        operatorId: caller.operatorId,
        action: 'report_exported',
        subject:
          source.kind === 'close'
            ? String(source.number)
            : `${source.kind === 'office' ? '网点 ' : ''}${source.from}至${source.to}`,
        details: { format }
      })
      return {
        fileName: `${document.fileBaseName}.${format}`,
        mimeType: MIME_TYPES[format],
        base64: bytes.toString('base64')
      }
    }
  }
}
