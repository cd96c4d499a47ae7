import { describe, expect, it } from 'vitest'
import {
  account,
  checkOf,
  demoBundle,
  demoIdNumber,
  failedRules,
  relative,
  run
} from '../../support/rule-fixtures'

/** 上海市 (seed 003): historical balance, Shanghai employee insurance, self only, amount not stated. */
const bundle = demoBundle('310000')
const PAYER = demoIdNumber('310101', '19840321', '039') // 42: band 16–45, 400.00 (illustrative)
const SH = 'SH-EXCLUSIVE-DEMO'
const payer = (historicalBalanceFen: number, overrides = {}) =>
  account(bundle, PAYER, { balanceFen: historicalBalanceFen + 100_000, historicalBalanceFen, ...overrides })

describe('上海市', () => {
  it.each([
    { historicalBalanceFen: 39_999, eligible: false },
    { historicalBalanceFen: 40_000, eligible: true },
    { historicalBalanceFen: 40_001, eligible: true }
  ])(
    'historical balance $historicalBalanceFen fen pays a 400.00 premium: $eligible',
    ({ historicalBalanceFen, eligible }) => {
      const decision = run({ bundle, account: payer(historicalBalanceFen), productCode: SH, units: 1 })
      expect(decision.eligible).toBe(eligible)
      expect(decision.allowed.maxSpendFen).toBe(historicalBalanceFen)
      expect(
        decision.checks.some((c) => c.rule === 'spending.cap' || c.rule.startsWith('balance.threshold'))
      ).toBe(false)
    }
  )

  it.each([
    { relation: 'self', allowed: true },
    { relation: 'spouse', allowed: false },
    { relation: 'child', allowed: false }
  ] as const)('self only: $relation -> $allowed', ({ relation, allowed }) => {
    const id = relation === 'self' ? PAYER : demoIdNumber('310101', '19860101', '024')
    const decision = run({
      bundle,
      account: payer(880_000),
      insured: relative(relation, id),
      productCode: SH,
      units: 1
    })
    expect(checkOf(decision, 'insured.relation').passed).toBe(allowed)
    expect(decision.eligible).toBe(allowed)
  })

  it('requires Shanghai employee basic insurance', () => {
    expect(
      failedRules(
        run({ bundle, account: payer(880_000, { insuranceType: 'resident' }), productCode: SH, units: 1 })
      )
    ).toEqual(['payer.insuranceType'])
    expect(
      failedRules(
        run({ bundle, account: payer(880_000, { regionCode: '320500' }), productCode: SH, units: 1 })
      )
    ).toEqual(['payer.region'])
    expect(
      run({
        bundle,
        account: payer(880_000, { insuranceType: 'employee_retired' }),
        productCode: SH,
        units: 1
      }).eligible
    ).toBe(true)
  })

  it.each([
    { birth: '19801123', premium: 40_000 }, // 45 on 2026-11-22
    { birth: '19801122', premium: 90_000 } // 46 that day
  ])('age band edge: born $birth -> $premium', ({ birth, premium }) => {
    const id = demoIdNumber('310101', birth, '039')
    const decision = run({
      bundle,
      account: account(bundle, id, { historicalBalanceFen: 880_000 }),
      productCode: SH,
      units: 1
    })
    expect(decision.allowed.premiumFen).toBe(premium)
  })
})
