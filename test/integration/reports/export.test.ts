import ExcelJS from 'exceljs'
import { describe, expect, it } from 'vitest'
import type { CallContext, ExportedReportView } from '../../../core/api/contract'
import { formatYuan } from '../../../core/money'
import type { CloseReportView, SummaryReportView } from '../../../core/report/summary'
import type { ReceiptView } from '../../../core/sale'
import type { Clock } from '../../../core/time'
import type { CounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, signedIn, TEST_NOW } from '../../support/helpers'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

function movableClock(iso: string): Clock & { set(iso: string): void } {
  let at = new Date(iso)
  return { now: () => new Date(at.getTime()), set: (next) => void (at = new Date(next)) }
}

async function sell(
  runtime: CounterRuntime,
  as: CallContext,
  card: string,
  productCode: string
): Promise<ReceiptView> {
  const result = await commit(
    runtime,
    as,
    {
      accountId: await accountIdOf(runtime, as, card),
      lines: [{ insured: { relation: 'self' }, productCode, units: 1 }]
    },
    card
  )
  if (!result.ok) throw new Error(result.error.message)
  return result.value as ReceiptView
}

async function call<T>(runtime: CounterRuntime, name: string, args: unknown, as: CallContext): Promise<T> {
  const result = await runtime.dispatch(name, args, as)
  if (!result.ok) throw new Error(`${result.error.code} ${result.error.message}`)
  return result.value as T
}

async function workbook(file: ExportedReportView): Promise<ExcelJS.Workbook> {
  const book = new ExcelJS.Workbook()
  const bytes = Buffer.from(file.base64, 'base64')
  await book.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  return book
}

function sheet(book: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const found = book.getWorksheet(name)
  if (!found) throw new Error(`no sheet ${name}`)
  return found
}

/** Every cell's value, sheet by sheet, row by row: what two exports must share (the zip itself carries timestamps). */
function cellValues(book: ExcelJS.Workbook): unknown[] {
  const values: unknown[] = []
  book.eachSheet((ws) =>
    ws.eachRow({ includeEmpty: true }, (row, n) => values.push([ws.name, n, row.values]))
  )
  return values
}

/** A minimal RFC 4180 reader for the test: fields, quotes, doubled quotes, CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let inQuotes = false
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]
    if (inQuotes && c === '"' && text[i + 1] === '"') {
      field += '"'
      i += 1
    } else if (inQuotes && c === '"') {
      inQuotes = false
    } else if (inQuotes) {
      field += c
    } else if (c === '"') {
      inQuotes = true
    } else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i += 1
    } else {
      field += c
    }
  }
  return rows
}

/** Seeds a day: three sales by the clerk, one voided, and a registered territory. */
async function seededDay() {
  const runtime = await openTestRuntime()
  const clerk = await onShift(runtime)
  const supervisor = await signedIn(runtime, 'supervisor')
  const sales = [
    await sell(runtime, clerk, 'C33080001', 'QZ-HQB-2027'),
    await sell(runtime, clerk, 'E21010002', 'SY-HEALTH-DEMO'),
    await sell(runtime, clerk, 'A53000001', 'YN-JRAK')
  ]
  await runtime.db('sales').where({ id: sales[1].saleId }).update({ status: 'voided' })
  await runtime.db('settings').insert({ key: 'sync.territory', value: '衢州市柯城区医保服务大厅 & 窗口' })
  return { runtime, clerk, supervisor, sales }
}

describe('report export (xlsx, csv)', () => {
  it('exports the summary as a workbook: 汇总 with the header fields and tables, 交易清单 with every sale and the total; print setup; audited', async () => {
    const { runtime, supervisor } = await seededDay()
    const source = { kind: 'summary', from: '2026-11-22', to: '2026-11-22' }
    const summary = await call<SummaryReportView>(
      runtime,
      'report.summary',
      { from: '2026-11-22', to: '2026-11-22' },
      supervisor
    )
    const file = await call<ExportedReportView>(
      runtime,
      'report.export',
      { source, format: 'xlsx' },
      supervisor
    )
    expect(file.fileName).toMatch(/^日结汇总-T-[0-9A-F]{8}-2026-11-22至2026-11-22\.xlsx$/)
    expect(file.mimeType).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')

    const book = await workbook(file)
    expect(book.worksheets.map((ws) => ws.name)).toEqual(['汇总', '交易清单'])
    const overview = sheet(book, '汇总')
    expect(overview.getCell('A1').value).toBe('日结汇总表')
    const fields = Object.fromEntries(
      [2, 3, 4, 5, 6, 7].map((n) => [overview.getCell(n, 1).value, overview.getCell(n, 2).value])
    )
    expect(fields).toEqual({
      网点: '衢州市柯城区医保服务大厅 & 窗口',
      终端: expect.stringMatching(/^T-/),
      操作员: '全部',
      统计区间: '2026-11-22',
      打印人: '9001 陈芳',
      打印时间: '2026-11-22 10:30:00'
    })
    expect(overview.getCell('A2').font?.bold).toBe(true)
    // 合计 table: title, labels, 全部, 实收.
    const titleRow = [...Array(overview.rowCount).keys()]
      .map((i) => i + 1)
      .find((n) => overview.getCell(n, 1).value === '合计')
    expect(titleRow).toBeDefined()
    const allRow = overview.getRow((titleRow ?? 0) + 2)
    expect([
      allRow.getCell(1).value,
      allRow.getCell(2).value,
      allRow.getCell(3).value,
      allRow.getCell(4).value
    ]).toEqual([
      '全部',
      summary.summary.totals.all.saleCount,
      summary.summary.totals.all.lineCount,
      summary.summary.totals.all.amountFen / 100
    ])
    expect(allRow.getCell(4).numFmt).toBe('#,##0.00')
    expect(overview.getRow((titleRow ?? 0) + 1).font?.bold).toBe(true)

    const list = sheet(book, '交易清单')
    expect(list.getRow(1).values).toEqual([
      undefined,
      '时间',
      '交易号',
      '经办',
      '地区',
      '人次',
      '金额',
      '状态'
    ])
    expect(list.getRow(1).font?.bold).toBe(true)
    const saleRows = [...Array(list.rowCount).keys()]
      .map((i) => list.getRow(i + 2))
      .filter((row) => summary.sales.some((s) => s.saleId === row.getCell(2).value))
    expect(saleRows).toHaveLength(3)
    expect(saleRows.map((row) => row.getCell(7).value)).toContain('已作废')
    const totals = list.getRow(2 + summary.sales.length)
    expect([totals.getCell(1).value, totals.getCell(2).value, totals.getCell(6).value]).toEqual([
      '合计',
      '3 笔',
      summary.summary.totals.all.amountFen / 100
    ])
    expect(totals.getCell(6).numFmt).toBe('#,##0.00')
    expect(totals.font?.bold).toBe(true)
    expect(list.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 })
    expect(list.pageSetup).toMatchObject({ paperSize: 9, printTitlesRow: '1:1' })
    expect(list.getColumn(2).width).toBeGreaterThanOrEqual(36)
    for (const ws of [overview, list]) {
      expect(ws.pageSetup.paperSize).toBe(9)
      expect(ws.headerFooter.oddFooter).toBe('&C第 &P 页 / 共 &N 页')
      expect(ws.headerFooter.oddHeader).toContain('日结汇总表')
      expect(ws.headerFooter.oddHeader).toContain('网点：衢州市柯城区医保服务大厅 && 窗口')
      expect(ws.headerFooter.oddHeader).toContain('打印人：9001 陈芳')
    }

    const audit = await runtime
      .db('audit_log')
      .where({ action: 'report_exported' })
      .select('subject', 'details_json')
    expect(audit).toEqual([{ subject: '2026-11-22至2026-11-22', details_json: '{"format":"xlsx"}' }])
    const log = await call<Array<{ actionLabel: string; details: unknown }>>(
      runtime,
      'audit.list',
      { action: 'report_exported', limit: 10 },
      supervisor
    )
    expect(log).toMatchObject([{ actionLabel: '导出报表', details: { format: 'xlsx' } }])
  })

  it('exports CSV: BOM, the header fields, and the same totals as the summary', async () => {
    const { runtime, supervisor } = await seededDay()
    const summary = await call<SummaryReportView>(
      runtime,
      'report.summary',
      { from: '2026-11-22', to: '2026-11-22', operatorCode: '1001' },
      supervisor
    )
    const file = await call<ExportedReportView>(
      runtime,
      'report.export',
      {
        source: { kind: 'summary', from: '2026-11-22', to: '2026-11-22', operatorCode: '1001' },
        format: 'csv'
      },
      supervisor
    )
    expect(file.fileName).toMatch(/-1001\.csv$/)
    expect(file.mimeType).toBe('text/csv; charset=utf-8')
    const bytes = Buffer.from(file.base64, 'base64')
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const rows = parseCsv(bytes.toString('utf8').slice(1))
    expect(rows.slice(0, 7)).toEqual([
      ['日结汇总表'],
      ['网点', '衢州市柯城区医保服务大厅 & 窗口'],
      ['终端', expect.stringMatching(/^T-/)],
      ['操作员', '1001 张敏'],
      ['统计区间', '2026-11-22'],
      ['打印人', '9001 陈芳'],
      ['打印时间', '2026-11-22 10:30:00']
    ])
    const { all, net } = summary.summary.totals
    const money = (fen: number) => formatYuan(fen).replaceAll(',', '')
    expect(rows.find((r) => r[0] === '全部')).toEqual([
      '全部',
      String(all.saleCount),
      String(all.lineCount),
      money(all.amountFen)
    ])
    expect(rows.find((r) => r[0] === '实收 (不含作废与被拒)')).toEqual([
      '实收 (不含作废与被拒)',
      String(net.saleCount),
      String(net.lineCount),
      money(net.amountFen)
    ])
    const listAt = rows.findIndex((r) => r[0] === '交易清单')
    const listTotal = rows.slice(listAt).find((r) => r[0] === '合计')
    expect(listTotal?.[5]).toBe(money(all.amountFen))
    expect(await runtime.db('audit_log').where({ action: 'report_exported' }).pluck('details_json')).toEqual([
      '{"format":"csv"}'
    ])
  })

  it('refuses clerks, and names an unknown close in Chinese', async () => {
    const runtime = await openTestRuntime()
    const clerk = await signedIn(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const source = { kind: 'summary', from: '2026-11-22', to: '2026-11-22' }
    expect(await runtime.dispatch('report.export', { source, format: 'xlsx' }, clerk)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    expect(await runtime.dispatch('report.document', { source }, clerk)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    const missing = await runtime.dispatch(
      'report.export',
      { source: { kind: 'close', number: 42 }, format: 'csv' },
      supervisor
    )
    expect(missing).toMatchObject({
      ok: false,
      error: { code: 'CLOSE_NOT_FOUND', message: expect.stringMatching(/第 42 号/) }
    })
    expect(
      await runtime.dispatch(
        'report.export',
        { source: { kind: 'close', number: 0 }, format: 'csv' },
        supervisor
      )
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(await runtime.dispatch('report.export', { source, format: 'pdf' }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' }
    })
    expect(
      await runtime.dispatch(
        'report.document',
        { source: { kind: 'summary', from: '2026-11-22' } },
        supervisor
      )
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(
      await runtime
        .db('audit_log')
        .where({ action: 'report_exported' })
        .count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: 0 }])
  })

  it('exports a late close with its frozen figures, the same twice over, even after a sale in it was voided', async () => {
    const clock = movableClock('2026-11-21T02:30:00.000Z')
    const runtime = await openTestRuntime({ clock })
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const sold = await sell(runtime, clerk, 'C33080001', 'QZ-HQB-2027')
    clock.set(TEST_NOW)
    const close = await call<CloseReportView>(runtime, 'report.closeDay', { date: '2026-11-21' }, supervisor)
    expect(close).toMatchObject({ number: 1, late: true, totalFen: sold.totalFen })

    const source = { kind: 'close', number: 1 }
    const first = await call<ExportedReportView>(
      runtime,
      'report.export',
      { source, format: 'xlsx' },
      supervisor
    )
    // Voided after the close: the close report does not change.
    await call(
      runtime,
      'sale.void',
      { saleId: sold.saleId, reason: '客户放弃', supervisorCode: '9001', supervisorPin: '999999' },
      clerk
    )
    const second = await call<ExportedReportView>(
      runtime,
      'report.export',
      { source, format: 'xlsx' },
      supervisor
    )
    expect(second.fileName).toBe(first.fileName)
    expect(first.fileName).toMatch(/^日结单-T-[0-9A-F]{8}-第1号\.xlsx$/)
    const [a, b] = [await workbook(first), await workbook(second)]
    expect(cellValues(b)).toEqual(cellValues(a))

    const overview = sheet(b, '汇总')
    const fields = Object.fromEntries(
      [...Array(11).keys()].map((i) => [overview.getCell(i + 2, 1).value, overview.getCell(i + 2, 2).value])
    )
    expect(fields).toMatchObject({
      网点: '未登记',
      操作员: '全部',
      统计区间: '2026-11-21',
      编号: '1',
      补结: '是',
      结账人: '9001 陈芳',
      结账时间: '2026-11-22 10:30:00'
    })
    expect(overview.getCell('A1').value).toBe('日结单 第 1 号')
    const list = sheet(b, '交易清单')
    expect(list.getRow(2).getCell(7).value).toBe('待上传')
    expect(list.getRow(3).getCell(6).value).toBe(sold.totalFen / 100)

    const csvTwice = [
      await call<ExportedReportView>(runtime, 'report.export', { source, format: 'csv' }, supervisor),
      await call<ExportedReportView>(runtime, 'report.export', { source, format: 'csv' }, supervisor)
    ]
    expect(csvTwice[1].base64).toBe(csvTwice[0].base64)
    expect(Buffer.from(csvTwice[0].base64, 'base64').toString('utf8')).toMatch(/,1,100\.00,待上传\r\n/)
    expect(await runtime.db('audit_log').where({ action: 'report_exported' }).pluck('subject')).toEqual([
      '1',
      '1',
      '1',
      '1'
    ])

    // The live summary of that day does show the void.
    const live = await call<ExportedReportView>(
      runtime,
      'report.export',
      { source: { kind: 'summary', from: '2026-11-21', to: '2026-11-21' }, format: 'xlsx' },
      supervisor
    )
    expect(
      sheet(await workbook(live), '交易清单')
        .getRow(2)
        .getCell(7).value
    ).toBe('已作废')
  })

  it('gives a shift close the shift’s operator, and the printout document equals what the export draws from', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    await sell(runtime, clerk, 'C33080001', 'QZ-HQB-2027')
    const shiftId = (await runtime.db('shifts').first<{ id: number }>('id')).id
    const close = await call<CloseReportView>(runtime, 'report.closeShift', { shiftId }, supervisor)
    const document = await call<{ title: string; fields: Array<{ label: string; value: string }> }>(
      runtime,
      'report.document',
      { source: { kind: 'close', number: close.number } },
      supervisor
    )
    expect(document.title).toBe(`交班单 第 ${close.number} 号`)
    expect(document.fields.find((f) => f.label === '操作员')?.value).toBe('1001 张敏')
    expect(document.fields.find((f) => f.label === '统计区间')?.value).toBe(`2026-11-22 / 班次 ${shiftId}`)
    expect(
      await runtime
        .db('audit_log')
        .where({ action: 'report_exported' })
        .count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: 0 }])
  })
})
