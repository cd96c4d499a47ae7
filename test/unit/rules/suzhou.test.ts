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

/** 苏州市区 (seed 003): 往年结余 ≥ 3000; 3000–6000: 500/1000; ≥ 6000: 500–2000; fitness-card transfers count. */
const bundle = demoBundle('320500')
const PAYER = demoIdNumber('320505', '19820101', '062')
const SZ = 'SZ-HEALTH-DEMO'
const payer = (historicalBalanceFen: number, fitnessCardTransfersFen = 0) =>
  account(bundle, PAYER, {
    balanceFen: historicalBalanceFen + 120_000,
    historicalBalanceFen,
    fitnessCardTransfersFen
  })
const LOW = [50_000, 100_000]
const HIGH = [50_000, 100_000, 150_000, 200_000]

describe('苏州市区: bands of the historical balance', () => {
  it.each([
    { historicalBalanceFen: 299_999, threshold: false, amounts: [] },
    { historicalBalanceFen: 300_000, threshold: true, amounts: LOW },
    { historicalBalanceFen: 300_001, threshold: true, amounts: LOW },
    { historicalBalanceFen: 599_999, threshold: true, amounts: LOW },
    { historicalBalanceFen: 600_000, threshold: true, amounts: HIGH }, // the open point: 6000 goes to the upper band
    { historicalBalanceFen: 600_001, threshold: true, amounts: HIGH }
  ])(
    '往年结余 $historicalBalanceFen fen: amounts $amounts',
    ({ historicalBalanceFen, threshold, amounts }) => {
      const decision = run({
        bundle,
        account: payer(historicalBalanceFen),
        productCode: SZ,
        amountFen: 50_000
      })
      expect(checkOf(decision, 'balance.threshold[0]').passed).toBe(threshold)
      expect(checkOf(decision, 'spending.band').passed).toBe(threshold)
      expect(decision.allowed.amountsFen).toEqual(amounts)
      expect(decision.eligible).toBe(threshold)
    }
  )

  it.each([
    { historicalBalanceFen: 599_999, amountFen: 150_000, eligible: false },
    { historicalBalanceFen: 600_000, amountFen: 150_000, eligible: true },
    { historicalBalanceFen: 600_000, amountFen: 200_000, eligible: true },
    { historicalBalanceFen: 900_000, amountFen: 250_000, eligible: false },
    { historicalBalanceFen: 900_000, amountFen: 70_000, eligible: false },
    { historicalBalanceFen: 900_000, amountFen: 50_000.5, eligible: false }
  ])(
    '往年结余 $historicalBalanceFen fen, amount $amountFen fen: $eligible',
    ({ historicalBalanceFen, amountFen, eligible }) => {
      const decision = run({ bundle, account: payer(historicalBalanceFen), productCode: SZ, amountFen })
      expect(checkOf(decision, 'request.amount').passed).toBe(eligible)
      expect(decision.eligible).toBe(eligible)
    }
  )
})

describe("苏州市区: the limit includes this settlement year's fitness-card transfers", () => {
  it.each([
    { historicalBalanceFen: 450_000, fitness: 50_000, amountFen: 50_000, eligible: true, amounts: [50_000] },
    { historicalBalanceFen: 450_000, fitness: 50_001, amountFen: 50_000, eligible: false, amounts: [] },
    {
      historicalBalanceFen: 450_000,
      fitness: 50_000,
      amountFen: 100_000,
      eligible: false,
      amounts: [50_000]
    },
    {
      historicalBalanceFen: 700_000,
      fitness: 60_000,
      amountFen: 100_000,
      eligible: true,
      amounts: [50_000, 100_000]
    },
    {
      historicalBalanceFen: 700_000,
      fitness: 60_000,
      amountFen: 150_000,
      eligible: false,
      amounts: [50_000, 100_000]
    }
  ])(
    'balance $historicalBalanceFen, fitness card $fitness, amount $amountFen: $eligible',
    ({ historicalBalanceFen, fitness, amountFen, eligible, amounts }) => {
      const decision = run({
        bundle,
        account: payer(historicalBalanceFen, fitness),
        productCode: SZ,
        amountFen
      })
      expect(checkOf(decision, 'spending.cap').passed).toBe(eligible)
      expect(decision.eligible).toBe(eligible)
      expect(decision.allowed.amountsFen).toEqual(amounts)
    }
  )

  it('names the fitness-card part in the text', () => {
    const decision = run({
      bundle,
      account: payer(700_000, 60_000),
      productCode: SZ,
      amountFen: 150_000,
      spending: [{ amountFen: 50_000, at: '2026-02-01T02:00:00.000Z', reflectedInBalance: true }]
    })
    expect(checkOf(decision, 'spending.cap').text).toBe(
      '2026 结算年度限额 2,000.00 − 已用 1,100.00（含阳光健身卡划账 600.00） = 剩余 900.00，低于保费 1,500.00'
    )
  })

  it.each([
    { at: '2026-05-01T02:00:00.000Z', eligible: false },
    { at: '2025-05-01T02:00:00.000Z', eligible: true }
  ])('1000 spent at $at leaves the lower band $eligible', ({ at, eligible }) => {
    const decision = run({
      bundle,
      account: payer(450_000),
      productCode: SZ,
      amountFen: 50_000,
      spending: [{ amountFen: 100_000, at, reflectedInBalance: true }]
    })
    expect(decision.eligible).toBe(eligible)
  })
})

describe('苏州市区: self or direct relatives', () => {
  it.each([
    { relation: 'spouse', allowed: true },
    { relation: 'parent', allowed: true },
    { relation: 'child', allowed: true },
    { relation: 'sibling', allowed: false }
  ] as const)('$relation -> $allowed', ({ relation, allowed }) => {
    const insured = relative(relation, demoIdNumber('320505', '19850101', '024'), { boundToAccount: false })
    const decision = run({ bundle, account: payer(700_000), insured, productCode: SZ, amountFen: 50_000 })
    expect(decision.eligible).toBe(allowed)
    if (!allowed) expect(failedRules(decision)).toEqual(['insured.relation'])
  })
})
