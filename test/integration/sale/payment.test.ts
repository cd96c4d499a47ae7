import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import type { DraftOrder, ReceiptView } from '../../../core/sale'
import type { CounterRuntime } from '../../../backend/runtime'
import { saleItemSchema } from '../../../core/sync/protocol'
import { openTestRuntime } from '../../support/helpers'
import { cardPayment } from '../../support/payment'
import {
  accountIdOf,
  beginPayment,
  commit,
  onShift,
  saleTables,
  SIGNATURE
} from '../../support/sale-fixtures'

const HQB = 'QZ-HQB-2027'
const SUPERVISOR = { supervisorCode: '9001', supervisorPin: '999999' }
const selfLine = (productCode: string, quantity: { units?: number; amountFen?: number }) => ({
  insured: { relation: 'self' as const },
  productCode,
  ...quantity
})

/** The Quzhou demo cardholder insuring himself with one unit of 惠衢保. */
async function quzhouOrder(runtime: CounterRuntime, clerk: CallContext): Promise<DraftOrder> {
  return { accountId: await accountIdOf(runtime, clerk, 'C33080001'), lines: [selfLine(HQB, { units: 1 })] }
}

describe('nothing counted twice, nothing over the cap', () => {
  it('five payments at once for an account with 500.00 of its yearly cap left: exactly one goes through', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    // Suzhou, 4,500.00 with 500.00 already transferred to a fitness card: 500.00 of the 1,000.00 cap left.
    const order = {
      accountId: await accountIdOf(runtime, clerk, 'D32050002'),
      lines: [selfLine('SZ-HEALTH-DEMO', { amountFen: 50_000 })]
    }
    const results = await Promise.all(
      Array.from({ length: 5 }, () => commit(runtime, clerk, order, 'D32050002'))
    )
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    for (const refused of results.filter((r) => !r.ok))
      expect(refused).toMatchObject({ ok: false, error: { code: 'SALE_REFUSED' } })
    const [{ taken }] = await runtime
      .db('sales')
      .where({ account_id: order.accountId })
      .sum<Array<{ taken: number }>>({ taken: 'total_fen' })
    expect(taken).toBe(50_000)
  })

  it('the same payment sent again after its answer was lost sells once and answers with the same receipt', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = await quzhouOrder(runtime, clerk)
    const begun = await beginPayment(runtime, clerk, order.accountId)
    const request = {
      saleId: begun.saleId,
      order,
      payment: cardPayment(begun, 'C33080001'),
      termsAcknowledged: true as const,
      signature: SIGNATURE
    }
    const [first, second] = await Promise.all([
      runtime.dispatch('sale.commit', request, clerk),
      runtime.dispatch('sale.commit', request, clerk)
    ])
    const third = await runtime.dispatch('sale.commit', request, clerk)
    expect(first).toMatchObject({ ok: true, value: { saleId: begun.saleId } })
    expect(second).toEqual(first)
    expect(third).toEqual(first)
    expect(await saleTables(runtime)).toMatchObject({ sales: 1, outbox: 1 })
  })

  it('a sale id the pay step never began, or began for another account, takes nothing', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = await quzhouOrder(runtime, clerk)
    const other = await beginPayment(runtime, clerk, await accountIdOf(runtime, clerk, 'A53000001'))
    const before = await saleTables(runtime)
    const refused = await runtime.dispatch(
      'sale.commit',
      {
        saleId: other.saleId,
        order,
        payment: cardPayment(other, 'C33080001'),
        termsAcknowledged: true,
        signature: SIGNATURE
      },
      clerk
    )
    expect(refused).toMatchObject({ ok: false, error: { code: 'PAYMENT_EXPIRED' } })
    expect(await saleTables(runtime)).toEqual(before)
  })
})

describe('the payer verified on this side', () => {
  it('the password travels only sealed: the outbox item carries a PIN block bound to the sale, never the digits', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = await quzhouOrder(runtime, clerk)
    const sold = await commit(runtime, clerk, order, 'C33080001', { pin: '802417' })
    expect(sold).toMatchObject({ ok: true, value: { payerProof: 'swiped', keyedApprovedBy: null } })
    const [pending] = await createPendingItems(runtime)
    const parsed = saleItemSchema.parse(pending)
    expect(parsed.payment).toMatchObject({ method: 'card', entry: 'swiped' })
    expect(JSON.stringify(parsed)).not.toContain('802417')
  })

  it('a card or ID number typed at the pay step needs another supervisor’s approval, and is marked keyed', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = await quzhouOrder(runtime, clerk)
    const before = await saleTables(runtime)
    expect(await commit(runtime, clerk, order, 'C33080001', { entry: 'keyed' })).toMatchObject({
      ok: false,
      error: { code: 'APPROVAL_REQUIRED' }
    })
    expect(
      await commit(runtime, clerk, order, 'C33080001', {
        entry: 'keyed',
        approval: { supervisorCode: '9001', supervisorPin: '000000' }
      })
    ).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } })
    expect(
      await commit(runtime, clerk, order, 'C33080001', {
        entry: 'keyed',
        approval: { supervisorCode: '2001', supervisorPin: '222222' }
      })
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(await saleTables(runtime)).toEqual(before)

    // A supervisor selling at the counter cannot approve their own keyed entry.
    const supervisor = await onShift(runtime, 'supervisor')
    expect(
      await commit(runtime, supervisor, order, 'C33080001', { entry: 'keyed', approval: SUPERVISOR })
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(await saleTables(runtime)).toEqual(before)

    const sold = await commit(runtime, clerk, order, 'C33080001', { entry: 'keyed', approval: SUPERVISOR })
    expect(sold).toMatchObject({
      ok: true,
      value: { payerProof: 'keyed', keyedApprovedBy: { code: '9001', name: '陈芳' } }
    })
    const saleId = (sold as { value: ReceiptView }).value.saleId
    const audit = await runtime
      .db('audit_log')
      .where({ action: 'sale', subject: saleId })
      .first('details_json')
    expect(JSON.parse(audit.details_json as string)).toMatchObject({ payerProof: 'keyed' })
    const [item] = await createPendingItems(runtime)
    expect(saleItemSchema.parse(item).payment).toMatchObject({
      method: 'card',
      entry: 'keyed',
      keyedApprovedBy: '9001'
    })
  })

  it('an e-voucher is refused while the centre cannot confirm it, and nothing is written', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = await quzhouOrder(runtime, clerk)
    const begun = await beginPayment(runtime, clerk, order.accountId)
    const before = await saleTables(runtime)
    const refused = await runtime.dispatch(
      'sale.commit',
      {
        saleId: begun.saleId,
        order,
        payment: { method: 'voucher', voucherCode: 'EV0123456789ABCDEF0123' },
        termsAcknowledged: true,
        signature: SIGNATURE
      },
      clerk
    )
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'PAYMENT_REFUSED', message: expect.stringContaining('连不上中心') }
    })
    expect(await saleTables(runtime)).toEqual(before)
  })
})

/** The items the upload would send now, unsealed, as the centre would receive them. */
async function createPendingItems(runtime: Awaited<ReturnType<typeof openTestRuntime>>) {
  const rows = await runtime
    .db('outbox')
    .where({ state: 'pending' })
    .orderBy('created_at')
    .select('payload_sealed')
  return rows.map((row) => JSON.parse(runtime.personalData.open(row.payload_sealed as Buffer)) as unknown)
}
