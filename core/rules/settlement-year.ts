import { shanghaiDate } from '../time'

/**
 * A settlement year (结算年度) runs from its start day (MM-DD, Asia/Shanghai) to the day before the
 * next one. Regions count their annual caps and person limits inside it; the seeds name no start
 * day, so the demo bundles say "01-01" (the calendar year) explicitly.
 */
export interface SettlementYear {
  /** First day, YYYY-MM-DD (Shanghai). */
  readonly from: string
  /** First day of the next settlement year (exclusive). */
  readonly to: string
  readonly label: string
}

export function settlementYearOf(atUtc: string, startMonthDay: string): SettlementYear {
  const day = shanghaiDate(new Date(atUtc))
  const year = Number(day.slice(0, 4)) - (day.slice(5) >= startMonthDay ? 0 : 1)
  const from = `${year}-${startMonthDay}`
  const to = `${year + 1}-${startMonthDay}`
  const label = startMonthDay === '01-01' ? `${year} 结算年度` : `${from} 起的结算年度`
  return { from, to, label }
}

/** Whether a UTC instant falls in the settlement year (compared on its Shanghai date). */
export function inSettlementYear(atUtc: string, year: SettlementYear): boolean {
  const day = shanghaiDate(new Date(atUtc))
  return day >= year.from && day < year.to
}
