import type { Fen } from '../money'
import { formatShanghaiDateTime } from '../time'
import type { ReportCell, ReportDocument, ReportTable } from './document'

/**
 * The centre's settlement statement to one insurer (结算对账单) for a period of settlement dates:
 * what it is owed for the new policies and the yearly instalments the centre accepted, less the
 * cooling-off refunds and reversals it settled, per region and product, and every line behind the
 * figures, so the insurer can tick each off against its own books. Pure data: the centre gathers
 * the lines (hub/statement.ts); the same document becomes the xlsx and the CSV. No personal data:
 * settlement and policy numbers identify every line.
 */

export type StatementLineKind = 'new' | 'instalment' | 'cancellation' | 'reversal'

export const STATEMENT_KIND_NAMES: Readonly<Record<StatementLineKind, string>> = {
  new: '新单',
  instalment: '续期',
  cancellation: '犹豫期退保',
  reversal: '冲正'
}

export interface StatementLine {
  readonly kind: StatementLineKind
  /** When the centre settled it (UTC): the sale's acceptance, or the refund's or the reversal's. */
  readonly settledAt: string
  /** The centre's settlement number of the sale (ZX…), when it has one. */
  readonly reference: string | null
  readonly saleId: string
  readonly lineNo: number
  readonly regionCode: string
  readonly regionName: string
  readonly productCode: string
  readonly productName: string
  readonly insurer: string
  readonly policyNo: string | null
  /** The premium; positive. A refund or reversal is taken off by its kind. */
  readonly premiumFen: Fen
}

/** What the insurer is owed for a line: the premium, or its negative for money given back. */
export function owedFen(line: StatementLine): Fen {
  return line.kind === 'new' || line.kind === 'instalment' ? line.premiumFen : -line.premiumFen
}

export interface StatementPeriod {
  /** Shanghai dates, inclusive. */
  readonly from: string
  readonly to: string
}

const KINDS: readonly StatementLineKind[] = ['new', 'instalment', 'cancellation', 'reversal']

/** The insurers named by the lines, in Chinese collation order. */
export function insurersOf(lines: readonly StatementLine[]): string[] {
  return [...new Set(lines.map((line) => line.insurer))].sort((a, b) => a.localeCompare(b, 'zh-CN'))
}

export function insurerStatement(
  insurer: string,
  lines: readonly StatementLine[],
  period: StatementPeriod,
  generatedAt: string
): ReportDocument {
  const own = lines
    .filter((line) => line.insurer === insurer)
    .slice()
    .sort(
      (a, b) =>
        a.settledAt.localeCompare(b.settledAt) ||
        a.saleId.localeCompare(b.saleId) ||
        a.lineNo - b.lineNo ||
        KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind)
    )
  const groups = new Map<string, { region: string; product: string; lines: StatementLine[] }>()
  for (const line of own) {
    const key = `${line.regionCode}/${line.productCode}`
    const group = groups.get(key) ?? {
      region: `${line.regionName}（${line.regionCode}）`,
      product: `${line.productName}（${line.productCode}）`,
      lines: []
    }
    group.lines.push(line)
    groups.set(key, group)
  }
  const figures = (of: readonly StatementLine[]): ReportCell[] => [
    ...KINDS.flatMap((kind): ReportCell[] => {
      const ofKind = of.filter((line) => line.kind === kind)
      return [{ count: ofKind.length }, { fen: ofKind.reduce((sum, line) => sum + line.premiumFen, 0) }]
    }),
    { fen: of.reduce((sum, line) => sum + owedFen(line), 0) }
  ]
  const summary: ReportTable = {
    title: '按地区与产品',
    columns: [
      { label: '地区', kind: 'text' },
      { label: '产品', kind: 'text' },
      ...KINDS.flatMap((kind) => [
        { label: `${STATEMENT_KIND_NAMES[kind]}笔数`, kind: 'count' as const },
        { label: `${STATEMENT_KIND_NAMES[kind]}金额`, kind: 'money' as const }
      ]),
      { label: '应结金额', kind: 'money' }
    ],
    rows: [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, group]) => [group.region, group.product, ...figures(group.lines)]),
    totals: ['合计', '', ...figures(own)],
    note: '应结金额 = 新单 + 续期 − 犹豫期退保 − 冲正；笔数为保单（被保险人）数'
  }
  const detail: ReportTable = {
    title: '结算明细',
    columns: [
      { label: '结算时间', kind: 'text' },
      { label: '类型', kind: 'text' },
      { label: '结算编号', kind: 'text' },
      { label: '交易号', kind: 'text' },
      { label: '序号', kind: 'count' },
      { label: '地区', kind: 'text' },
      { label: '产品', kind: 'text' },
      { label: '保单号', kind: 'text' },
      { label: '应结金额', kind: 'money' }
    ],
    rows: own.map((line) => [
      formatShanghaiDateTime(line.settledAt, true),
      STATEMENT_KIND_NAMES[line.kind],
      line.reference ?? '',
      line.saleId,
      { count: line.lineNo },
      line.regionCode,
      line.productCode,
      line.policyNo ?? '（待签发）',
      { fen: owedFen(line) }
    ]),
    totals: [
      '合计',
      '',
      '',
      '',
      { count: own.length },
      '',
      '',
      '',
      { fen: own.reduce((s, l) => s + owedFen(l), 0) }
    ]
  }
  return {
    title: '医保个人账户购买商业健康保险 结算对账单',
    fields: [
      { label: '保险公司', value: insurer },
      { label: '统计区间', value: `${period.from} 至 ${period.to}（按中心结算时间，北京时间）` },
      { label: '制表', value: '医保中心' },
      { label: '生成时间', value: formatShanghaiDateTime(generatedAt, true) }
    ],
    tables: [summary, detail],
    fileBaseName: `结算对账单-${safeFileName(insurer)}-${period.from}-${period.to}`
  }
}

/** Windows forbids these in a file name; an insurer's name is never expected to hold one. */
function safeFileName(text: string): string {
  return text.replace(/[\\/:*?"<>|\s]+/g, '_').slice(0, 60)
}
