import type { Fen } from './money'
import type { RuleProduct } from './rules/bundle'

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
