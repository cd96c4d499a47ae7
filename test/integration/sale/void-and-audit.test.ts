import { describe, expect, it } from 'vitest'
import type { AuditEntryView } from '../../../core/supervision'
import type { QuoteView, ReceiptView } from '../../../core/sale'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import {
  accountIdOf,
  beginPayment,
  commit,
  onShift,
  saleTables,
  SIGNATURE
} from '../../support/sale-fixtures'
import { cardPayment } from '../../support/payment'
import { ok, registerTerminal } from '../../support/sync'

/**
 * Voids need a second person, and the audit log says who and why (#16): the approver by operator
 * code, the reason; sign-outs, reprints and registration are there too.
 */
describe('voids and what the audit log says of them', () => {
  it('the requester cannot approve their own void; the audit names the approver by code, with the reason', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await onShift(runtime, 'supervisor')
    const accountId = await accountIdOf(runtime, supervisor, 'C33080001')
    const sale = await ok<ReceiptView>(
      commit(
        runtime,
        supervisor,
        { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }] },
        'C33080001'
      )
    )
    const voidAs = (as: typeof supervisor) =>
      runtime.dispatch(
        'sale.void',
        { saleId: sale.saleId, reason: '产品或份数选错', supervisorCode: '9001', supervisorPin: '999999' },
        as
      )
    expect(await voidAs(supervisor)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN', message: expect.stringContaining('申请人不能批准自己的作废') }
    })
    expect(
      (await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: sale.saleId }, supervisor))).voided
    ).toBeNull()

    await ok(voidAs(await signedIn(runtime, 'clerk')))
    const [line] = await ok<AuditEntryView[]>(
      runtime.dispatch('audit.list', { action: 'void', limit: 10 }, supervisor)
    )
    expect(line.details).toEqual({ approvedBy: '9001', reason: '产品或份数选错' })
  })

  it('sign-outs, reprints (marked 补打) and registration are audited', async () => {
    const centre = await openTestHub()
    const runtime = await openTestRuntime({ clock: centre.clock, syncTuning: { random: () => 0.5 } })
    await registerTerminal(runtime, centre.url, '柯城区医保服务大厅')
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const sale = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }] },
        'C33080001'
      )
    )
    expect(sale.reprint).toBeUndefined()
    const again = await ok<ReceiptView>(
      runtime.dispatch('sale.receipt', { saleId: sale.saleId, reprint: true }, clerk)
    )
    expect(again.reprint).toBe(true)
    await ok(runtime.dispatch('auth.signOut', {}, clerk))

    const supervisor = await signedIn(runtime, 'supervisor')
    const log = await ok<AuditEntryView[]>(runtime.dispatch('audit.list', { limit: 100 }, supervisor))
    const of = (action: string) => log.filter((line) => line.action === action)
    expect(of('terminal_registered')).toEqual([
      expect.objectContaining({
        operatorCode: '9001',
        actionLabel: '向中心注册终端',
        details: { territory: '柯城区医保服务大厅' }
      })
    ])
    expect(of('receipt_reprinted')).toEqual([
      expect.objectContaining({ operatorCode: '1001', subject: sale.saleId, actionLabel: '补打凭条' })
    ])
    expect(of('sign_out')).toEqual([
      expect.objectContaining({ operatorCode: '1001', actionLabel: '退出登录' })
    ])
  })
})

describe('a repeat purchase is told to the customer before they pay (#16)', () => {
  it('a second order of the same product for the same person waits for the clerk’s confirmation', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'E21010002')
    const order = {
      accountId,
      lines: [{ insured: { relation: 'self' as const }, productCode: 'SY-HEALTH-DEMO', units: 1 }]
    }
    await ok(commit(runtime, clerk, order, 'E21010002'))

    const quote = await ok<QuoteView>(runtime.dispatch('sale.quote', order, clerk))
    expect(quote.lines[0].warnings).toEqual(['该被保险人在保障期内已在本终端购买过此产品，本单将增加份数'])
    const pay = async (warningsAcknowledged?: boolean) => {
      const begun = await beginPayment(runtime, clerk, accountId)
      return runtime.dispatch(
        'sale.commit',
        {
          saleId: begun.saleId,
          order,
          payment: cardPayment(begun, 'E21010002'),
          termsAcknowledged: true,
          ...(warningsAcknowledged === undefined ? {} : { warningsAcknowledged }),
          signature: SIGNATURE
        },
        clerk
      )
    }
    const before = await saleTables(runtime)
    expect(await pay()).toMatchObject({
      ok: false,
      error: { code: 'SALE_REFUSED', message: expect.stringContaining('请先向客户说明并确认：第 1 位') }
    })
    expect(await saleTables(runtime)).toEqual(before)
    expect(await pay(true)).toMatchObject({ ok: true })
  })
})
