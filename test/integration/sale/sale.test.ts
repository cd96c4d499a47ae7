import { describe, expect, it } from 'vitest'
import { UUID_V7 } from '../../../core/ids'
import type { EligibilityView } from '../../../core/eligibility'
import type { QuoteView, ReceiptView } from '../../../core/sale'
import { DEMO_ACCOUNTS, demoIdNumber } from '../../../db/seeds/demo-population'
import { openTestRuntime, signedIn } from '../../support/helpers'
import {
  APPLICANT_MOBILE,
  accountIdOf,
  beginPayment,
  commit,
  onShift,
  saleTables,
  SIGNATURE
} from '../../support/sale-fixtures'
import { cardPayment } from '../../support/payment'
import { ok } from '../../support/sync'

const quzhou = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')
const spouse = quzhou?.family.find((m) => m.relation === 'spouse')
const HQB = 'QZ-HQB-2027'

describe('selling at the counter', () => {
  it('refuses two different spouses in one order (#16): the second is a problem on its line', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const other = demoIdNumber('330802', '19800101', '022')
    const quote = await ok<QuoteView>(
      runtime.dispatch(
        'sale.quote',
        {
          accountId,
          lines: [
            {
              insured: { relation: 'spouse', idNumber: spouse?.idNumber, enrolmentConfirmed: true },
              productCode: HQB,
              units: 1
            },
            {
              insured: {
                relation: 'spouse',
                idNumber: other,
                name: '王某',
                proofSeen: true,
                enrolmentConfirmed: true
              },
              productCode: HQB,
              units: 1
            }
          ]
        },
        clerk
      )
    )
    expect(quote.ok).toBe(false)
    expect(quote.lines[0].problems).toEqual([])
    expect(quote.lines[1].problems).toContain('一份订单只能有一位配偶：本单已有另一位配偶')
  })

  it('sells 惠衢保 to a Quzhou payer and a bound spouse: one transaction, queued for upload', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const order = {
      accountId,
      lines: [
        { insured: { relation: 'self' as const }, productCode: HQB, units: 1 },
        {
          insured: { relation: 'spouse' as const, idNumber: spouse?.idNumber, enrolmentConfirmed: true },
          productCode: HQB,
          units: 1
        }
      ]
    }
    const quote = await runtime.dispatch('sale.quote', order, clerk)
    expect(quote).toMatchObject({
      ok: true,
      value: { ok: true, totalFen: 20_000, maxSpendFen: 35_000, rules: { regionCode: '330800', version: 2 } }
    })

    const result = await commit(runtime, clerk, order, 'C33080001')
    expect(result.ok).toBe(true)
    const receipt = (result as { value: ReceiptView }).value
    expect(receipt).toMatchObject({
      status: 'queued',
      totalFen: 20_000,
      payer: { cardNumberMasked: 'C****0001' },
      operator: { code: '1001' }
    })
    expect(receipt.saleId).toMatch(UUID_V7)
    expect(receipt.lines.map((l) => [l.relation, l.insuredNameMasked, l.premiumFen])).toEqual([
      ['self', '徐**', 10_000],
      ['spouse', '周*', 10_000]
    ])

    const sale = await runtime.db('sales').where({ id: receipt.saleId }).first()
    expect(sale).toMatchObject({
      status: 'queued',
      total_fen: 20_000,
      rules_version: 2,
      region_code: '330800'
    })
    expect(
      await runtime.db('ledger').where({ sale_id: receipt.saleId }).select('kind', 'amount_fen')
    ).toEqual([{ kind: 'reserve', amount_fen: -20_000 }])
    const outbox = await runtime
      .db('outbox')
      .where({ sale_id: receipt.saleId })
      .select('id', 'kind', 'state', 'payload_sealed')
    expect(outbox).toHaveLength(1)
    expect(outbox[0]).toMatchObject({ kind: 'sale', state: 'pending', id: expect.stringMatching(UUID_V7) })
    // Sealed at rest (it names the payer and the insured); the upload opens it.
    expect(JSON.parse(runtime.personalData.open(outbox[0].payload_sealed))).toMatchObject({
      saleId: receipt.saleId,
      totalFen: 20_000,
      rules: { version: 2 },
      lines: [{ productCode: HQB }, { productCode: HQB }]
    })
    const lines = await runtime
      .db('sale_lines')
      .where({ sale_id: receipt.saleId })
      .orderBy('line_no')
      .select('decision_json')
    expect(JSON.parse(lines[0].decision_json).checks.length).toBeGreaterThan(3)

    // What was sold here now counts: the same people cannot be insured twice, the rest of the balance is less.
    const offers = (await runtime.dispatch('eligibility.offers', { accountId }, clerk)) as {
      value: EligibilityView
    }
    expect(offers.value.maxSpendFen).toBe(15_000)
    expect(offers.value.soldHereThisYearFen).toBe(20_000)
    const again = (await runtime.dispatch('sale.quote', order, clerk)) as { value: QuoteView }
    expect(again.value.ok).toBe(false)
    expect(again.value.lines[0].problems.join()).toMatch(/已|重复|保障/)
  })

  it('refuses payment by another card, and writes nothing', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = {
      accountId: await accountIdOf(runtime, clerk, 'C33080001'),
      lines: [{ insured: { relation: 'self' as const }, productCode: HQB, units: 1 }]
    }
    const before = await saleTables(runtime)
    expect(await commit(runtime, clerk, order, 'C33080002')).toEqual({
      ok: false,
      error: {
        code: 'PAYMENT_CARD_MISMATCH',
        message: '付款刷卡不是同一张卡：请由持卡人刷本人的社会保障卡，本次未扣款'
      }
    })
    expect(await saleTables(runtime)).toEqual(before)
    // The payer's ID number is the same person: accepted as the second swipe.
    expect(await commit(runtime, clerk, order, quzhou?.idNumber ?? '')).toMatchObject({ ok: true })
  })

  it('refuses a Tibet payer one fen below the threshold, explaining, and writes nothing', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = {
      accountId: await accountIdOf(runtime, clerk, 'B54000002'),
      lines: [{ insured: { relation: 'self' as const }, productCode: 'XZ-CARE', units: 1 }]
    }
    const quote = (await runtime.dispatch('sale.quote', order, clerk)) as { value: QuoteView }
    expect(quote.value.ok).toBe(false)
    expect(quote.value.lines[0].problems.join()).toContain('2,999.99')
    const before = await saleTables(runtime)
    expect(await commit(runtime, clerk, order, 'B54000002')).toMatchObject({
      ok: false,
      error: { code: 'SALE_REFUSED', message: expect.stringContaining('2,999.99') }
    })
    expect(await saleTables(runtime)).toEqual(before)
  })

  it('counts earlier lines of the same order against the yearly cap (Shenyang, 4,000)', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'E21010002')
    const child = demoIdNumber('210103', '20150612', '002')
    const quote = (await runtime.dispatch(
      'sale.quote',
      {
        accountId,
        lines: [
          { insured: { relation: 'self' as const }, productCode: 'SY-HEALTH-DEMO', units: 6 },
          {
            insured: { relation: 'child' as const, idNumber: child, name: '赵小雨', proofSeen: true },
            productCode: 'SY-HEALTH-DEMO',
            units: 4
          }
        ]
      },
      clerk
    )) as { ok: boolean; value: QuoteView; error?: { message: string } }
    expect(quote.ok, quote.error?.message).toBe(true)
    expect(quote.value.lines[0].eligible).toBe(true)
    // 3,000 for the payer leaves 1,000 of the 4,000 cap: not enough for four units of the child's price.
    expect(quote.value.lines[1].eligible).toBe(false)
    expect(quote.value.ok).toBe(false)
  })

  it('asks for the relationship proof of a relative not bound to the account', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'A53000003')
    const relative = DEMO_ACCOUNTS[0].family[0].idNumber
    const line = {
      insured: { relation: 'child' as const, idNumber: relative, name: '王小明' },
      productCode: 'YN-BBAK',
      units: 1
    }
    const without = (await runtime.dispatch('sale.quote', { accountId, lines: [line] }, clerk)) as {
      value: QuoteView
    }
    expect(without.value.lines[0].problems).toContain(
      '请查验与被保险人的关系证明（户口簿或出生医学证明）并勾选'
    )
    const withProof = (await runtime.dispatch(
      'sale.quote',
      {
        accountId,
        lines: [{ ...line, insured: { ...line.insured, proofSeen: true } }],
        applicantMobile: APPLICANT_MOBILE
      },
      clerk
    )) as { value: QuoteView }
    expect(withProof.value).toMatchObject({ ok: true, totalFen: 180_000 })
  })

  it('needs an open shift to take payment', async () => {
    const runtime = await openTestRuntime()
    const clerk = await signedIn(runtime)
    const order = {
      accountId: await accountIdOf(runtime, clerk, 'C33080001'),
      lines: [{ insured: { relation: 'self' as const }, productCode: HQB, units: 1 }]
    }
    const noShift = { ok: false, error: { code: 'NO_SHIFT', message: '请先开班，再办理业务' } }
    expect(await runtime.dispatch('sale.begin', { accountId: order.accountId }, clerk)).toEqual(noShift)
    // A sale id from another shift's pay step does not help either.
    const other = await onShift(runtime, 'agent')
    const begun = await beginPayment(runtime, other, order.accountId)
    expect(
      await runtime.dispatch(
        'sale.commit',
        {
          saleId: begun.saleId,
          order,
          payment: cardPayment(begun, 'C33080001'),
          termsAcknowledged: true,
          signature: SIGNATURE
        },
        clerk
      )
    ).toEqual(noShift)
  })

  it('refuses a commit without the terms acknowledged or with a forged signature', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = {
      accountId: await accountIdOf(runtime, clerk, 'C33080001'),
      lines: [{ insured: { relation: 'self' as const }, productCode: HQB, units: 1 }]
    }
    const begun = await beginPayment(runtime, clerk, order.accountId)
    const payment = cardPayment(begun, 'C33080001')
    expect(
      await runtime.dispatch(
        'sale.commit',
        { saleId: begun.saleId, order, payment, termsAcknowledged: false, signature: SIGNATURE },
        clerk
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('请先确认已阅读条款') }
    })
    const script = { ...SIGNATURE, strokes: ['M0 0"/><script>alert(1)</script>'] }
    expect(
      await runtime.dispatch(
        'sale.commit',
        { saleId: begun.saleId, order, payment, termsAcknowledged: true, signature: script },
        clerk
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' }
    })
  })
})

describe('after the sale', () => {
  async function soldQuzhou() {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const sold = (await commit(
      runtime,
      clerk,
      { accountId, lines: [{ insured: { relation: 'self' as const }, productCode: HQB, units: 1 }] },
      'C33080001'
    )) as { value: ReceiptView }
    return { runtime, clerk, accountId, saleId: sold.value.saleId }
  }

  it('voids a sale not yet uploaded with a supervisor’s PIN, giving the money back to the account', async () => {
    const { runtime, clerk, accountId, saleId } = await soldQuzhou()
    const request = { saleId, reason: '客户放弃', supervisorCode: '9001', supervisorPin: '999999' }
    expect(await runtime.dispatch('sale.void', { ...request, supervisorPin: '000000' }, clerk)).toMatchObject(
      { ok: false, error: { code: 'AUTH_FAILED' } }
    )
    expect(
      await runtime.dispatch(
        'sale.void',
        { ...request, supervisorCode: '1001', supervisorPin: '111111' },
        clerk
      )
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(await runtime.dispatch('sale.void', request, clerk)).toMatchObject({
      ok: true,
      value: { status: 'voided', voided: { reason: '客户放弃' } }
    })

    expect(await runtime.db('ledger').where({ sale_id: saleId }).orderBy('id').pluck('amount_fen')).toEqual([
      -10_000, 10_000
    ])
    expect(await runtime.db('outbox').where({ sale_id: saleId }).pluck('state')).toEqual(['cancelled'])
    expect(
      ((await runtime.dispatch('eligibility.offers', { accountId }, clerk)) as { value: EligibilityView })
        .value.maxSpendFen
    ).toBe(35_000)
    expect(await runtime.dispatch('sale.void', request, clerk)).toMatchObject({
      ok: false,
      error: { code: 'VOID_REFUSED' }
    })
    expect(await runtime.db('audit_log').where({ subject: saleId }).pluck('action')).toEqual(['sale', 'void'])
  })

  it('queues a reversal for a sale already uploaded, keeping the original', async () => {
    const { runtime, clerk, saleId } = await soldQuzhou()
    await runtime.db('sales').where({ id: saleId }).update({ status: 'uploaded' })
    const result = await runtime.dispatch(
      'sale.void',
      { saleId, reason: '重复办理', supervisorCode: '9001', supervisorPin: '999999' },
      clerk
    )
    expect(result).toMatchObject({
      ok: true,
      value: { status: 'uploaded', reversalQueuedAt: expect.any(String) }
    })
    expect(
      await runtime.db('outbox').where({ sale_id: saleId }).orderBy('created_at').select('kind', 'state')
    ).toEqual([
      { kind: 'sale', state: 'pending' },
      { kind: 'reversal', state: 'pending' }
    ])
  })

  it('finds sales by card, by transaction id and by date, and reprints the receipt', async () => {
    const { runtime, clerk, saleId } = await soldQuzhou()
    const byCard = await runtime.dispatch('sale.search', { query: 'C33080001', scope: 'shift' }, clerk)
    expect(byCard).toMatchObject({
      ok: true,
      value: [{ saleId, status: 'queued', totalFen: 10_000, payerCardMasked: 'C****0001' }]
    })
    expect(await runtime.dispatch('sale.search', { query: saleId, scope: 'all' }, clerk)).toMatchObject({
      ok: true,
      value: [{ saleId }]
    })
    expect(await runtime.dispatch('sale.search', { date: '2026-11-22', scope: 'all' }, clerk)).toMatchObject({
      ok: true,
      value: [{ saleId }]
    })
    expect(await runtime.dispatch('sale.search', { date: '2026-11-21', scope: 'all' }, clerk)).toEqual({
      ok: true,
      value: []
    })
    expect(await runtime.dispatch('sale.receipt', { saleId }, clerk)).toMatchObject({
      ok: true,
      value: { saleId, totalFen: 10_000 }
    })
  })
})

describe('the choice of products', () => {
  it('offers each person only the products the rules would let them have', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'B54000001')
    const son = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'B54000001')?.family.find(
      (m) => m.relation === 'child'
    )
    const quote = (await runtime.dispatch(
      'sale.quote',
      {
        accountId,
        lines: [
          {
            insured: { relation: 'child' as const, idNumber: son?.idNumber },
            productCode: 'XZ-RRAK-MED',
            units: 1
          }
        ]
      },
      clerk
    )) as { value: QuoteView }
    // A 17-year-old boy: the medical product (minors' band) yes; the care product (18–65) and the women-only one no.
    expect(quote.value.lines[0].openProducts).toEqual(['XZ-RRAK-MED'])
  })
})

describe('selling offline', () => {
  it('stops once the snapshot and rules are older than the bundle’s offline limit, saying so', async () => {
    let now = Date.parse('2026-11-22T02:30:00Z')
    const runtime = await openTestRuntime({ clock: { now: () => new Date(now) } })
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const order = {
      accountId,
      lines: [{ insured: { relation: 'self' as const }, productCode: HQB, units: 1 }]
    }
    const fresh = (await runtime.dispatch('eligibility.offers', { accountId }, clerk)) as {
      value: EligibilityView
    }
    expect(fresh.value.freshness).toMatchObject({ ok: true, maxSnapshotAgeHours: 720, maxRulesAgeHours: 720 })

    now += 721 * 3_600_000
    const stale = (await runtime.dispatch('eligibility.offers', { accountId }, clerk)) as {
      value: EligibilityView
    }
    expect(stale.value.freshness).toMatchObject({
      ok: false,
      reason: expect.stringContaining('超过离线办理上限 720 小时')
    })
    const quote = (await runtime.dispatch('sale.quote', order, clerk)) as { value: QuoteView }
    expect(quote.value.ok).toBe(false)
    expect(quote.value.blockers[0]).toContain('请先同步数据')
    const before = await saleTables(runtime)
    expect(await commit(runtime, clerk, order, 'C33080001')).toMatchObject({
      ok: false,
      error: { code: 'SALE_REFUSED', message: expect.stringContaining('账户数据已 721 小时未更新') }
    })
    expect(await saleTables(runtime)).toEqual(before)
  })
})

describe('offline amount limits', () => {
  it('refuses one sale over the offline per-sale limit (5,000.00), explaining', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'A53000003')
    const child = DEMO_ACCOUNTS[0].family[0].idNumber
    // 宝宝安康 at 1,800.00 a unit: three units are 5,400.00.
    const line = (units: number) => ({
      insured: { relation: 'child' as const, idNumber: child, name: '王小明', proofSeen: true },
      productCode: 'YN-BBAK',
      units
    })
    const two = (await runtime.dispatch(
      'sale.quote',
      { accountId, lines: [line(2)], applicantMobile: APPLICANT_MOBILE },
      clerk
    )) as { value: QuoteView }
    expect(two.value).toMatchObject({ ok: true, totalFen: 360_000, blockers: [] })
    const three = (await runtime.dispatch('sale.quote', { accountId, lines: [line(3)] }, clerk)) as {
      value: QuoteView
    }
    expect(three.value.ok).toBe(false)
    expect(three.value.blockers).toEqual([
      '本笔 5,400.00 元超过离线单笔上限 5,000.00 元：请分笔办理，或上传后再办理'
    ])
  })

  it('stops selling when 200 sales already wait for upload', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const order = {
      accountId,
      lines: [{ insured: { relation: 'self' as const }, productCode: HQB, units: 1 }]
    }
    // 200 earlier sales of another card, still in the outbox (written as the sale service would, in bulk).
    const other = await accountIdOf(runtime, clerk, 'E21010002')
    const shift = await runtime.db('shifts').first<{ id: number; operator_id: number }>('id', 'operator_id')
    const at = '2026-11-22T02:00:00.000Z'
    for (let i = 0; i < 200; i++) {
      const id = `01a20000-0000-7000-8000-${String(i).padStart(12, '0')}`
      await runtime.db('sales').insert({
        id,
        terminal_id: 'T',
        shift_id: shift.id,
        operator_id: shift.operator_id,
        account_id: other,
        region_code: '210100',
        rules_version: 1,
        total_fen: 100,
        status: 'queued',
        created_at: at,
        terms_acknowledged_at: at,
        signature_svg: '<svg/>'
      })
      await runtime.db('outbox').insert({
        id: `01a20000-0000-7000-9000-${String(i).padStart(12, '0')}`,
        kind: 'sale',
        sale_id: id,
        payload_sealed: runtime.personalData.seal('{}'),
        created_at: at
      })
    }
    const quote = (await runtime.dispatch('sale.quote', order, clerk)) as { value: QuoteView }
    expect(quote.value.blockers).toEqual(['待上传交易已有 200 笔，达到离线上限 200 笔：请先上传'])
    expect(await commit(runtime, clerk, order, 'C33080001')).toMatchObject({
      ok: false,
      error: { code: 'SALE_REFUSED', message: expect.stringContaining('请先上传') }
    })
  })
})
