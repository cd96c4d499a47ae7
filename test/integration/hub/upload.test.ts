import { describe, expect, it } from 'vitest'
import { uploadResponseSchema } from '../../../core/sync/protocol'
import { demoIdNumber } from '../../../db/seeds/demo-population'
import { withdrawRules } from '../../../hub/rules'
import {
  accountAtCentre,
  call,
  demoAccount,
  newId,
  openTestHub,
  register,
  reversalOf,
  saleFor,
  snapshot,
  upload
} from '../../support/hub'

/** 张建国, Yunnan: balance 1,800.00 of which the part above 1,000.00 may be spent; one YN-JRAK unit is 500.00. */
const YUNNAN = 'A53000001'
const oneUnit = (terminalId = 'T-TEST0001') =>
  saleFor(YUNNAN, [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], { terminalId })

describe('hub: upload and settlement', () => {
  it('settles a sale against the real balance; a resend answers alreadyAccepted with the first settledAt and deducts nothing more', async () => {
    const { url, clock } = await openTestHub()
    const { token, terminalId } = await register(url)
    const sale = oneUnit()
    const [first] = await upload(url, token, terminalId, [sale])
    expect(first).toEqual({
      itemId: sale.saleId,
      outcome: 'accepted',
      settledAt: '2026-11-22T02:30:00.000Z',
      reference: expect.stringMatching(/^ZX20261122\d{8}$/)
    })

    clock.advance(60_000)
    const [again] = await upload(url, token, terminalId, [sale])
    // The first answer again, the centre's settlement number included.
    expect(again).toEqual({
      itemId: sale.saleId,
      outcome: 'alreadyAccepted',
      settledAt: '2026-11-22T02:30:00.000Z',
      reference: first.outcome === 'accepted' ? first.reference : 'none'
    })
    // Historical balance first: 1,500.00 − 500.00; the total 1,800.00 − 500.00, once.
    expect(await accountAtCentre(url, token, YUNNAN)).toMatchObject({
      balanceFen: 130_000,
      historicalBalanceFen: 100_000,
      spentThisSettlementYearFen: 50_000
    })
  })

  it('refuses what the balance cannot pay with INSUFFICIENT_BALANCE and the engine’s Chinese reason, and repeats the refusal on a resend', async () => {
    const { url, clock } = await openTestHub()
    const { token, terminalId } = await register(url)
    const [, second] = await upload(url, token, terminalId, [oneUnit(), oneUnit()])
    expect(second).toMatchObject({
      outcome: 'rejected',
      code: 'INSUFFICIENT_BALANCE',
      settledAt: '2026-11-22T02:30:00.000Z'
    })
    expect(second.outcome === 'rejected' && second.message).toMatch(
      /^第 1 位被保险人：.*可用 300\.00.*低于保费 500\.00/
    )

    clock.advance(60_000)
    const [repeated] = await upload(url, token, terminalId, [{ ...oneUnit(), saleId: second.itemId }])
    expect(repeated).toEqual(second)
    expect((await accountAtCentre(url, token, YUNNAN)).balanceFen).toBe(130_000)
  })

  it('refuses a suspended account, an unknown card, a duplicate cover, an annual cap and withdrawn rules, each with its code', async () => {
    const { url, db, clock } = await openTestHub()
    const { token, terminalId } = await register(url)
    const suspended = saleFor('B54000003', [{ productCode: 'XZ-CARE', premiumFen: 36_000 }])
    // 拉姆's card reissued since the terminal's snapshot: found by her ID number (then below the threshold).
    const lhamo = saleFor('B54000002', [{ productCode: 'XZ-CARE', premiumFen: 36_000 }])
    const reissued = { ...lhamo, payer: { ...lhamo.payer, cardNumber: 'B54000999' } }
    const unknown = {
      ...lhamo,
      saleId: newId(),
      payer: { ...lhamo.payer, cardNumber: 'Z99999999', idNumber: demoIdNumber('540102', '19900101', '999') }
    }
    const quzhou = saleFor('C33080001', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }])
    const quzhouAgain = saleFor('C33080001', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }])
    // 赵婷, Shenyang: 4,000.00 a settlement year; 8 units of 500.00 use it up.
    const capFull = saleFor('E21010002', [{ productCode: 'SY-HEALTH-DEMO', units: 8, premiumFen: 400_000 }])
    const overCap = saleFor('E21010002', [{ productCode: 'SY-HEALTH-DEMO', units: 1, premiumFen: 50_000 }])
    const results = await upload(url, token, terminalId, [
      suspended,
      reissued,
      unknown,
      quzhou,
      quzhouAgain,
      capFull,
      overCap
    ])
    expect(results.map((r) => (r.outcome === 'rejected' ? r.code : r.outcome))).toEqual([
      'ACCOUNT_SUSPENDED',
      'INSUFFICIENT_BALANCE',
      'ACCOUNT_UNKNOWN',
      'accepted',
      'DUPLICATE_COVER',
      'accepted',
      'OVER_CAP'
    ])
    for (const result of results)
      if (result.outcome === 'rejected') expect(result.message).toMatch(/[\u4e00-\u9fff]/)
    expect(results[6].outcome === 'rejected' && results[6].message).toContain('限额 4,000.00')

    await withdrawRules(db, '539900', 2, '政策调整', clock)
    const [withdrawn] = await upload(url, token, terminalId, [oneUnit()])
    expect(withdrawn).toMatchObject({ outcome: 'rejected', code: 'RULES_WITHDRAWN' })
  })

  it('the next delta carries the payer’s new balance, before the insurer has issued a policy', async () => {
    const { url } = await openTestHub({ policyDelayMs: 86_400_000 })
    const { token, terminalId } = await register(url)
    const before = await snapshot(url, token)
    await upload(url, token, terminalId, [oneUnit()])
    const delta = await snapshot(url, token, before.header.snapshotVersion)
    expect(delta.header.snapshotVersion).toBeGreaterThan(before.header.snapshotVersion)
    expect(delta.accounts.map((account) => [account.cardNumber, account.balanceFen])).toEqual([
      [YUNNAN, 130_000]
    ])
    // Nothing since: the next delta is empty.
    const after = await snapshot(url, token, delta.header.snapshotVersion)
    expect(after.accounts).toEqual([])
  })

  it('the same sale twice in one upload is settled once: the second gets the first’s answer and number', async () => {
    const { url } = await openTestHub()
    const { token, terminalId } = await register(url)
    const sale = oneUnit()
    const refused = { ...oneUnit(), totalFen: 1 }
    const [first, second, third, fourth] = await upload(url, token, terminalId, [
      sale,
      refused,
      sale,
      refused
    ])
    expect(first).toMatchObject({ outcome: 'accepted', reference: expect.stringMatching(/^ZX/) })
    expect(third).toEqual({ ...first, outcome: 'alreadyAccepted' })
    expect(second).toMatchObject({ outcome: 'rejected', code: 'INVALID_ITEM' })
    expect(fourth).toEqual(second)
    expect(await accountAtCentre(url, token, YUNNAN)).toMatchObject({
      balanceFen: 130_000,
      spentThisSettlementYearFen: 50_000,
      holdings: [expect.objectContaining({ productCode: 'YN-JRAK' })]
    })
  })

  it('keeps one account’s order: once an item waits (account locked for settlement), the later ones for that account wait too', async () => {
    const { url, faults } = await openTestHub()
    const { token, terminalId } = await register(url)
    faults.lockedAccounts.add(demoAccount(YUNNAN).accountNo)
    const first = oneUnit()
    const other = saleFor('A53000003', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }])
    const second = oneUnit()
    const undo = reversalOf(first)
    const results = await upload(url, token, terminalId, [first, other, second, undo])
    expect(results.map((r) => r.outcome)).toEqual(['retryLater', 'accepted', 'retryLater', 'retryLater'])
    expect(results[0].outcome === 'retryLater' && results[0].message).toContain('正在结算')
    expect(results[2].outcome === 'retryLater' && results[2].message).toContain('前一笔')

    // Once unlocked: the first settles, the second no longer fits, the reversal gives the first back.
    faults.lockedAccounts.clear()
    const later = await upload(url, token, terminalId, [first, second, undo])
    expect(later.map((r) => (r.outcome === 'rejected' ? r.code : r.outcome))).toEqual([
      'accepted',
      'INSUFFICIENT_BALANCE',
      'accepted'
    ])
    expect((await accountAtCentre(url, token, YUNNAN)).balanceFen).toBe(180_000)
  })

  it('a reversal gives back what the sale took and its cover; resent it is alreadyAccepted; an unknown sale is SALE_UNKNOWN', async () => {
    const { url } = await openTestHub()
    const { token, terminalId } = await register(url)
    const sale = saleFor('C33080001', [
      { productCode: 'QZ-HQB-2027', premiumFen: 10_000 },
      { relation: 'child', productCode: 'QZ-HQB-2027', premiumFen: 10_000 }
    ])
    await upload(url, token, terminalId, [sale])
    expect((await accountAtCentre(url, token, 'C33080001')).holdings).toHaveLength(2)

    const undo = reversalOf(sale)
    const [reversed] = await upload(url, token, terminalId, [undo])
    expect(reversed).toMatchObject({ itemId: undo.reversalId, outcome: 'accepted' })
    expect(await accountAtCentre(url, token, 'C33080001')).toMatchObject({
      balanceFen: 98_000,
      historicalBalanceFen: 35_000,
      spentThisSettlementYearFen: 0,
      holdings: []
    })
    expect((await upload(url, token, terminalId, [undo]))[0].outcome).toBe('alreadyAccepted')
    // The cover is free again: the same person may buy it.
    expect(
      (
        await upload(url, token, terminalId, [
          saleFor('C33080001', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }])
        ])
      )[0].outcome
    ).toBe('accepted')

    const [unknown] = await upload(url, token, terminalId, [reversalOf(oneUnit())])
    expect(unknown).toMatchObject({ outcome: 'rejected', code: 'SALE_UNKNOWN' })
  })

  it('an answer lost after the commit: the resend is alreadyAccepted and the balance was deducted once', async () => {
    const { url, faults } = await openTestHub()
    const { token, terminalId } = await register(url)
    faults.dropResponseAfterCommit = 1
    const sale = oneUnit()
    await expect(upload(url, token, terminalId, [sale])).rejects.toThrow()
    const [resent] = await upload(url, token, terminalId, [sale])
    expect(resent).toMatchObject({
      itemId: sale.saleId,
      outcome: 'alreadyAccepted',
      settledAt: '2026-11-22T02:30:00.000Z'
    })
    expect((await accountAtCentre(url, token, YUNNAN)).balanceFen).toBe(130_000)
  })

  it('a body that is not JSON, not the protocol or too large is refused whole (400/413) and nothing is settled', async () => {
    const { url } = await openTestHub({ maxBodyBytes: 64 * 1024 })
    const { token, terminalId } = await register(url)
    const good = oneUnit()
    const broken = { ...oneUnit(), totalFen: -5 }
    const answer = await call(url, '/v1/transactions', { token, body: { terminalId, items: [good, broken] } })
    expect(answer.status).toBe(400)
    expect(answer.error()).toEqual({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('items[1].totalFen')
    })
    expect((await call(url, '/v1/transactions', { token, rawBody: '{"terminalId":' })).status).toBe(400)
    const huge = await call(url, '/v1/transactions', {
      token,
      body: { terminalId, items: [good], padding: 'x'.repeat(100_000) }
    })
    expect(huge.status).toBe(413)
    expect(huge.error().code).toBe('BODY_TOO_LARGE')

    expect((await accountAtCentre(url, token, YUNNAN)).balanceFen).toBe(180_000)
    // The good item was never settled: sent alone now, it is accepted for the first time.
    expect((await upload(url, token, terminalId, [good]))[0].outcome).toBe('accepted')
  })

  it('refuses an upload for another terminal id (403); 503 during maintenance; slow answers when asked', async () => {
    const { url, faults } = await openTestHub()
    const { token, terminalId } = await register(url)
    const foreign = await call(url, '/v1/transactions', {
      token,
      body: { terminalId: 'T-SOMEONE1', items: [oneUnit('T-SOMEONE1')] }
    })
    expect(foreign.status).toBe(403)
    expect(foreign.error().code).toBe('FORBIDDEN')

    faults.unavailable = 2
    for (let i = 0; i < 2; i++) {
      const busy = await call(url, '/v1/transactions', { token, body: { terminalId, items: [oneUnit()] } })
      expect(busy.status).toBe(503)
      expect(busy.headers.get('retry-after')).toBe('1')
      expect(busy.error()).toEqual({ code: 'UNAVAILABLE', message: expect.stringContaining('维护') })
    }
    faults.delayMs = 300
    const started = Date.now()
    const answer = await call(url, '/v1/transactions', { token, body: { terminalId, items: [oneUnit()] } })
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(uploadResponseSchema.parse(answer.json()).results[0].outcome).toBe('accepted')
    expect((await accountAtCentre(url, token, YUNNAN)).balanceFen).toBe(130_000)
  })

  it('issues the policies due together, in the order of sale, each holding with its own number', async () => {
    const { url, clock } = await openTestHub({ policyDelayMs: 3_600_000 })
    const { token, terminalId } = await register(url)
    const sales = [
      oneUnit(terminalId),
      saleFor('C33080001', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }], { terminalId }),
      saleFor('E21010002', [{ productCode: 'SY-HEALTH-DEMO', units: 2, premiumFen: 100_000 }], { terminalId })
    ]
    expect((await upload(url, token, terminalId, sales)).map((r) => r.outcome)).toEqual([
      'accepted',
      'accepted',
      'accepted'
    ])
    clock.advance(3_600_000)
    const answer = await call(url, '/v1/policies?after=0', { token })
    const { policies } = answer.json() as { policies: Array<{ saleId: string; policyNo: string }> }
    expect(policies.map((p) => p.saleId)).toEqual(sales.map((s) => s.saleId))
    const numbers = policies.map((p) => p.policyNo)
    expect(new Set(numbers).size).toBe(3)
    expect(numbers.map((n) => Number(n.slice(-8)))).toEqual(
      [1, 2, 3].map((k) => Number(numbers[0].slice(-8)) + k - 1)
    )
    // The delta shows each cardholder the number of the policy bought for them.
    const shown = await snapshot(url, token)
    sales.forEach((sale, i) => {
      const holder = shown.accounts.find((a) => a.cardNumber === sale.payer.cardNumber)
      const holding = holder?.holdings.find((h) => h.productCode === sale.lines[0].productCode)
      expect(holding?.policyNo).toBe(numbers[i])
    })
  })
})
