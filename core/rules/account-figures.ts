import { formatYuan, type Fen } from '../money'
import type { RuleBundle, RuleThreshold } from './bundle'
import type { PayerAccount, SpendingEntry } from './decision'
import { COMPARISON_SYMBOLS } from './labels'
import { inSettlementYear, settlementYearOf, type SettlementYear } from './settlement-year'

/** Whether an amount meets a threshold of the bundle (以上 is ≥, 超过 is >: the bundle says which). */
export function meets(value: Fen, t: RuleThreshold): boolean {
  switch (t.comparison) {
    case '>=':
      return value >= t.amountFen
    case '>':
      return value > t.amountFen
    case '<=':
      return value <= t.amountFen
    case '<':
      return value < t.amountFen
  }
}

export const yuan = (fen: Fen) => formatYuan(fen)
export const thresholdText = (t: RuleThreshold) =>
  `${COMPARISON_SYMBOLS[t.comparison]} ${yuan(t.amountFen)}（${t.text}）`
const sum = (entries: readonly { amountFen: Fen }[]) => entries.reduce((total, e) => total + e.amountFen, 0)

type SpendingBand = NonNullable<RuleBundle['spending']['bands']>[number]

/** Money facts of the account at a moment, independent of product and insured person, with their sentences. */
export interface AccountFigures {
  /** The balance the rules look at (total or historical), less what this terminal sold since the snapshot. */
  readonly balanceFen: Fen
  readonly balanceText: string
  /** The part of it that may be spent (above the bundle's floor, if any). */
  readonly usableFen: Fen
  readonly usableText: string
  readonly year: SettlementYear
  /** The spending band the balance falls in (Suzhou), if the bundle has bands. */
  readonly band: SpendingBand | undefined
  /** What is left of the yearly cap, if the bundle or the band sets one. */
  readonly cap: { readonly remainingFen: Fen; readonly text: string } | undefined
  /** The most that may be spent now: usable, and within the cap. */
  readonly maxSpendFen: Fen
}

export function accountFigures(
  bundle: RuleBundle,
  account: PayerAccount,
  spending: readonly SpendingEntry[],
  at: string
): AccountFigures {
  const label = bundle.balance.label
  const snapshotFen = bundle.balance.basis === 'total' ? account.balanceFen : account.historicalBalanceFen
  // The snapshot does not yet know what this terminal sold since; the centre settles that later.
  const pendingFen = sum(spending.filter((e) => !e.reflectedInBalance))
  const balanceFen = snapshotFen - pendingFen
  const balanceText =
    pendingFen > 0
      ? `${label} ${yuan(snapshotFen)} − 本机未同步支出 ${yuan(pendingFen)} = ${yuan(balanceFen)}`
      : `${label} ${yuan(balanceFen)}`

  const above = bundle.spending.usableAbove
  const usableFen = Math.max(0, above ? balanceFen - above.amountFen : balanceFen)
  const usableText = above
    ? `${balanceText}，减 ${yuan(above.amountFen)}（${above.text}）= 可用 ${yuan(usableFen)}`
    : `${balanceText}，可用 ${yuan(usableFen)}`

  const year = settlementYearOf(at, bundle.settlementYear.startMonthDay)
  const band = bundle.spending.bands?.find((b) => b.when.every((t) => meets(balanceFen, t)))
  const cap = yearlyCap(bundle, account, spending, year, band)
  const maxSpendFen = Math.min(usableFen, cap?.remainingFen ?? usableFen)
  return { balanceFen, balanceText, usableFen, usableText, year, band, cap, maxSpendFen }
}

/** What is left of the tightest yearly cap, counting this year's spending (and fitness-card transfers where they count). */
function yearlyCap(
  bundle: RuleBundle,
  account: PayerAccount,
  spending: readonly SpendingEntry[],
  year: SettlementYear,
  band: SpendingBand | undefined
): AccountFigures['cap'] {
  const caps = [bundle.spending.capPerSettlementYear?.amountFen, band?.capPerSettlementYearFen].filter(
    (c) => c !== undefined
  )
  if (caps.length === 0) return undefined
  const capFen = Math.min(...caps)
  const thisYearFen = sum(spending.filter((e) => inSettlementYear(e.at, year)))
  const earlierFen = sum(spending) - thisYearFen
  const fitnessFen = bundle.spending.countsAgainstCap.includes('fitnessCardTransfers')
    ? (account.fitnessCardTransfersFen ?? 0)
    : 0
  const usedFen = thisYearFen + fitnessFen
  const remainingFen = Math.max(0, capFen - usedFen)
  const used = fitnessFen > 0 ? `${yuan(usedFen)}（含阳光健身卡划账 ${yuan(fitnessFen)}）` : yuan(usedFen)
  const earlier = earlierFen > 0 ? `；其他结算年度的支出 ${yuan(earlierFen)} 不计入` : ''
  return {
    remainingFen,
    text: `${year.label}限额 ${yuan(capFen)} − 已用 ${used} = 剩余 ${yuan(remainingFen)}${earlier}`
  }
}
