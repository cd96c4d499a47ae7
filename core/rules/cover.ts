import type { RuleProduct } from './bundle'

/**
 * The cover period a purchase at `at` gets: the product's fixed period, or for a term product from
 * the next midnight in Beijing time (cover starts the day after purchase, as is usual) for its months.
 * UTC ISO instants; `to` is exclusive.
 */
export function coverPeriodOf(product: RuleProduct, at: string): { from: string; to: string } {
  if (product.cover.kind === 'fixed') return { from: product.cover.from, to: product.cover.to }
  const shanghai = new Date(Date.parse(at) + 8 * 3600_000)
  const nextMidnight =
    Date.UTC(shanghai.getUTCFullYear(), shanghai.getUTCMonth(), shanghai.getUTCDate() + 1) - 8 * 3600_000
  const start = new Date(nextMidnight + 8 * 3600_000)
  const end =
    Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + product.cover.months, start.getUTCDate()) -
    8 * 3600_000
  return { from: new Date(nextMidnight).toISOString(), to: new Date(end).toISOString() }
}

/**
 * The cover a yearly instalment pays for: the product's months from the due date (the end of the
 * cover paid before, a Beijing midnight), whenever within the window it is paid.
 */
export function instalmentCoverOf(product: RuleProduct, dueAt: string): { from: string; to: string } {
  const months = product.cover.kind === 'term' ? product.cover.months : 12
  const start = new Date(Date.parse(dueAt) + 8 * 3600_000)
  const end =
    Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + months, start.getUTCDate()) - 8 * 3600_000
  return { from: dueAt, to: new Date(end).toISOString() }
}
