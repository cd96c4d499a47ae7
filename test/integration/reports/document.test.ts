import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import { maskCardNumber, maskIdNumber, maskName } from '../../../core/masking'
import {
  closeDocument,
  summaryDocument,
  type ReportCell,
  type ReportDocument,
  type ReportMeta,
  type ReportTable
} from '../../../core/report/document'
import {
  summarise,
  type CloseReportView,
  type SummaryFigures,
  type SaleKind,
  type SummaryLine,
  type SummaryReportView
} from '../../../core/report/summary'
import type { ReceiptView, SaleStatus } from '../../../core/sale'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import type { CounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

const META: ReportMeta = {
  office: '衢州市柯城区医保服务大厅',
  terminalId: 'T-0001',
  operator: '全部',
  printedBy: { code: '9001', name: '陈芳' },
  printedAt: '2026-11-22T10:05:09.000Z'
}

function line(
  saleId: string,
  status: SaleStatus,
  operator: string,
  product: string,
  relation: string,
  premiumFen: number,
  region = '330800',
  rulesVersion = 1,
  kind: SaleKind = 'new'
): SummaryLine {
  return {
    saleId,
    createdAt: '2026-11-22T02:30:00.000Z',
    status,
    operatorCode: operator,
    operatorName: `操作员${operator}`,
    regionCode: region,
    regionName: `地区${region}`,
    productCode: product,
    productName: `产品${product}`,
    relation,
    premiumFen,
    rulesVersion,
    kind
  }
}

const LINES = [
  line('s1', 'queued', '1001', 'P1', 'self', 10_000),
  line('s1', 'queued', '1001', 'P2', 'spouse', 10_000),
  line('s2', 'accepted', '2001', 'P2', 'self', 12_345, '210100', 3),
  line('s3', 'voided', '1001', 'P2', 'grandparent', 5_001, '210100', 3),
  line('s4', 'rejected', '2001', 'P1', 'sibling', 7_777),
  line('s5', 'uploaded', '2001', 'P1', 'self', 1)
]

function viewOf(lines: readonly SummaryLine[]): SummaryReportView {
  const sales = [...new Set(lines.map((l) => l.saleId))].map((saleId) => {
    const of = lines.filter((l) => l.saleId === saleId)
    const [first] = of
    return {
      saleId,
      createdAt: first.createdAt,
      status: first.status,
      operatorCode: first.operatorCode,
      operatorName: first.operatorName,
      regionCode: first.regionCode,
      totalFen: of.reduce((a, l) => a + l.premiumFen, 0),
      lineCount: of.length
    }
  })
  return {
    from: '2026-11-20',
    to: '2026-11-22',
    terminalId: null,
    operatorCode: null,
    summary: summarise(lines),
    byHour: [],
    sales
  }
}

const table = (document: ReportDocument, title: string): ReportTable => {
  const found = document.tables.find((t) => t.title === title)
  if (!found) throw new Error(`no table ${title}`)
  return found
}
const fen = (cell: ReportCell | undefined): number => {
  if (cell === undefined || typeof cell === 'string' || !('fen' in cell))
    throw new Error(`not money: ${JSON.stringify(cell)}`)
  return cell.fen
}
const count = (cell: ReportCell | undefined): number => {
  if (cell === undefined || typeof cell === 'string' || !('count' in cell))
    throw new Error(`not a count: ${JSON.stringify(cell)}`)
  return cell.count
}
const texts = (document: ReportDocument): string[] => [
  document.title,
  document.fileBaseName,
  ...document.fields.flatMap((f) => [f.label, f.value]),
  ...document.tables.flatMap((t) => [
    t.title,
    t.note ?? '',
    ...t.columns.map((c) => c.label),
    ...[...t.rows, t.totals ?? []].flat().map((c) => (typeof c === 'string' ? c : JSON.stringify(c)))
  ])
]

describe('report documents (pure)', () => {
  const view = viewOf(LINES)
  const document = summaryDocument(view, META)

  it('titles the summary and lists the page-header fields in order, times in Shanghai', () => {
    expect(document.title).toBe('日结汇总表')
    expect(document.fields).toEqual([
      { label: '网点', value: '衢州市柯城区医保服务大厅' },
      { label: '终端', value: 'T-0001' },
      { label: '操作员', value: '全部' },
      { label: '统计区间', value: '2026-11-20 至 2026-11-22' },
      { label: '打印人', value: '9001 陈芳' },
      { label: '打印时间', value: '2026-11-22 18:05:09' }
    ])
    expect(document.fileBaseName).toBe('日结汇总-T-0001-2026-11-20至2026-11-22')
    expect(summaryDocument(view, { ...META, office: null }).fields[0]).toEqual({
      label: '网点',
      value: '未登记'
    })
    expect(document.tables.map((t) => t.title)).toEqual([
      '合计',
      '按操作员',
      '按产品',
      '按地区',
      '按参保关系',
      '按状态',
      '新单与续期',
      '按规则包版本',
      '交易清单'
    ])
  })

  it('carries the totals fen for fen: all and net, and every dimension’s 合计 row', () => {
    const { all, net } = view.summary.totals
    const figures = (row: readonly ReportCell[]): SummaryFigures => ({
      saleCount: count(row[1]),
      lineCount: count(row[2]),
      amountFen: fen(row[3])
    })
    expect(table(document, '合计').rows.map(figures)).toEqual([all, net])
    expect(table(document, '合计').rows.map((r) => r[0])).toEqual(['全部', '实收 (不含作废与被拒)'])
    for (const title of [
      '按操作员',
      '按产品',
      '按地区',
      '按参保关系',
      '按状态',
      '新单与续期',
      '按规则包版本'
    ]) {
      const totals = table(document, title).totals ?? []
      expect([totals[0], count(totals[2]), fen(totals[3]), fen(totals[5])], title).toEqual([
        '合计',
        all.lineCount,
        all.amountFen,
        net.amountFen
      ])
      const salesAddUp = title !== '按产品' && title !== '按参保关系' && title !== '新单与续期'
      if (salesAddUp)
        expect([count(totals[1]), count(totals[4])], title).toEqual([all.saleCount, net.saleCount])
      else expect([totals[1], totals[4]], title).toEqual(['—', '—'])
    }
  })

  it('lists every sale, and the list’s 合计 is totals.all', () => {
    const list = table(document, '交易清单')
    expect(list.columns.map((c) => c.label)).toEqual([
      '时间',
      '交易号',
      '经办',
      '地区',
      '人次',
      '金额',
      '状态'
    ])
    expect(list.rows).toHaveLength(5)
    expect(list.rows[0]).toEqual([
      '2026-11-22 10:30:00',
      's1',
      '1001 操作员1001',
      '地区330800',
      { count: 2 },
      { fen: 20_000 },
      '待上传'
    ])
    const totals = list.totals ?? []
    expect([fen(totals[5]), count(totals[4]), totals[1]]).toEqual([
      view.summary.totals.all.amountFen,
      view.summary.totals.all.lineCount,
      '5 笔'
    ])
    expect(list.rows.reduce((a, r) => a + fen(r[5]), 0)).toBe(view.summary.totals.all.amountFen)
  })

  it('names relations and statuses in Chinese', () => {
    expect(table(document, '按参保关系').rows.map((r) => r[0])).toEqual([
      '本人',
      '配偶',
      '祖父母/外祖父母',
      '兄弟姐妹'
    ])
    expect(table(document, '按状态').rows.map((r) => r[0])).toEqual([
      '待上传',
      '待确认',
      '已受理',
      '被拒',
      '已作废'
    ])
    expect(table(document, '交易清单').rows.map((r) => r[6])).toEqual([
      '待上传',
      '已受理',
      '已作废',
      '被拒',
      '待确认'
    ])
  })

  it('titles a close by its kind and number, with its close fields and a Windows-safe file name', () => {
    const close: CloseReportView = {
      terminalId: 'T-0001',
      number: 12,
      kind: 'shift',
      businessDate: '2026-11-22',
      shiftId: 7,
      closedAt: '2026-11-22T09:00:00.000Z',
      closedBy: { code: '9001', name: '陈芳' },
      late: false,
      saleCount: view.summary.totals.all.saleCount,
      totalFen: view.summary.totals.all.amountFen,
      summary: view.summary,
      sales: view.sales
    }
    const shift = closeDocument(close, { ...META, operator: '1001 张敏' })
    expect(shift.title).toBe('交班单 第 12 号')
    expect(shift.fields.map((f) => `${f.label}=${f.value}`)).toEqual([
      '网点=衢州市柯城区医保服务大厅',
      '终端=T-0001',
      '操作员=1001 张敏',
      '统计区间=2026-11-22 / 班次 7',
      '打印人=9001 陈芳',
      '打印时间=2026-11-22 18:05:09',
      '编号=12',
      '结账时间=2026-11-22 17:00:00',
      '结账人=9001 陈芳',
      '补结=否'
    ])
    expect(shift.fileBaseName).toBe('交班单-T-0001-第12号')
    const day = closeDocument({ ...close, kind: 'day', shiftId: null, late: true, terminalId: 'T:1/2' }, META)
    expect(day.title).toBe('日结单 第 12 号')
    expect(day.fields.find((f) => f.label === '统计区间')?.value).toBe('2026-11-22')
    expect(day.fields.find((f) => f.label === '补结')?.value).toBe('是')
    expect(day.fileBaseName).toBe('日结单-T_1_2-第12号')
  })
})

async function sell(
  runtime: CounterRuntime,
  as: CallContext,
  card: string,
  productCode: string,
  insured: { relation: 'self' | 'spouse'; idNumber?: string; enrolmentConfirmed?: boolean } = {
    relation: 'self'
  }
): Promise<ReceiptView> {
  const result = await commit(
    runtime,
    as,
    { accountId: await accountIdOf(runtime, as, card), lines: [{ insured, productCode, units: 1 }] },
    card
  )
  if (!result.ok) throw new Error(result.error.message)
  return result.value as ReceiptView
}

describe('report documents from sales to demo cards', () => {
  it('hold no payer or insured person: neither name (plain or masked), ID number nor card number', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const quzhou = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')
    const spouse = quzhou?.family.find((m) => m.relation === 'spouse')
    await sell(runtime, clerk, 'C33080001', 'QZ-HQB-2027')
    await sell(runtime, clerk, 'C33080001', 'QZ-HQB-2027', {
      relation: 'spouse',
      idNumber: spouse?.idNumber,
      enrolmentConfirmed: true
    })
    await sell(runtime, clerk, 'E21010002', 'SY-HEALTH-DEMO')
    const close = await runtime.dispatch('report.closeDay', { date: '2026-11-22' }, supervisor)
    expect(close.ok).toBe(true)

    const documents: ReportDocument[] = []
    for (const source of [
      { kind: 'summary', from: '2026-11-22', to: '2026-11-22' },
      { kind: 'summary', from: '2026-11-22', to: '2026-11-22', operatorCode: '1001' },
      { kind: 'close', number: 1 }
    ]) {
      const result = await runtime.dispatch('report.document', { source }, supervisor)
      if (!result.ok) throw new Error(result.error.message)
      documents.push(result.value as ReportDocument)
    }
    expect(documents.map((d) => d.fields.find((f) => f.label === '操作员')?.value)).toEqual([
      '全部',
      '1001 张敏',
      '全部'
    ])
    expect(documents[0].fields.find((f) => f.label === '网点')?.value).toBe('未登记')
    expect(table(documents[2], '按参保关系').rows.map((r) => r[0])).toEqual(['本人', '配偶'])

    const people = DEMO_ACCOUNTS.filter((a) => ['C33080001', 'E21010002'].includes(a.cardNumber))
    const forbidden = [
      ...people.flatMap((a) => [
        a.name,
        maskName(a.name),
        a.idNumber,
        maskIdNumber(a.idNumber),
        a.cardNumber,
        maskCardNumber(a.cardNumber)
      ]),
      ...(quzhou?.family ?? []).flatMap((m) => [
        m.name,
        maskName(m.name),
        m.idNumber,
        maskIdNumber(m.idNumber)
      ])
    ]
    for (const document of documents) {
      const cells = texts(document)
      for (const value of forbidden)
        expect(
          cells.filter((cell) => cell.includes(value)),
          value
        ).toEqual([])
    }
  })
})
