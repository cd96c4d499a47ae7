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
