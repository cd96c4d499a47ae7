import { describe, expect, it } from 'vitest'
import type { RuleBundle } from '../../../core/rules/bundle'
import {
  account,
  checkOf,
  demoBundle,
  demoIdNumber,
  failedRules,
  relative,
  run
} from '../../support/rule-fixtures'

/** 西藏自治区 (seed 001): balance 3000 以上, at most 1500 a year, bound family members, no investment products. */
const bundle = demoBundle('540000')
const PAYER = demoIdNumber('540102', '19790512', '015') // male, 47
const WIFE = demoIdNumber('540102', '19900220', '028') // female, 36: band 18–40
const payer = (balanceFen = 320_000, overrides = {}) =>
  account(bundle, PAYER, { balanceFen, historicalBalanceFen: 0, ...overrides })
const MED = 'XZ-RRAK-MED' // adults 18–40: 298.00; 41–60: 598.00 (illustrative)

describe('西藏自治区: balance of 3000 or more', () => {
  it.each([
    { balanceFen: 299_999, passes: false },
    { balanceFen: 300_000, passes: true }, // 以上 includes the number
    { balanceFen: 300_001, passes: true }
  ])('balance $balanceFen fen: threshold passes $passes', ({ balanceFen, passes }) => {
    const decision = run({ bundle, account: payer(balanceFen), productCode: MED, units: 1 })
    expect(checkOf(decision, 'balance.threshold[0]').passed).toBe(passes)
    expect(decision.eligible).toBe(passes)
    expect(checkOf(decision, 'balance.threshold[0]').text).toContain('要求 ≥ 3,000.00')
  })

  it('the whole balance may be spent (no "part above" rule), up to the annual cap', () => {
    const decision = run({ bundle, account: payer(300_000), productCode: MED, units: 1 })
    expect(decision.allowed.maxSpendFen).toBe(150_000)
  })

  it('refuses a suspended enrolment and resident insurance', () => {
    expect(
      failedRules(
        run({ bundle, account: payer(500_000, { status: 'suspended' }), productCode: MED, units: 1 })
      )
    ).toEqual(['payer.enrolment'])
    expect(
      failedRules(
        run({ bundle, account: payer(500_000, { insuranceType: 'resident' }), productCode: MED, units: 1 })
      )
    ).toEqual(['payer.insuranceType'])
  })
})

describe('西藏自治区: at most 1500 per settlement year', () => {
  const spent = (amountFen: number, at: string) => [{ amountFen, at, reflectedInBalance: true }]
  it.each([
    { spentFen: 120_200, at: '2026-03-01T02:00:00.000Z', eligible: true }, // 1500 − 1202 = 298: exactly the premium
    { spentFen: 120_201, at: '2026-03-01T02:00:00.000Z', eligible: false },
    { spentFen: 150_000, at: '2025-12-31T15:59:59.000Z', eligible: true }, // 2025-12-31 23:59:59 Shanghai: previous year
    { spentFen: 150_000, at: '2025-12-31T16:00:00.000Z', eligible: false } // 2026-01-01 00:00 Shanghai: this year
  ])('after $spentFen fen spent at $at: eligible $eligible', ({ spentFen, at, eligible }) => {
    const decision = run({
      bundle,
      account: payer(500_000),
      insured: relative('spouse', WIFE),
      productCode: MED,
      units: 1,
      spending: spent(spentFen, at)
    })
    expect(decision.allowed.premiumFen).toBe(29_800)
    expect(checkOf(decision, 'spending.cap').passed).toBe(eligible)
    expect(decision.eligible).toBe(eligible)
  })

  it('says what counts and what does not', () => {
    const decision = run({
      bundle,
      account: payer(500_000),
      insured: relative('spouse', WIFE),
      productCode: MED,
      units: 1,
      spending: [
        { amountFen: 80_000, at: '2025-06-01T02:00:00.000Z', reflectedInBalance: true },
        { amountFen: 130_000, at: '2026-06-01T02:00:00.000Z', reflectedInBalance: true }
      ]
    })
    expect(checkOf(decision, 'spending.cap').text).toBe(
      '2026 结算年度限额 1,500.00 − 已用 1,300.00 = 剩余 200.00；其他结算年度的支出 800.00 不计入，低于保费 298.00'
    )
  })
})

describe('西藏自治区: insured persons and products', () => {
  it.each([
    { who: 'spouse, bound', bound: true, eligible: true },
    { who: 'spouse, not bound', bound: false, eligible: false }
  ])('$who', ({ bound, eligible }) => {
    const decision = run({
      bundle,
      account: payer(),
      insured: relative('spouse', WIFE, { boundToAccount: bound }),
      productCode: MED,
      units: 1
    })
    expect(checkOf(decision, 'insured.bound').passed).toBe(bound)
    expect(decision.eligible).toBe(eligible)
  })

  it.each([
    { who: 'a woman', id: WIFE, eligible: true },
    { who: 'a man', id: demoIdNumber('540102', '19900220', '017'), eligible: false }
  ])('女性特定疾病保险 for $who', ({ id, eligible }) => {
    const decision = run({
      bundle,
      account: payer(),
      insured: relative('spouse', id),
      productCode: 'XZ-FEMALE-SD',
      units: 1
    })
    expect(checkOf(decision, 'product.gender').passed).toBe(eligible)
    expect(decision.eligible).toBe(eligible)
  })

  it('prices by age band and refuses an age outside every band', () => {
    expect(run({ bundle, account: payer(), productCode: MED, units: 1 }).allowed.premiumFen).toBe(59_800)
    const old = relative('parent', demoIdNumber('540102', '19650101', '011'))
    const decision = run({ bundle, account: payer(), insured: old, productCode: MED, units: 1 })
    expect(failedRules(decision)).toEqual(['product.ageBand'])
    expect(decision.allowed.premiumFen).toBeNull()
  })

  it('refuses a second policy of the same product for the same cover period', () => {
    const decision = run({
      bundle,
      account: payer(),
      insured: relative('spouse', WIFE, { alreadyCoveredByProduct: true }),
      productCode: MED,
      units: 1
    })
    expect(failedRules(decision)).toEqual(['product.duplicate'])
  })

  it('refuses a product with investment or in-term return features (region exclusion)', () => {
    const withFeature = (feature: 'investment' | 'inTermReturn'): RuleBundle => ({
      ...bundle,
      products: bundle.products.map((p) =>
        p.code === MED ? { ...p, features: { ...p.features, [feature]: true } } : p
      )
    })
    for (const feature of ['investment', 'inTermReturn'] as const) {
      const decision = run({ bundle: withFeature(feature), account: payer(), productCode: MED, units: 1 })
      expect(failedRules(decision)).toEqual(['product.exclusion'])
    }
    expect(
      checkOf(run({ bundle, account: payer(), productCode: MED, units: 1 }), 'product.exclusion').passed
    ).toBe(true)
  })

  it('refuses a bundle not yet in force and an account of another region', () => {
    expect(
      failedRules(
        run({ bundle, account: payer(), productCode: MED, units: 1, at: '2025-12-31T15:59:59.000Z' })
      )
    ).toEqual(['bundle.effective'])
    expect(
      failedRules(
        run({ bundle, account: payer(500_000, { regionCode: '539900' }), productCode: MED, units: 1 })
      )
    ).toEqual(['payer.region'])
  })

  it('refuses an unknown product and an insured ID with a wrong check digit, saying why', () => {
    const unknown = run({ bundle, account: payer(), productCode: 'NOPE', units: 1 })
    expect(checkOf(unknown, 'product.known').passed).toBe(false)
    const badId = `${WIFE.slice(0, 17)}${WIFE[17] === '0' ? '1' : '0'}`
    const decision = run({
      bundle,
      account: payer(),
      insured: relative('spouse', badId),
      productCode: MED,
      units: 1
    })
    expect(failedRules(decision)).toEqual(['insured.identity'])
    expect(checkOf(decision, 'insured.identity').text).toContain('校验位')
  })
})
