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

/** 沈阳市 (seed 003): balance 2000 以上, only the part above 2000, at most 4000 a year. */
const bundle = demoBundle('210100')
const PAYER = demoIdNumber('210103', '19870612', '046')
const SY = 'SY-HEALTH-DEMO' // adults 500.00 a unit, minors 300.00, 1–10 units (illustrative)
const payer = (balanceFen: number) => account(bundle, PAYER, { balanceFen, historicalBalanceFen: 0 })

describe('沈阳市: the part above 2000', () => {
  it.each([
    { balanceFen: 199_999, threshold: false, usable: 0 },
    { balanceFen: 200_000, threshold: true, usable: 0 },
    { balanceFen: 200_001, threshold: true, usable: 1 }
  ])(
    'balance $balanceFen fen: threshold $threshold, usable $usable fen',
    ({ balanceFen, threshold, usable }) => {
      const decision = run({ bundle, account: payer(balanceFen), productCode: SY, units: 1 })
      expect(checkOf(decision, 'balance.threshold[0]').passed).toBe(threshold)
      expect(decision.allowed.maxSpendFen).toBe(usable)
      expect(decision.eligible).toBe(false)
    }
  )

  it('at exactly 2000 the text shows nothing above it', () => {
    const decision = run({ bundle, account: payer(200_000), productCode: SY, units: 1 })
    expect(checkOf(decision, 'spending.available').text).toBe(
      '个人账户余额 2,000.00，减 2,000.00（结余在2000元以上的部分）= 可用 0.00，低于保费 500.00'
    )
  })

  it.each([
    { balanceFen: 249_999, eligible: false },
    { balanceFen: 250_000, eligible: true }
  ])('one adult unit (500) with balance $balanceFen fen: $eligible', ({ balanceFen, eligible }) => {
    expect(run({ bundle, account: payer(balanceFen), productCode: SY, units: 1 }).eligible).toBe(eligible)
  })
})

describe('沈阳市: at most 4000 a settlement year', () => {
  it('6500 balance: 4500 above the threshold, capped at 4000 = 8 units', () => {
    const decision = run({ bundle, account: payer(650_000), productCode: SY, units: 8 })
    expect(decision.allowed.maxSpendFen).toBe(400_000)
    expect(decision.allowed.units).toEqual({ min: 1, max: 8 })
    expect(decision.eligible).toBe(true)
    const nine = run({ bundle, account: payer(650_000), productCode: SY, units: 9 })
    expect(failedRules(nine)).toEqual(['spending.cap'])
  })

  it.each([
    { spentFen: 350_000, at: '2026-04-01T02:00:00.000Z', units: 1, eligible: true },
    { spentFen: 350_001, at: '2026-04-01T02:00:00.000Z', units: 1, eligible: false },
    { spentFen: 350_000, at: '2026-04-01T02:00:00.000Z', units: 2, eligible: false },
    { spentFen: 400_000, at: '2025-04-01T02:00:00.000Z', units: 8, eligible: true }
  ])('$spentFen fen spent at $at, $units unit(s): $eligible', ({ spentFen, at, units, eligible }) => {
    const decision = run({
      bundle,
      account: payer(900_000),
      productCode: SY,
      units,
      spending: [{ amountFen: spentFen, at, reflectedInBalance: true }]
    })
    expect(checkOf(decision, 'spending.cap').passed).toBe(eligible)
    expect(decision.eligible).toBe(eligible)
  })
})

describe('沈阳市: insured persons', () => {
  it.each([
    { at: '2026-11-21T02:30:00.000Z', premium: 30_000 },
    { at: '2026-11-22T02:30:00.000Z', premium: 50_000 }
  ])('a child turning 18 on 2026-11-22, at $at: premium $premium', ({ at, premium }) => {
    const child = relative('child', demoIdNumber('210103', '20081122', '013'))
    const decision = run({ bundle, account: payer(900_000), insured: child, productCode: SY, units: 1, at })
    expect(decision.allowed.premiumFen).toBe(premium)
    expect(decision.eligible).toBe(true)
  })

  it.each([
    { relation: 'parent', allowed: true },
    { relation: 'grandchild', allowed: false }
  ] as const)('$relation -> $allowed', ({ relation, allowed }) => {
    const insured = relative(relation, demoIdNumber('210103', '19600101', '013'), { boundToAccount: false })
    expect(run({ bundle, account: payer(900_000), insured, productCode: SY, units: 1 }).eligible).toBe(
      allowed
    )
  })
})
