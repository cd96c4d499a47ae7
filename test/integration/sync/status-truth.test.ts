import { describe, expect, it } from 'vitest'
import type { ReceiptView } from '../../../core/sale'
import type { SyncStatusView } from '../../../core/sync/status'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'
import { ok, registerTerminal } from '../../support/sync'

/**
 * The status bar tells the truth within seconds (#16): 离线 soon after the centre dies (not at the
 * next scheduled sync), and a queued reversal counts as waiting for upload.
 */
describe('the status bar within seconds', () => {
  it('says 离线 a few seconds after the centre dies, and counts a queued reversal', async () => {
    const centre = await openTestHub()
    const runtime = await openTestRuntime({
      clock: centre.clock,
      syncTuning: { intervalMs: 3_600_000, timeoutMs: 2_000, random: () => 0.5 }
    })
    await registerTerminal(runtime, centre.url)
    const clerk = await onShift(runtime)
    const status = () => ok<SyncStatusView>(runtime.dispatch('sync.status', {}, clerk))
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const sold = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }] },
        'C33080001'
      )
    )
    expect(sold.status).toBe('accepted')
    expect((await status()).connection).toBe('online')

    await centre.hub.close()
    await expect
      .poll(async () => (await status()).connection, { timeout: 12_000, interval: 250 })
      .toBe('offline')

    // Voided once the centre has it: a reversal waits for upload, and the bar says so.
    await ok(
      runtime.dispatch(
        'sale.void',
        { saleId: sold.saleId, reason: '客户改变主意', supervisorCode: '9001', supervisorPin: '999999' },
        await signedIn(runtime, 'clerk')
      )
    )
    expect((await status()).queue).toMatchObject({ count: 0, reversals: 1 })
  }, 30_000)
})
