import type { RuleProduct } from './rules/bundle'
import { shanghaiDate } from './time'

/**
 * After the sale, as the bundle states it per product: when the cooling-off period (犹豫期) of a
 * sale ends. Pure: the terminal and the centre decide with the same function.
 */

/**
 * The end (exclusive, UTC ISO) of a cooling-off period of `days` calendar days after the day of the
 * sale in Asia/Shanghai, that day not counted: sold on 1 March with 15 days, it ends at 00:00 on
 * 17 March, Beijing time.
 */
export function coolingOffEndsAt(soldAt: string, days: number): string {
  const day = shanghaiDate(new Date(soldAt))
  const midnight = Date.parse(`${day}T00:00:00+08:00`)
  return new Date(midnight + (days + 1) * 86_400_000).toISOString()
}

export type CancellationTerms =
  | { readonly cancellable: true; readonly endsAt: string }
  | { readonly cancellable: false; readonly endsAt: string | null; readonly reason: string }

/** Whether a line of this product sold at `soldAt` may be cancelled for a full refund at `at`. */
export function cancellationTerms(
  product: RuleProduct | undefined,
  soldAt: string,
  at: string
): CancellationTerms {
  const afterSale = product?.afterSale
  if (!afterSale)
    return {
      cancellable: false,
      endsAt: null,
      reason: '规则包没有规定该产品的犹豫期：请联系保险公司办理退保'
    }
  const endsAt = coolingOffEndsAt(soldAt, afterSale.coolingOff.days)
  if (at >= endsAt)
    return {
      cancellable: false,
      endsAt,
      reason: `犹豫期已过（${afterSale.coolingOff.days} 日）：${afterSale.afterCoolingOff.text}，请联系保险公司`
    }
  return { cancellable: true, endsAt }
}

type InstalmentTerms = NonNullable<NonNullable<RuleProduct['afterSale']>['instalments']>

const DAY_MS = 86_400_000

/**
 * Where a policy paid by yearly instalments (续期缴费) stands: how many are paid (the sale is the
 * first), of how many, and when the next falls due (the end of the cover paid for) and lapses.
 */
export interface InstalmentPlan {
  readonly paid: number
  readonly years: number
  /** UTC ISO; null when every instalment is paid. */
  readonly nextDueAt: string | null
  /** The end (exclusive) of the grace period (宽限期) of the next instalment; null when none is due. */
  readonly graceEndsAt: string | null
}

/** The plan once `paid` instalments are paid and the cover paid for runs to `coverTo`. */
export function instalmentPlanAfter(
  terms: Pick<InstalmentTerms, 'years' | 'graceDays'>,
  paid: number,
  coverTo: string
): InstalmentPlan {
  if (paid >= terms.years) return { paid, years: terms.years, nextDueAt: null, graceEndsAt: null }
  return {
    paid,
    years: terms.years,
    nextDueAt: coverTo,
    graceEndsAt: new Date(Date.parse(coverTo) + terms.graceDays * DAY_MS).toISOString()
  }
}

/**
 * `paidUp`: nothing more to pay; `notYetDue`: before the window opens; `due`: payable, not yet
 * due; `grace`: past due, still payable (the policy stays in force); `lapsed`: the grace period is
 * over, the policy's effect is suspended (保险法 art. 36), the counter takes no payment.
 */
export type InstalmentStatus = 'paidUp' | 'notYetDue' | 'due' | 'grace' | 'lapsed'

export function instalmentStatus(
  plan: InstalmentPlan,
  terms: Pick<InstalmentTerms, 'payableDaysBefore'>,
  at: string
): InstalmentStatus {
  if (plan.nextDueAt === null || plan.graceEndsAt === null) return 'paidUp'
  const now = Date.parse(at)
  const due = Date.parse(plan.nextDueAt)
  if (now < due - terms.payableDaysBefore * DAY_MS) return 'notYetDue'
  if (now < due) return 'due'
  return now < Date.parse(plan.graceEndsAt) ? 'grace' : 'lapsed'
}

/** Whether a payment may be taken in this status. */
export const instalmentPayable = (status: InstalmentStatus): boolean => status === 'due' || status === 'grace'
