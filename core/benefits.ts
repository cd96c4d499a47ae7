import type { Fen } from './money'
import { safeFileName, type ReportDocument, type ReportTable } from './report/document'
import type { RuleBundle, RuleProduct } from './rules/bundle'
import { formatShanghaiDateTime } from './time'

/**
 * What the cover pays, for the agent's illustration: every figure from the product's
 * `afterSale.benefits` (and `features.maturityReturnPercent`) in the bundle. Pure; the screen adds
 * the bundle's disclaimer and marks what is illustrative.
 */

type Responsibility = NonNullable<
  NonNullable<NonNullable<RuleProduct['afterSale']>['benefits']>['responsibilities']
>[number]

/** A hypothetical bill for one responsibility: costs at home, and elsewhere (counted at the responsibility's share). */
export interface BillPart {
  readonly localFen: Fen
  readonly outOfAreaFen: Fen
}

export interface ResponsibilityPayout {
  readonly key: string
  readonly name: string
  /** What counts: local costs plus out-of-area costs at their counted share, rounded down to the fen. */
  readonly countedFen: Fen
  readonly deductibleFen: Fen
  readonly payPercent: number
  readonly limitFen: Fen
  /** min(limit, max(0, counted − deductible) × pay %), rounded down to the fen. */
  readonly payoutFen: Fen
  /** The limit, not the percentage, decided the payout. */
  readonly capped: boolean
}

export function responsibilityPayout(r: Responsibility, bill: BillPart): ResponsibilityPayout {
  const countedFen =
    bill.localFen + Math.floor((bill.outOfAreaFen * (r.outOfAreaCountedPercent ?? 100)) / 100)
  const byPercent = Math.floor((Math.max(0, countedFen - r.deductibleFen) * r.payPercent) / 100)
  const payoutFen = Math.min(r.limitFen, byPercent)
  return {
    key: r.key,
    name: r.name,
    countedFen,
    deductibleFen: r.deductibleFen,
    payPercent: r.payPercent,
    limitFen: r.limitFen,
    payoutFen,
    capped: byPercent > r.limitFen
  }
}

/** Each responsibility of the product for its part of the bill (a part not given is nothing), and the total. */
export function illustrateBill(
  product: RuleProduct,
  bill: Readonly<Record<string, BillPart | undefined>>
): { readonly lines: readonly ResponsibilityPayout[]; readonly totalFen: Fen } | null {
  const responsibilities = product.afterSale?.benefits?.responsibilities
  if (!responsibilities || responsibilities.length === 0) return null
  const lines = responsibilities.map((r) =>
    responsibilityPayout(r, bill[r.key] ?? { localFen: 0, outOfAreaFen: 0 })
  )
  return { lines, totalFen: lines.reduce((sum, line) => sum + line.payoutFen, 0) }
}

/**
 * A maturity return (Yunnan: 110 % of the premiums paid): for `units` units over the instalment
 * term (or one payment without instalments), what is paid in and what comes back, rounded down.
 */
export function maturityReturn(
  product: RuleProduct,
  unitPriceFen: Fen,
  units: number
): {
  readonly years: number
  readonly paidFen: Fen
  readonly returnFen: Fen
  readonly percent: number
} | null {
  const percent = product.features.maturityReturnPercent
  if (percent === undefined) return null
  const years = product.afterSale?.instalments?.years ?? 1
  const paidFen = unitPriceFen * units * years
  return { years, paidFen, returnFen: Math.floor((paidFen * percent) / 100), percent }
}

/** A product whose cover the agent can illustrate, as the terminal's rules in force state it. */
export interface IllustratedProduct {
  readonly regionCode: string
  readonly regionName: string
  readonly rulesVersion: number
  /** Some figure of the product is illustrative (示例), not from the source documents. */
  readonly illustrative: boolean
  /** What the bundle says is illustrative about the figures shown, in its words. */
  readonly illustrativeNotes: readonly string[]
  readonly product: RuleProduct
}

/** `benefits.products`: every product of the rules in force with responsibilities or a maturity return. */
export interface BenefitProductsView {
  readonly products: readonly IllustratedProduct[]
}

/** The products of a bundle worth illustrating, with whether the bundle marks anything of theirs illustrative. */
export function illustratedProducts(bundle: RuleBundle): IllustratedProduct[] {
  return bundle.products.flatMap((product, index) => {
    const responsibilities = product.afterSale?.benefits?.responsibilities?.length ?? 0
    if (responsibilities === 0 && product.features.maturityReturnPercent === undefined) return []
    // Illustrative where a figure the illustration shows is: the product as a whole, its price,
    // its responsibilities, its maturity return or its instalment term (not, say, its insurer's name).
    const path = `products[${index}]`
    const shown = ['pricing', 'features', 'afterSale.benefits', 'afterSale.instalments'].map(
      (p) => `${path}.${p}`
    )
    const notes = bundle.illustrative
      .filter(
        (entry) =>
          entry.path === path ||
          shown.some(
            (p) => entry.path === p || entry.path.startsWith(`${p}.`) || entry.path.startsWith(`${p}[`)
          )
      )
      .map((entry) => entry.note)
    const illustrative =
      product.illustrative === true ||
      product.afterSale?.benefits?.illustrative === true ||
      (product.afterSale?.benefits?.responsibilities ?? []).some((r) => r.illustrative === true) ||
      notes.length > 0
    return [
      {
        regionCode: bundle.region.code,
        regionName: bundle.region.name,
        rulesVersion: bundle.version,
        illustrative,
        illustrativeNotes: notes,
        product
      }
    ]
  })
}

/** What the agent entered: a bill per responsibility, or units for a maturity return. */
export interface IllustrationInput {
  readonly bill: Readonly<Record<string, BillPart | undefined>>
  readonly units: number
}

const EXAMPLE = '（示例）'

/**
 * The illustration as a document the report printout draws (A4, the same header and page
 * numbers): what each responsibility would pay for the bill, the maturity return for the units,
 * every figure from the bundle, marked 示例 where the bundle says so, and the bundle's disclaimer.
 */
export function illustrationDocument(
  item: IllustratedProduct,
  input: IllustrationInput,
  meta: { readonly printedAt: string; readonly printedBy: string }
): ReportDocument {
  const { product } = item
  const mark = item.illustrative ? EXAMPLE : ''
  const disclaimer = product.afterSale?.benefits?.disclaimer ?? '以上为示意，以保险合同条款为准'
  const tables: ReportTable[] = []
  const bill = illustrateBill(product, input.bill)
  if (bill) {
    const responsibilities = product.afterSale?.benefits?.responsibilities ?? []
    tables.push({
      title: `保险责任与示意赔付${mark}`,
      columns: [
        { label: '保险责任', kind: 'text' },
        { label: '保额', kind: 'money' },
        { label: '免赔额', kind: 'money' },
        { label: '给付比例', kind: 'text' },
        { label: '本地费用', kind: 'money' },
        { label: '异地费用', kind: 'money' },
        { label: '计入金额', kind: 'money' },
        { label: '示意赔付', kind: 'money' }
      ],
      rows: bill.lines.map((line, i) => {
        const r = responsibilities[i]
        const part = input.bill[line.key] ?? { localFen: 0, outOfAreaFen: 0 }
        return [
          `${line.name}${r?.illustrative ? EXAMPLE : ''}`,
          { fen: line.limitFen },
          { fen: line.deductibleFen },
          `${line.payPercent}%${r?.outOfAreaCountedPercent !== undefined ? `（异地按 ${r.outOfAreaCountedPercent}% 计入）` : ''}`,
          { fen: part.localFen },
          { fen: part.outOfAreaFen },
          { fen: line.countedFen },
          { fen: line.payoutFen }
        ]
      }),
      totals: ['合计', '', '', '', '', '', '', { fen: bill.totalFen }],
      note: `示意赔付 = min(保额, (计入金额 − 免赔额) × 给付比例)，按分向下取整。${disclaimer}`
    })
  }
  const price = product.pricing.kind === 'perUnit' ? product.pricing.bands : []
  const maturity = price.length > 0 ? maturityReturn(product, price[0].unitPriceFen, input.units) : null
  if (maturity) {
    tables.push({
      title: `期满返还示意${mark}`,
      columns: [
        { label: '每年每份', kind: 'money' },
        { label: '份数', kind: 'count' },
        { label: '缴费年数', kind: 'count' },
        { label: '累计缴费', kind: 'money' },
        { label: '返还比例', kind: 'text' },
        { label: '期满返还', kind: 'money' }
      ],
      rows: [
        [
          { fen: price[0].unitPriceFen },
          { count: input.units },
          { count: maturity.years },
          { fen: maturity.paidFen },
          `${maturity.percent}%`,
          { fen: maturity.returnFen }
        ]
      ],
      note: `按每年按时缴费、期满时计算。${disclaimer}`
    })
  }
  return {
    title: `保障示意 · ${product.name}`,
    fields: [
      { label: '地区', value: item.regionName },
      { label: '保险公司', value: product.insurer },
      { label: '规则依据', value: `${item.regionName} 规则包第 ${item.rulesVersion} 版` },
      ...(item.illustrative
        ? [
            {
              label: '说明',
              value: `标“示例”的数值为示例，来源文件未作规定${item.illustrativeNotes.length > 0 ? `：${item.illustrativeNotes.join('；')}` : ''}`
            }
          ]
        : []),
      { label: '打印人', value: meta.printedBy },
      { label: '打印时间', value: formatShanghaiDateTime(meta.printedAt) }
    ],
    tables,
    fileBaseName: safeFileName(`保障示意-${product.code}`)
  }
}
