import { describe, expect, it } from 'vitest'
import type { ReceiptView } from '../../../core/sale'
import type { AuditEntryView, RejectionView } from '../../../core/supervision'
import type { SyncStatusView } from '../../../core/sync/status'
import * as m0008 from '../../../db/migrations/0008_rejection_follow_up'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import type { CounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

type Answer = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }

async function value<T>(answer: Promise<Answer>): Promise<T> {
  const result = await answer
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value as T
}

const payer = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')

/** A sale at the counter by the demo clerk, then rejected by "the centre". */
async function rejectedSale(runtime: CounterRuntime): Promise<string> {
  const clerk = await onShift(runtime)
  const order = {
    accountId: await accountIdOf(runtime, clerk, 'C33080001'),
    lines: [{ insured: { relation: 'self' as const }, productCode: 'QZ-HQB-2027', units: 1 }]
  }
  const receipt = await value<ReceiptView>(commit(runtime, clerk, order, 'C33080001'))
  // Written as the outbox repository writes the centre's rejection (test/sync/loop.test.ts produces a
  // real one against the reference centre); set directly here, since only the follow-up is under test.
  await runtime.db('sales').where({ id: receipt.saleId }).update({
    status: 'rejected',
    settled_at: '2026-11-22T02:31:00.000Z',
    result_code: 'BALANCE_INSUFFICIENT',
    result_message: '个人账户余额不足'
  })
  return receipt.saleId
}

describe('supervisor: sales the centre rejected', () => {
  it('lists each rejection with its reason, a masked payer and the operator; never the full name, ID or card', async () => {
    const runtime = await openTestRuntime()
    const saleId = await rejectedSale(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const list = await value<RejectionView[]>(runtime.dispatch('rejections.list', {}, supervisor))
    expect(list).toEqual([
      {
        saleId,
        createdAt: '2026-11-22T02:30:00.000Z',
        totalFen: 10_000,
        settledAt: '2026-11-22T02:31:00.000Z',
        reasonCode: 'BALANCE_INSUFFICIENT',
        reasonMessage: '个人账户余额不足',
        payerNameMasked: '徐**',
        payerCardMasked: 'C****0001',
        applicantMobileMasked: '139****5678',
        operatorCode: '1001',
        operatorName: '张敏',
        followUp: null
      }
    ])
    const json = JSON.stringify(list)
    for (const secret of [payer?.name, payer?.idNumber, payer?.cardNumber]) expect(json).not.toContain(secret)
  })

  it('a follow-up is recorded once, audit-logged, and takes the sale off the status bar count', async () => {
    const runtime = await openTestRuntime()
    const saleId = await rejectedSale(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    expect(await value<SyncStatusView>(runtime.dispatch('sync.status', {}, supervisor))).toMatchObject({
      rejectedCount: 1
    })

    expect(await runtime.dispatch('rejections.followUp', { saleId, note: '好' }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' }
    })
    const followed = await value<RejectionView>(
      runtime.dispatch('rejections.followUp', { saleId, note: '已电话告知参保人，改日重新办理' }, supervisor)
    )
    expect(followed.followUp).toEqual({
      at: '2026-11-22T02:30:00.000Z',
      operatorCode: '9001',
      operatorName: '陈芳',
      note: '已电话告知参保人，改日重新办理'
    })

    expect(await value<SyncStatusView>(runtime.dispatch('sync.status', {}, supervisor))).toMatchObject({
      rejectedCount: 0
    })
    expect(
      await value<RejectionView[]>(runtime.dispatch('rejections.list', { followedUp: false }, supervisor))
    ).toEqual([])
    expect(
      await value<RejectionView[]>(runtime.dispatch('rejections.list', { followedUp: true }, supervisor))
    ).toHaveLength(1)
    expect(await value<RejectionView[]>(runtime.dispatch('rejections.list', {}, supervisor))).toHaveLength(1)

    // A second follow-up is refused: the first one (who, when, what) stays as written.
    expect(
      await runtime.dispatch('rejections.followUp', { saleId, note: '再次跟进' }, supervisor)
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('不能重复跟进') }
    })
    // A sale that is not a rejection (or does not exist) cannot be followed up.
    expect(
      await runtime.dispatch(
        'rejections.followUp',
        { saleId: '019a0000-0000-7000-8000-000000000000', note: '已电话联系' },
        supervisor
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'SALE_NOT_FOUND' }
    })

    const log = await value<AuditEntryView[]>(
      runtime.dispatch('audit.list', { action: 'rejection_followed_up', limit: 10 }, supervisor)
    )
    expect(log).toEqual([
      expect.objectContaining({
        operatorCode: '9001',
        actionLabel: '跟进被拒交易',
        subject: saleId,
        details: null
      })
    ])
    // The note is free text and may name the customer: it stays with the sale, not in the log.
    expect(
      JSON.stringify(await value(runtime.dispatch('audit.list', { limit: 1000 }, supervisor)))
    ).not.toContain('电话告知')
  })
})

describe('migration 0008_rejection_follow_up', () => {
  it('adds and removes its columns in place on a database that already holds sales', async () => {
    const runtime = await openTestRuntime()
    const saleId = await rejectedSale(runtime)
    const columns = async () =>
      (await runtime.db.raw<Array<{ name: string }>>('PRAGMA table_info(sales)')).map((c) => c.name)
    await m0008.down(runtime.db)
    expect(await columns()).not.toContain('followed_up_at')
    await m0008.up(runtime.db)
    expect(await columns()).toEqual(
      expect.arrayContaining(['followed_up_at', 'followed_up_by', 'follow_up_note'])
    )
    expect(await runtime.db.raw('PRAGMA foreign_key_check')).toEqual([])
    expect(await runtime.db('sales').where({ id: saleId }).first()).toMatchObject({
      status: 'rejected',
      followed_up_at: null
    })
  })
})
