import { describe, expect, it } from 'vitest'
import { spendingEntries, type LocalSpending } from '../../../core/spending'

const balanceAsOf = '2026-11-20T00:00:00.000Z'
const sale = (
  status: LocalSpending['status'],
  settledAt: string | null,
  amountFen = 10_000
): LocalSpending => ({ amountFen, at: '2026-11-19T08:00:00.000Z', status, settledAt })

describe('what counts against the balance after a sync', () => {
  it('counts a sale the centre settled before the balances were stated only once, inside the centre figure', () => {
    const entries = spendingEntries({ balanceAsOf, spentThisSettlementYearFen: 10_000 }, [
      sale('accepted', '2026-11-19T09:00:00.000Z')
    ])
    expect(entries).toEqual([{ amountFen: 10_000, at: balanceAsOf, reflectedInBalance: true }])
  })

  it('still deducts a sale the snapshot does not know yet: queued, in flight, or settled after the balances', () => {
    const entries = spendingEntries({ balanceAsOf, spentThisSettlementYearFen: 0 }, [
      sale('queued', null, 1_000),
      sale('uploaded', null, 2_000),
      sale('accepted', '2026-11-21T00:00:00.000Z', 4_000)
    ])
    expect(entries.filter((e) => !e.reflectedInBalance).map((e) => e.amountFen)).toEqual([
      1_000, 2_000, 4_000
    ])
  })

  it('takes nothing for a voided or rejected sale', () => {
    expect(
      spendingEntries({ balanceAsOf, spentThisSettlementYearFen: 0 }, [
        sale('voided', null),
        sale('rejected', '2026-11-19T09:00:00.000Z')
      ])
    ).toEqual([])
  })
})
