import { describe, expect, it } from 'vitest'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { accountIdOf } from '../../support/sale-fixtures'

/** Resolves with the call's answer, or with 'waited' if it has not answered in time. */
function within<T>(ms: number, promise: Promise<T>): Promise<T | 'waited'> {
  return Promise.race([promise, new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), ms))])
}

describe('the counter reads while the database is being written', () => {
  it('answers a swipe, the offers and a quote while a long write (a snapshot being applied) holds the writer', async () => {
    const runtime = await openTestRuntime()
    const clerk = await signedIn(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')

    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    let started: () => void = () => undefined
    const inside = new Promise<void>((resolve) => (started = resolve))
    const writing = runtime.db.transaction(async (trx) => {
      await trx('accounts').where({ id: accountId }).update({ balance_fen: 1, historical_balance_fen: 1 })
      started()
      await held
    })
    await inside
    try {
      const lookup = await within(3_000, runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, clerk))
      // The committed state, not the write in progress.
      expect(lookup).toMatchObject({ ok: true, value: { balanceFen: 98_000 } })
      expect(await within(3_000, runtime.dispatch('eligibility.offers', { accountId }, clerk))).toMatchObject(
        { ok: true }
      )
      const quote = {
        accountId,
        lines: [{ insured: { relation: 'self' as const }, productCode: 'QZ-HQB-2027', units: 1 }]
      }
      expect(await within(3_000, runtime.dispatch('sale.quote', quote, clerk))).toMatchObject({
        ok: true,
        value: { ok: true }
      })
    } finally {
      release()
      await writing
    }
    expect(await runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, clerk)).toMatchObject({
      ok: true,
      value: { balanceFen: 1 }
    })
  })
})
