import { describe, expect, it } from 'vitest'
import { listProductsForSelf, type ProductOffer } from '../../../core/rules/engine'
import { inSettlementYear, settlementYearOf } from '../../../core/rules/settlement-year'
import { account, demoBundle, demoIdNumber, NOW, run } from '../../support/rule-fixtures'

describe('settlement year (Asia/Shanghai)', () => {
  it('is the calendar year in Shanghai when it starts on 01-01', () => {
    const year = settlementYearOf('2025-12-31T16:00:00.000Z', '01-01') // 2026-01-01 00:00 Shanghai
    expect(year).toEqual({ from: '2026-01-01', to: '2027-01-01', label: '2026 结算年度' })
    expect(inSettlementYear('2025-12-31T15:59:59.999Z', year)).toBe(false)
    expect(inSettlementYear('2026-12-31T15:59:59.999Z', year)).toBe(true)
    expect(inSettlementYear('2026-12-31T16:00:00.000Z', year)).toBe(false)
  })

  it('starts on the day a bundle names', () => {
    expect(settlementYearOf('2026-03-31T15:59:59.000Z', '04-01').from).toBe('2025-04-01')
    expect(settlementYearOf('2026-03-31T16:00:00.000Z', '04-01').from).toBe('2026-04-01')
  })

  it('a bundle with another start day moves the annual cap with it', () => {
    const tibet = demoBundle('540000')
    const aprilYear = { ...tibet, settlementYear: { ...tibet.settlementYear, startMonthDay: '04-01' } }
    const payer = account(tibet, demoIdNumber('540102', '19900512', '015'), { balanceFen: 500_000 })
    const spending = [{ amountFen: 150_000, at: '2026-02-01T02:00:00.000Z', reflectedInBalance: true }]
    expect(
      run({ bundle: tibet, account: payer, productCode: 'XZ-RRAK-MED', units: 1, spending }).eligible
    ).toBe(false)
    expect(
      run({ bundle: aprilYear, account: payer, productCode: 'XZ-RRAK-MED', units: 1, spending }).eligible
    ).toBe(true)
  })
})

describe('products for the cardholder themselves (shown after a swipe)', () => {
  const byCode = (offers: ProductOffer[]) => Object.fromEntries(offers.map((o) => [o.code, o]))

  it('Quzhou: the 2021 product is closed, the 2027 one is open and marked illustrative', () => {
    const bundle = demoBundle('330800')
    const offers = byCode(
      listProductsForSelf({
        bundle,
        account: account(bundle, demoIdNumber('330802', '19760309', '011'), { historicalBalanceFen: 35_000 }),
        spending: [],
        insuredByPayer: [],
        coveredProductCodes: [],
        at: NOW
      })
    )
    expect(offers['QZ-HQB-2021'].available).toBe(false)
    expect(offers['QZ-HQB-2021'].reasons.map((r) => r.rule)).toEqual(['product.enrolmentWindow'])
    expect(offers['QZ-HQB-2027']).toMatchObject({
      available: true,
      illustrative: true,
      allowed: { units: { min: 1, max: 1 }, unitPriceFen: 10_000, maxSpendFen: 35_000 }
    })
  })

  it('Yunnan: an adult sees 吉瑞安康 with the units they can pay for, not 宝宝安康', () => {
    const bundle = demoBundle('539900')
    const offers = byCode(
      listProductsForSelf({
        bundle,
        account: account(bundle, demoIdNumber('530102', '19680415', '013'), { balanceFen: 180_000 }),
        spending: [],
        insuredByPayer: [],
        coveredProductCodes: [],
        at: NOW
      })
    )
    expect(offers['YN-JRAK']).toMatchObject({
      available: true,
      illustrative: true,
      allowed: { maxSpendFen: 80_000, units: { min: 1, max: 1 }, premiumFen: 50_000 }
    })
    expect(offers['YN-BBAK'].available).toBe(false)
    expect(offers['YN-BBAK'].reasons.map((r) => r.rule)).toEqual(['product.ageBand'])
  })

  it('Suzhou: offers the smallest amount the band and the cap allow; none when the cap is used up', () => {
    const bundle = demoBundle('320500')
    const payer = account(bundle, demoIdNumber('320505', '19820101', '062'), {
      historicalBalanceFen: 600_000,
      fitnessCardTransfersFen: 150_000
    })
    const offer = listProductsForSelf({
      bundle,
      account: payer,
      spending: [],
      insuredByPayer: [],
      coveredProductCodes: [],
      at: NOW
    })[0]
    expect(offer).toMatchObject({
      available: true,
      allowed: { amountsFen: [50_000], premiumFen: 50_000, maxSpendFen: 50_000 }
    })
    const usedUp = listProductsForSelf({
      bundle,
      account: { ...payer, fitnessCardTransfersFen: 200_000 },
      spending: [],
      insuredByPayer: [],
      coveredProductCodes: [],
      at: NOW
    })[0]
    expect(usedUp.available).toBe(false)
    expect(usedUp.reasons.map((r) => r.rule)).toEqual(['spending.cap'])
    expect(usedUp.allowed.amountsFen).toEqual([])
  })

  it('Tibet: a man does not see the women-only product as available; a product already held is not available', () => {
    const bundle = demoBundle('540000')
    const offers = byCode(
      listProductsForSelf({
        bundle,
        account: account(bundle, demoIdNumber('540102', '19790512', '015'), { balanceFen: 320_000 }),
        spending: [],
        insuredByPayer: [],
        coveredProductCodes: ['XZ-CARE'],
        at: NOW
      })
    )
    expect(offers['XZ-RRAK-MED'].available).toBe(true)
    expect(offers['XZ-CARE'].reasons.map((r) => r.rule)).toEqual(['product.duplicate'])
    expect(offers['XZ-FEMALE-SD'].reasons.map((r) => r.rule)).toEqual(['product.gender', 'product.ageBand'])
  })
})

describe('what may be bought is what the rules allow, or nothing (#16)', () => {
  const bundle = demoBundle('330800')
  const payerId = demoIdNumber('330802', '19760309', '011')

  it('a product no quantity could pass (its window closed) allows no units, while the account may still spend', () => {
    const decision = run({ bundle, account: account(bundle, payerId), productCode: 'QZ-HQB-2021', units: 1 })
    expect(decision.eligible).toBe(false)
    expect(decision.allowed.units).toEqual({ min: 1, max: 0 })
    expect(decision.allowed.maxSpendFen).toBeGreaterThan(0)
  })

  it('a payer who can buy nothing (suspended) has nothing to spend and no units', () => {
    const suspended = { ...account(bundle, payerId), status: 'suspended' as const }
    const decision = run({ bundle, account: suspended, productCode: 'QZ-HQB-2027', units: 1 })
    expect(decision.eligible).toBe(false)
    expect(decision.allowed).toMatchObject({ maxSpendFen: 0, units: { min: 1, max: 0 } })
  })

  it('too many units keeps the most that may be bought, for the clerk to be told', () => {
    const decision = run({ bundle, account: account(bundle, payerId), productCode: 'QZ-HQB-2027', units: 2 })
    expect(decision.checks.filter((c) => !c.passed).map((c) => c.rule)).toEqual(['request.units'])
    expect(decision.allowed.units).toEqual({ min: 1, max: 1 })
  })
})
