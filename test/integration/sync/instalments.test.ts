import { describe, expect, it } from 'vitest'
import type { CardholderView, HoldingView } from '../../../core/cardholder'
import type { SummaryReportView } from '../../../core/report/summary'
import type { QuoteView, ReceiptView } from '../../../core/sale'
import { shanghaiDate } from '../../../core/time'
import type { SaleItem } from '../../../core/sync/protocol'
import { DEMO_INSTALMENT } from '../../../hub/db/seed'
import { signedIn } from '../../support/helpers'
import { onlineTerminal } from '../../support/online'
import { type openTestHub, register, saleFor, upload } from '../../support/hub'
import { APPLICANT_MOBILE, commit, saleTables } from '../../support/sale-fixtures'
import { ok } from '../../support/sync'

/**
 * Yearly instalments (续期缴费, #17): the demo centre holds 赵丽华's (A53000004) 吉瑞安康 policy of
 * 2 units, sold 340 days ago, so its second instalment is due within the month. Paid at the
 * counter it is a sale line for the same policy and units, decided by this year's rules; the
 * centre settles it like a sale, moves the policy a year on, and a reversal moves it back.
 */

const CARD = DEMO_INSTALMENT.cardNumber
const DAY = 86_400_000

async function online() {
  const { centre, runtime, clerk } = await onlineTerminal()
  const swipe = () => ok<CardholderView>(runtime.dispatch('cardholder.lookup', { input: CARD }, clerk))
  return { centre, runtime, clerk, swipe }
}

const policyRow = (db: Awaited<ReturnType<typeof openTestHub>>['db']) =>
  db('policies')
    .where({ policy_no: DEMO_INSTALMENT.policyNo })
    .first<{ instalments_paid: number; next_due_at: string | null; cover_to: string }>(
      'instalments_paid',
      'next_due_at',
      'cover_to'
    )

const dueOf = (view: CardholderView): HoldingView => {
  const due = view.holdings.find((h) => h.instalment !== null)
  if (!due?.instalment) throw new Error('no instalment shown')
  return due
}

describe('yearly instalments', () => {
  it('shows the due instalment first, pays it under this year’s rules, and the centre moves the policy a year on', async () => {
    const { centre, runtime, clerk, swipe } = await online()
    const before = await swipe()
    const due = dueOf(before)
    expect(before.holdings[0]).toBe(due)
    expect(due).toMatchObject({
      productCode: 'YN-JRAK',
      relation: 'self',
      units: 2,
      policyNo: DEMO_INSTALMENT.policyNo,
      instalment: { sequence: 2, years: 10, status: 'due', amountFen: 100_000 }
    })
    const atCentre = await policyRow(centre.db)
    expect(due.instalment?.dueAt).toBe(atCentre.next_due_at)

    const order = {
      accountId: before.accountId,
      applicantMobile: APPLICANT_MOBILE,
      lines: [
        {
          insured: { relation: 'self' as const },
          productCode: 'YN-JRAK',
          instalmentOf: due.instalment?.policyRef
        }
      ]
    }
    const quote = await ok<QuoteView>(runtime.dispatch('sale.quote', order, clerk))
    expect(quote).toMatchObject({ ok: true, totalFen: 100_000 })
    expect(quote.lines[0]).toMatchObject({
      instalment: { sequence: 2, years: 10, policyNo: DEMO_INSTALMENT.policyNo },
      cover: { from: atCentre.next_due_at }
    })
    // This year's rule decides: only the part of the balance above 1,000 may be spent.
    expect(quote.lines[0].checks.map((c) => c.rule)).toContain('balance.threshold[0]')

    const paid = await ok<ReceiptView>(commit(runtime, clerk, order, CARD))
    expect(paid.status).toBe('accepted')
    expect(paid.lines[0]).toMatchObject({
      instalment: { sequence: 2, years: 10 },
      policy: { policyNo: DEMO_INSTALMENT.policyNo },
      units: 2,
      premiumFen: 100_000,
      cancellation: { allowed: false, reason: expect.stringContaining('续期缴费不适用犹豫期退保') }
    })
    const moved = await policyRow(centre.db)
    expect(moved.instalments_paid).toBe(2)
    expect(moved.next_due_at).toBe(paid.lines[0].coverTo)
    expect(
      await centre.db('received_sale_lines').where({ sale_id: paid.saleId }).first('instalment_no')
    ).toEqual({
      instalment_no: 2
    })

    // Before the next snapshot, and after it: the third instalment, next year, not yet payable.
    for (const step of ['before sync', 'after sync']) {
      if (step === 'after sync') await ok(runtime.dispatch('sync.now', {}, clerk))
      const next = dueOf(await swipe()).instalment
      expect(next, step).toMatchObject({ sequence: 3, status: 'notYetDue', dueAt: paid.lines[0].coverTo })
    }
    // The supervisor's summary counts it apart: 续期, not 新单.
    const supervisor = await signedIn(runtime, 'supervisor')
    const today = shanghaiDate(centre.clock.now())
    const report = await ok<SummaryReportView>(
      runtime.dispatch('report.summary', { from: today, to: today }, supervisor)
    )
    expect(report.summary.byKind?.map((g) => [g.name, g.net.saleCount, g.net.amountFen])).toEqual([
      ['新单', 0, 0],
      ['续期', 1, 100_000]
    ])
    const again = await ok<QuoteView>(runtime.dispatch('sale.quote', order, clerk))
    expect(again.ok).toBe(false)
    expect(again.lines[0].problems.join()).toContain('尚未到可缴期')

    // A new policy of a product paid yearly: its second instalment falls due when its first year ends.
    const bought = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: before.accountId,
          lines: [{ insured: { relation: 'self' }, productCode: 'YN-JRAK', units: 1 }]
        },
        CARD,
        { warningsAcknowledged: true }
      )
    )
    expect(bought.lines[0].instalment).toEqual({ sequence: 1, years: 10 })
    const fresh = (await swipe()).holdings.find((h) => h.sale?.saleId === bought.saleId)
    expect(fresh?.instalment).toMatchObject({
      policyRef: { saleId: bought.saleId, lineNo: 1 },
      sequence: 2,
      status: 'notYetDue',
      dueAt: bought.lines[0].coverTo,
      amountFen: 50_000
    })
  })

  it('the same instalment paid twice at once is taken once: the second is refused and writes nothing', async () => {
    const { centre, runtime, clerk, swipe } = await online()
    const view = await swipe()
    const order = {
      accountId: view.accountId,
      lines: [
        {
          insured: { relation: 'self' as const },
          productCode: 'YN-JRAK',
          instalmentOf: dueOf(view).instalment?.policyRef
        }
      ]
    }
    const before = await saleTables(runtime)
    const answers = await Promise.all([
      commit(runtime, clerk, order, CARD),
      commit(runtime, clerk, order, CARD)
    ])
    expect(answers.filter((a) => a.ok)).toHaveLength(1)
    expect(answers.find((a) => !a.ok)).toMatchObject({ ok: false, error: { code: 'SALE_REFUSED' } })
    expect((await saleTables(runtime)).sales).toBe(before.sales + 1)
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect((await policyRow(centre.db)).instalments_paid).toBe(2)
    expect(await centre.db('instalment_payments').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 1 }])
  })

  it('a reversal of the instalment puts the policy back: the same instalment is due again', async () => {
    const { centre, runtime, clerk, swipe } = await online()
    const before = await swipe()
    const due = dueOf(before)
    const paid = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: before.accountId,
          lines: [
            { insured: { relation: 'self' }, productCode: 'YN-JRAK', instalmentOf: due.instalment?.policyRef }
          ]
        },
        CARD
      )
    )
    expect(paid.status).toBe('accepted')
    const supervisor = { supervisorCode: '9001', supervisorPin: '999999' }
    await ok(runtime.dispatch('sale.void', { saleId: paid.saleId, reason: '收错保单', ...supervisor }, clerk))
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect(await policyRow(centre.db)).toMatchObject({
      instalments_paid: 1,
      next_due_at: due.instalment?.dueAt
    })
    expect(await centre.db('instalment_payments').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 0 }])
    expect(dueOf(await swipe()).instalment).toMatchObject({ sequence: 2, status: 'due' })
  })

  it('after the grace period the policy shows lapsed, and neither the counter nor the centre takes the payment', async () => {
    const { centre, runtime, clerk, swipe } = await online()
    const { next_due_at: dueAt } = await policyRow(centre.db)
    if (!dueAt) throw new Error('no instalment due')
    // In grace (past due, within 60 days): still payable, shown first.
    const moveTo = async (at: number) => {
      centre.clock.advance(at - centre.clock.now().getTime())
      await ok(runtime.dispatch('sync.now', {}, clerk))
    }
    await moveTo(Date.parse(dueAt) + 10 * DAY)
    expect(dueOf(await swipe()).instalment).toMatchObject({ sequence: 2, status: 'grace' })

    await moveTo(Date.parse(dueAt) + 61 * DAY)
    const view = await swipe()
    const lapsed = dueOf(view)
    expect(lapsed.instalment?.status).toBe('lapsed')
    const before = await saleTables(runtime)
    const refused = await commit(
      runtime,
      clerk,
      {
        accountId: view.accountId,
        lines: [
          {
            insured: { relation: 'self' },
            productCode: 'YN-JRAK',
            instalmentOf: lapsed.instalment?.policyRef
          }
        ]
      },
      CARD
    )
    expect(refused).toMatchObject({ ok: false, error: { code: 'SALE_REFUSED' } })
    expect(!refused.ok && refused.error.message).toContain('宽限期已过，保单效力中止')
    expect(await saleTables(runtime)).toEqual(before)

    // A terminal that says otherwise is refused by the centre, with the reason; nothing is taken.
    const terminal = await register(centre.url, 'T-LATE0001', 'DEMO-539900')
    const ref = await centre
      .db('policies')
      .where({ policy_no: DEMO_INSTALMENT.policyNo })
      .first<{ sale_id: string; line_no: number }>('sale_id', 'line_no')
    const base = saleFor(CARD, [{ productCode: 'YN-JRAK', premiumFen: 100_000 }], {
      terminalId: 'T-LATE0001',
      at: centre.clock.now().toISOString()
    })
    const coverTo = new Date(Date.parse(dueAt) + 365 * DAY).toISOString()
    const late: SaleItem = {
      ...base,
      lines: base.lines.map((line) => ({
        ...line,
        units: 2,
        coverFrom: dueAt,
        coverTo,
        instalment: { saleId: ref.sale_id, lineNo: ref.line_no, sequence: 2 }
      }))
    }
    const balance = async () =>
      (await centre.db('accounts').where({ card_number: CARD }).first<{ balance_fen: number }>('balance_fen'))
        .balance_fen
    const balanceBefore = await balance()
    const [result] = await upload(centre.url, terminal.token, 'T-LATE0001', [late])
    expect(result).toMatchObject({ outcome: 'rejected', code: 'INSTALMENT_REFUSED' })
    expect(result.outcome === 'rejected' && result.message).toContain('宽限期已过')
    expect(await balance()).toBe(balanceBefore)
    expect((await policyRow(centre.db)).instalments_paid).toBe(1)
  })
})
