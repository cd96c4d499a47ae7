import type { Knex } from 'knex'
import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import type { ReceiptView, SaleSummary } from '../../../core/sale'
import type { SyncStatusView } from '../../../core/sync/status'
import { DEMO_ACCOUNTS, demoAccountNo } from '../../../db/seeds/demo-population'
import type { CounterRuntime } from '../../../backend/runtime'
import { setAccountStatus } from '../../../hub/db/accounts'
import { startHub } from '../../../hub/server'
import { fixedClock } from '../../../core/time'
import { ok, registerTerminal, syncStatus } from '../../support/sync'
import { openTestRuntime, recordingLogger, tempDir, TEST_NOW } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

/** Quick timeouts and no jitter: the loop runs in seconds, and every wait is the same each run. */
const TUNING = { timeoutMs: 3_000, random: () => 0.5 }

const syncNow = (runtime: CounterRuntime, as: CallContext) => runtime.dispatch('sync.now', {}, as)

async function hubAccount(db: Knex, cardNumber: string) {
  const account = DEMO_ACCOUNTS.find((a) => a.cardNumber === cardNumber)
  if (!account) throw new Error(cardNumber)
  const row = await db('accounts')
    .where({ account_no: demoAccountNo(account) })
    .first<{ balance_fen: number; historical_balance_fen: number }>()
  return { accountNo: demoAccountNo(account), ...row }
}

describe('the full loop against the reference centre', () => {
  it('syncs, sells while the centre is down, restarts, uploads, and shows what was accepted and rejected', async () => {
    const centre = await openTestHub()
    const dataDir = await tempDir()
    const log = recordingLogger()
    let runtime = await openTestRuntime({ dataDir, clock: centre.clock, log, syncTuning: TUNING })
    const port = Number(new URL(centre.url).port)

    await registerTerminal(runtime, centre.url)
    let clerk = await onShift(runtime)
    const first = await syncNow(runtime, clerk)
    expect(first).toMatchObject({
      ok: true,
      value: { connection: 'online', registered: true, lastError: null }
    })
    const synced = await syncStatus(runtime, clerk)
    expect(synced.snapshot.version).toBeGreaterThan(0)
    expect(synced.lastSyncAt).not.toBeNull()

    const quzhouBefore = await hubAccount(centre.db, 'C33080001')
    const shenyangBefore = await hubAccount(centre.db, 'E21010002')
    const offersBefore = await ok<{ maxSpendFen: number }>(
      runtime.dispatch(
        'eligibility.offers',
        { accountId: await accountIdOf(runtime, clerk, 'C33080001') },
        clerk
      )
    )

    // The centre goes away; the counter goes on selling.
    await centre.hub.close()
    const quzhouSale = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: await accountIdOf(runtime, clerk, 'C33080001'),
          lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }]
        },
        'C33080001'
      )
    )
    const shenyangSale = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: await accountIdOf(runtime, clerk, 'E21010002'),
          lines: [{ insured: { relation: 'self' }, productCode: 'SY-HEALTH-DEMO', units: 1 }]
        },
        'E21010002'
      )
    )
    expect(await syncNow(runtime, clerk)).toMatchObject({ ok: false, error: { code: 'SYNC_FAILED' } })
    const offline = await syncStatus(runtime, clerk)
    expect(offline).toMatchObject({
      connection: 'offline',
      queue: { count: 2, totalFen: quzhouSale.totalFen + shenyangSale.totalFen },
      rejectedCount: 0
    })
    expect(offline.lastError).toContain('连接不上中心')

    // The app is closed and opened again; the queue is still there.
    await runtime.close()
    runtime = await openTestRuntime({ dataDir, clock: centre.clock, log, syncTuning: TUNING })
    clerk = await onShift(runtime)
    expect((await syncStatus(runtime, clerk)).queue.count).toBe(2)

    // Meanwhile the Shenyang account was suspended at the centre; the centre comes back on its address.
    expect(await setAccountStatus(centre.db, shenyangBefore.accountNo, 'suspended', centre.clock)).toBe(true)
    centre.clock.advance(60_000)
    const restarted = await startHub({ db: centre.db, clock: centre.clock, port })
    try {
      const after = await syncNow(runtime, clerk)
      expect(after).toMatchObject({
        ok: true,
        value: { connection: 'online', queue: { count: 0, totalFen: 0 }, rejectedCount: 1, lastError: null }
      })

      const history = await ok<SaleSummary[]>(runtime.dispatch('sale.search', { scope: 'all' }, clerk))
      const accepted = history.find((sale) => sale.saleId === quzhouSale.saleId)
      const rejected = history.find((sale) => sale.saleId === shenyangSale.saleId)
      expect(accepted).toMatchObject({ status: 'accepted', centreResult: { rejection: null } })
      expect(rejected).toMatchObject({
        status: 'rejected',
        centreResult: { rejection: { code: 'ACCOUNT_SUSPENDED' } }
      })
      const receipt = await ok<ReceiptView>(
        runtime.dispatch('sale.receipt', { saleId: shenyangSale.saleId }, clerk)
      )
      expect(receipt.centreResult?.rejection?.message).toMatch(/[\u4e00-\u9fa5]/)

      // The centre took the money once, from the accepted sale only.
      expect((await hubAccount(centre.db, 'C33080001')).balance_fen).toBe(
        quzhouBefore.balance_fen - quzhouSale.totalFen
      )
      expect((await hubAccount(centre.db, 'E21010002')).balance_fen).toBe(shenyangBefore.balance_fen)
      // And the terminal, with the new snapshot, counts it once: not in the balance and again as pending.
      const card = await ok<{ balanceFen: number; status: string }>(
        runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, clerk)
      )
      expect(card.balanceFen).toBe(quzhouBefore.balance_fen - quzhouSale.totalFen)
      const offersAfter = await ok<{ maxSpendFen: number }>(
        runtime.dispatch(
          'eligibility.offers',
          { accountId: await accountIdOf(runtime, clerk, 'C33080001') },
          clerk
        )
      )
      expect(offersAfter.maxSpendFen).toBe(Math.max(0, offersBefore.maxSpendFen - quzhouSale.totalFen))
      expect(
        await ok<{ status: string }>(runtime.dispatch('cardholder.lookup', { input: 'E21010002' }, clerk))
      ).toMatchObject({ status: 'suspended' })
    } finally {
      await restarted.close()
    }
    expect(log.lines.join('\n')).not.toContain(
      DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')?.idNumber
    )
  })

  it('renews its token when the centre answers 401, and holds back a busy account without holding up another', async () => {
    const centre = await openTestHub()
    const log = recordingLogger()
    // The terminal's clock stays put while the centre's runs on: the centre sees the token expire first.
    const runtime = await openTestRuntime({ clock: fixedClock(TEST_NOW), log, syncTuning: TUNING })
    await registerTerminal(runtime, centre.url)
    const clerk = await onShift(runtime)
    centre.clock.advance(13 * 3_600_000)
    expect(await syncNow(runtime, clerk)).toMatchObject({
      ok: true,
      value: { connection: 'online', lastError: null }
    })
    expect(log.lines.some((line) => line.includes('centre_token_renewed_after_401'))).toBe(true)

    // The centre is settling the Quzhou account elsewhere: its sale waits, the Shenyang sale goes through.
    const quzhou = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')
    if (!quzhou) throw new Error('demo account')
    centre.faults.lockedAccounts.add(demoAccountNo(quzhou))
    const first = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: await accountIdOf(runtime, clerk, 'C33080001'),
          lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }]
        },
        'C33080001'
      )
    )
    const other = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: await accountIdOf(runtime, clerk, 'E21010002'),
          lines: [{ insured: { relation: 'self' }, productCode: 'SY-HEALTH-DEMO', units: 1 }]
        },
        'E21010002'
      )
    )
    await runtime.sync.uploadNow()
    const waiting = await ok<SyncStatusView>(syncNow(runtime, clerk))
    expect(waiting.queue).toMatchObject({ count: 1, totalFen: first.totalFen })
    expect(
      (await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: other.saleId }, clerk))).status
    ).toBe('accepted')
    expect(
      (await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: first.saleId }, clerk))).status
    ).toBe('uploaded')

    centre.faults.lockedAccounts.clear()
    expect(await ok<SyncStatusView>(syncNow(runtime, clerk))).toMatchObject({
      queue: { count: 0 },
      rejectedCount: 0
    })
    expect(
      (await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: first.saleId }, clerk))).status
    ).toBe('accepted')
  })
})
