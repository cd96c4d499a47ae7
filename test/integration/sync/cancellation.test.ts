import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import type { EligibilityView } from '../../../core/eligibility'
import type { CounterRuntime } from '../../../backend/runtime'
import type { ReportDocument } from '../../../core/report/document'
import type { SummaryReportView } from '../../../core/report/summary'
import type { ReceiptView } from '../../../core/sale'
import { shanghaiDate } from '../../../core/time'
import { signedIn } from '../../support/helpers'
import { onlineTerminal } from '../../support/online'
import { openTestHub, register, saleFor, upload } from '../../support/hub'
import { accountIdOf, commit, saleTables } from '../../support/sale-fixtures'
import { ok } from '../../support/sync'

/**
 * Cooling-off cancellation (犹豫期退保, #17): within the product's period the payer's card and a
 * supervisor's approval queue it; the centre refunds to the personal account and the refund no
 * longer counts against the settlement year's cap, so the next decision allows the amount again.
 */

const SUPERVISOR = { supervisorCode: '9001', supervisorPin: '999999' }
const DAY = 86_400_000

const online = onlineTerminal

/** 西藏护理保险 (360.00) for the Tibet cardholder B54000001 themselves, paid with their card. */
const sellCare = (runtime: CounterRuntime, clerk: CallContext, accountId: number) =>
  ok<ReceiptView>(
    commit(
      runtime,
      clerk,
      { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'XZ-CARE', units: 1 }] },
      'B54000001'
    )
  )

describe('cooling-off cancellation', () => {
  it('refunds within the period and frees the cap: the next decision allows the amount again', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'B54000001')
    const maxSpend = async () =>
      (await ok<EligibilityView>(runtime.dispatch('eligibility.offers', { accountId }, clerk))).maxSpendFen
    const capBefore = await maxSpend()
    const balanceAtCentre = async () =>
      (
        await centre
          .db('accounts')
          .where({ card_number: 'B54000001' })
          .first<{ balance_fen: number }>('balance_fen')
      ).balance_fen
    const centreBefore = await balanceAtCentre()

    const sold = await sellCare(runtime, clerk, accountId)
    expect(sold.status).toBe('accepted')
    expect(sold.lines[0].cancellation).toEqual({ allowed: true, endsAt: expect.any(String), reason: null })
    await ok(runtime.dispatch('sync.now', {}, clerk))
    // 3,200.00 less 360.00 is under Tibet's 3,000 threshold: nothing more may be spent this year.
    expect(await maxSpend()).toBe(0)
    const spentAtCentre = async () =>
      (
        await centre
          .db('spending_years as y')
          .join('accounts as a', 'a.id', 'y.account_id')
          .where({ 'a.card_number': 'B54000001' })
          .sum<Array<{ spent: number | null }>>({ spent: 'y.spent_fen' })
      )[0].spent ?? 0
    expect(await spentAtCentre()).toBe(36_000)

    // Someone else's card, or the clerk approving themselves: refused, nothing queued.
    const before = await saleTables(runtime)
    const cancel = (card: string, approval = SUPERVISOR) =>
      runtime.dispatch(
        'sale.cancel',
        { saleId: sold.saleId, lineNos: [1], reason: '客户犹豫期内改变主意', card, ...approval },
        clerk
      )
    expect(await cancel('B54000002')).toMatchObject({ ok: false, error: { code: 'PAYMENT_CARD_MISMATCH' } })
    expect(await cancel('B54000001', { supervisorCode: '1001', supervisorPin: '111111' })).toMatchObject({
      ok: false
    })
    expect(await runtime.db('cancellations').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 0 }])
    expect(await saleTables(runtime)).toEqual(before)

    centre.clock.advance(60_000)
    const cancelled = await ok<ReceiptView>(cancel('B54000001'))
    expect(cancelled.cancellations).toMatchObject([
      { lineNos: [1], refundFen: 36_000, status: 'queued', approvedBy: { code: '9001' } }
    ])
    expect(cancelled.lines[0].cancellation).toMatchObject({ allowed: false, reason: '退保申请待中心受理' })
    // Asked again while it waits: refused.
    expect(await cancel('B54000001')).toMatchObject({ ok: false, error: { code: 'CANCEL_REFUSED' } })

    // Online, it went up at once. The refund counts before the next snapshot says so.
    await expect
      .poll(
        async () =>
          (await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: sold.saleId }, clerk)))
            .cancellations[0].status
      )
      .toBe('accepted')
    expect(await maxSpend()).toBe(capBefore)
    await ok(runtime.dispatch('sync.now', {}, clerk))
    const after = await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: sold.saleId }, clerk))
    expect(after.cancellations[0]).toMatchObject({ status: 'accepted', centreResult: { rejection: null } })
    expect(after.lines[0].cancelledAt).not.toBeNull()
    expect(await balanceAtCentre()).toBe(centreBefore)
    expect(await spentAtCentre()).toBe(0)
    expect(await centre.db('policies').where({ sale_id: sold.saleId }).first('cancelled_at')).toMatchObject({
      cancelled_at: expect.any(String)
    })
    expect(
      await centre.db('holdings').where({ sale_id: sold.saleId }).count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: 0 }])
    // The cap is free again: the same amount may be spent, and the same product bought again.
    expect(await maxSpend()).toBe(capBefore)
    const again = await sellCare(runtime, clerk, accountId)
    expect(again.status).toBe('accepted')

    // The supervisor's summary lists the refund apart from the sales, which it does not change.
    const supervisor = await signedIn(runtime, 'supervisor')
    const today = shanghaiDate(centre.clock.now())
    const report = await ok<SummaryReportView>(
      runtime.dispatch('report.summary', { from: today, to: today }, supervisor)
    )
    expect(report.cancellations).toEqual([
      expect.objectContaining({
        saleId: sold.saleId,
        refundFen: 36_000,
        status: 'accepted',
        approverCode: '9001'
      })
    ])
    expect(report.summary.totals.all.amountFen).toBe(72_000)
    const document = await ok<ReportDocument>(
      runtime.dispatch('report.document', { source: { kind: 'summary', from: today, to: today } }, supervisor)
    )
    const table = document.tables.find((t) => t.title === '犹豫期退保')
    expect(table?.rows.map((row) => [row[1], row[4], row[5]])).toEqual([
      [sold.saleId, { fen: 36_000 }, '已退回']
    ])
    expect(table?.totals?.[4]).toEqual({ fen: 36_000 })
  })

  it('after the period the counter says why and queues nothing; the centre refuses a late one itself', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'B54000001')
    const sold = await sellCare(runtime, clerk, accountId)
    centre.clock.advance(16 * DAY)
    const late = await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: sold.saleId }, clerk))
    expect(late.lines[0].cancellation.allowed).toBe(false)
    expect(late.lines[0].cancellation.reason).toMatch(/^犹豫期已过（15 日）/)
    expect(
      await runtime.dispatch(
        'sale.cancel',
        { saleId: sold.saleId, lineNos: [1], reason: '客户改变主意', card: 'B54000001', ...SUPERVISOR },
        clerk
      )
    ).toMatchObject({ ok: false, error: { code: 'CANCEL_REFUSED' } })

    // A terminal that claims otherwise: the centre checks the period from the sale's own rules.
    const hub = await openTestHub()
    const terminal = await register(hub.url, 'T-CANCEL01')
    const sale = saleFor('B54000001', [{ productCode: 'XZ-CARE', premiumFen: 36_000 }], {
      terminalId: terminal.terminalId
    })
    expect((await upload(hub.url, terminal.token, terminal.terminalId, [sale]))[0].outcome).toBe('accepted')
    hub.clock.advance(16 * DAY)
    // The token ran out meanwhile: the same terminal again.
    const { token } = await register(hub.url, 'T-CANCEL01')
    const cancellation = {
      type: 'cancellation' as const,
      cancellationId: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4aa',
      saleId: sale.saleId,
      lineNos: [1],
      terminalId: terminal.terminalId,
      operatorCode: '1001',
      approvedBy: '9001',
      payerCardNumber: 'B54000001',
      at: hub.clock.now().toISOString(),
      reason: '客户改变主意',
      refundFen: 36_000
    }
    const [refused] = await upload(hub.url, token, terminal.terminalId, [cancellation])
    expect(refused).toMatchObject({ outcome: 'rejected', code: 'COOLING_OFF_OVER' })
    // Within the period but for another card, or for more than the premium: refused too.
    hub.clock.advance(-16 * DAY)
    const within = { ...cancellation, at: hub.clock.now().toISOString() }
    const [wrongCard] = await upload(hub.url, token, terminal.terminalId, [
      { ...within, cancellationId: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4ab', payerCardNumber: 'B54000002' }
    ])
    expect(wrongCard).toMatchObject({ outcome: 'rejected', code: 'PAYER_UNVERIFIED' })
    const [tooMuch] = await upload(hub.url, token, terminal.terminalId, [
      { ...within, cancellationId: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4ac', refundFen: 99_000 }
    ])
    expect(tooMuch).toMatchObject({ outcome: 'rejected', code: 'INVALID_ITEM' })
    const [done] = await upload(hub.url, token, terminal.terminalId, [
      { ...within, cancellationId: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4ad' }
    ])
    expect(done.outcome).toBe('accepted')
    const [twice] = await upload(hub.url, token, terminal.terminalId, [
      { ...within, cancellationId: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4ae' }
    ])
    expect(twice).toMatchObject({ outcome: 'rejected', code: 'ALREADY_CANCELLED' })
  })

  it('offline it waits in the queue; two requests for the same line at once queue one', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'B54000001')
    const sold = await sellCare(runtime, clerk, accountId)
    centre.faults.unavailable = 1_000
    const request = () =>
      runtime.dispatch(
        'sale.cancel',
        { saleId: sold.saleId, lineNos: [1], reason: '客户改变主意', card: 'B54000001', ...SUPERVISOR },
        clerk
      )
    const answers = await Promise.all([request(), request(), request()])
    expect(answers.filter((answer) => answer.ok)).toHaveLength(1)
    expect(await runtime.db('cancellations').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 1 }])
    expect(
      await runtime
        .db('outbox')
        .where({ kind: 'cancellation', state: 'pending' })
        .count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: 1 }])

    centre.faults.unavailable = 0
    await ok(runtime.dispatch('sync.now', {}, clerk))
    const after = await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: sold.saleId }, clerk))
    expect(after.cancellations.map((c) => c.status)).toEqual(['accepted'])
  })
})
