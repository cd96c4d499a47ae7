import type { Fen } from './money'
import type { SpendingEntry } from './rules/engine'
import type { SaleStatus } from './sale'

/** A sale this terminal made to the account, as far as money is concerned. */
export interface LocalSpending {
  readonly amountFen: Fen
  /** UTC ISO, when sold. */
  readonly at: string
  readonly status: SaleStatus
  /** The centre's settlement time, once it accepted the sale. */
  readonly settledAt: string | null
}

/**
 * What counts against the account's balance and caps: the centre's own figure for this settlement
 * year (already in the snapshot's balance), plus what this terminal sold that the snapshot does not
 * include yet. A sale the centre settled before the balances were stated is inside both numbers
 * already and must not be counted again; a voided or rejected sale took nothing.
 */
export function spendingEntries(
  account: { readonly balanceAsOf: string; readonly spentThisSettlementYearFen: Fen },
  sales: readonly LocalSpending[]
): SpendingEntry[] {
  const entries: SpendingEntry[] = []
  if (account.spentThisSettlementYearFen > 0) {
    entries.push({
      amountFen: account.spentThisSettlementYearFen,
      at: account.balanceAsOf,
      reflectedInBalance: true
    })
  }
  for (const sale of sales) {
    if (sale.status === 'voided' || sale.status === 'rejected') continue
    if (sale.status === 'accepted' && sale.settledAt !== null && sale.settledAt <= account.balanceAsOf)
      continue
    entries.push({ amountFen: sale.amountFen, at: sale.at, reflectedInBalance: false })
  }
  return entries
}
