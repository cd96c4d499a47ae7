import { describe, expect, it } from 'vitest'
import { instalmentPlanAfter, instalmentStatus } from '../../../core/after-sale'
import type { InstalmentRequest } from '../../../core/rules/engine'
import {
  account,
  checkOf,
  demoBundle,
  demoIdNumber,
  failedRules,
  relative,
  run
} from '../../support/rule-fixtures'

/** 云南省省本级 (seed 000): 累计结余超过 1000 元以上部分; 宝宝安康 minors 1800/unit, 吉瑞安康 adults 500/unit. */
const bundle = demoBundle('539900')
const PAYER = demoIdNumber('530102', '19680415', '013')
const payer = (balanceFen: number) => account(bundle, PAYER, { balanceFen, historicalBalanceFen: 0 })

describe('云南省省本级: balance over 1000, only the part above it', () => {
  it.each([
    { balanceFen: 99_999, passes: false },
    { balanceFen: 100_000, passes: false }, // 超过 excludes the number itself
    { balanceFen: 100_001, passes: true }
  ])('threshold "> 1,000.00" with accumulated balance $balanceFen fen: $passes', ({ balanceFen, passes }) => {
    const decision = run({ bundle, account: payer(balanceFen), productCode: 'YN-JRAK', units: 1 })
    expect(checkOf(decision, 'balance.threshold[0]').passed).toBe(passes)
    expect(decision.eligible).toBe(false) // even 0.01 above 1000 does not pay a 500 premium
  })

  it.each([
    { balanceFen: 149_999, units: 1, eligible: false },
    { balanceFen: 150_000, units: 1, eligible: true },
    { balanceFen: 150_001, units: 1, eligible: true },
    { balanceFen: 199_999, units: 2, eligible: false },
    { balanceFen: 200_000, units: 2, eligible: true }
  ])(
    '$units unit(s) of 吉瑞安康 (500 each) with balance $balanceFen fen: eligible $eligible',
    ({ balanceFen, units, eligible }) => {
      const decision = run({ bundle, account: payer(balanceFen), productCode: 'YN-JRAK', units })
      expect(decision.eligible).toBe(eligible)
      expect(decision.allowed.premiumFen).toBe(units * 50_000)
      expect(decision.allowed.maxSpendFen).toBe(balanceFen - 100_000)
      if (!eligible) expect(failedRules(decision)).toEqual(['spending.available'])
    }
  )

  it('says how the usable amount was found, with the numbers', () => {
    const decision = run({ bundle, account: payer(120_000), productCode: 'YN-JRAK', units: 1 })
    expect(checkOf(decision, 'spending.available').text).toBe(
      '累计结余 1,200.00，减 1,000.00（超过1000元以上部分）= 可用 200.00，低于保费 500.00'
    )
    expect(decision.allowed.units).toEqual({ min: 1, max: 0 })
  })

  it('allows one or more units, as many as the part above 1000 pays for, with no annual cap', () => {
    const decision = run({
      bundle,
      account: payer(380_000),
      productCode: 'YN-JRAK',
      units: 5,
      spending: [{ amountFen: 500_000, at: '2026-06-01T02:00:00.000Z', reflectedInBalance: true }]
    })
    expect(decision.allowed.units).toEqual({ min: 1, max: 5 })
    expect(decision.eligible).toBe(true)
    expect(decision.checks.some((c) => c.rule === 'spending.cap')).toBe(false)
    expect(run({ bundle, account: payer(380_000), productCode: 'YN-JRAK', units: 6 }).eligible).toBe(false)
  })

  it('deducts what this terminal sold that the snapshot does not know yet', () => {
    const sold = (amountFen: number) => [
      { amountFen, at: '2026-11-22T01:00:00.000Z', reflectedInBalance: false }
    ]
    expect(
      run({ bundle, account: payer(200_000), productCode: 'YN-JRAK', units: 1, spending: sold(50_000) })
        .eligible
    ).toBe(true)
    const short = run({
      bundle,
      account: payer(200_000),
      productCode: 'YN-JRAK',
      units: 1,
      spending: sold(50_001)
    })
    expect(failedRules(short)).toEqual(['spending.available'])
    expect(checkOf(short, 'spending.available').text).toContain('本机未同步支出 500.01')
  })

  describe('age bands: 宝宝安康 for minors, 吉瑞安康 for adults (age on the day of purchase, Shanghai)', () => {
    const child = demoIdNumber('530102', '20081122', '024') // 18 on 2026-11-22
    const cases = [
      { at: '2026-11-21T02:30:00.000Z', age: 17, BBAK: true, JRAK: false },
      { at: '2026-11-21T15:59:59.000Z', age: 17, BBAK: true, JRAK: false }, // 23:59:59 in Shanghai
      { at: '2026-11-21T16:00:00.000Z', age: 18, BBAK: false, JRAK: true }, // midnight in Shanghai
      { at: '2026-11-22T02:30:00.000Z', age: 18, BBAK: false, JRAK: true }
    ]
    it.each(cases)('at $at the child is $age', ({ at, age, BBAK, JRAK }) => {
      const insured = relative('child', child)
      const bbak = run({ bundle, account: payer(1_000_000), insured, productCode: 'YN-BBAK', units: 1, at })
      const jrak = run({ bundle, account: payer(1_000_000), insured, productCode: 'YN-JRAK', units: 1, at })
      expect(checkOf(bbak, 'insured.identity').text).toContain(`${age} 周岁`)
      expect(checkOf(bbak, 'product.ageBand').passed).toBe(BBAK)
      expect(checkOf(jrak, 'product.ageBand').passed).toBe(JRAK)
      expect(bbak.eligible).toBe(BBAK)
      expect(jrak.eligible).toBe(JRAK)
      if (BBAK) expect(bbak.allowed.premiumFen).toBe(180_000)
    })
  })

  it.each([
    { relation: 'spouse', allowed: true },
    { relation: 'parent', allowed: true },
    { relation: 'child', allowed: true },
    { relation: 'grandparent', allowed: false },
    { relation: 'sibling', allowed: false }
  ] as const)('may insure a direct relative: $relation -> $allowed', ({ relation, allowed }) => {
    const insured = relative(relation, demoIdNumber('530102', '19700101', '022'), {
      boundToAccount: false,
      enrolledLocally: false
    })
    const decision = run({ bundle, account: payer(1_000_000), insured, productCode: 'YN-JRAK', units: 1 })
    expect(checkOf(decision, 'insured.relation').passed).toBe(allowed)
    expect(decision.eligible).toBe(allowed) // binding and local enrolment are not required here
  })

  it('refuses "self" when the ID number is not the cardholder\'s', () => {
    const decision = run({
      bundle,
      account: payer(1_000_000),
      productCode: 'YN-JRAK',
      units: 1,
      insured: relative('self', demoIdNumber('530102', '19700101', '022'))
    })
    expect(failedRules(decision)).toEqual(['insured.self'])
  })
})

describe('云南省省本级: yearly instalments (续期缴费)', () => {
  // Sold 2025-12-01 (Beijing): cover 2025-12-02 – 2026-12-02; instalment 2 due 2026-12-02 00:00.
  const dueAt = '2026-12-01T16:00:00.000Z'
  const plan = instalmentPlanAfter({ years: 10, graceDays: 60 }, 1, dueAt)
  const terms = bundle.products[1].afterSale?.instalments
  const instalment = (at: string, overrides: Partial<InstalmentRequest> = {}) =>
    run({
      bundle,
      account: payer(300_000),
      productCode: 'YN-JRAK',
      at,
      instalment: {
        sequence: 2,
        units: 3,
        dueAt,
        graceEndsAt: plan.graceEndsAt ?? '',
        ...overrides
      }
    })

  it('falls due when the cover paid for ends, payable 30 days before and in 60 days of grace', () => {
    expect(plan).toEqual({ paid: 1, years: 10, nextDueAt: dueAt, graceEndsAt: '2027-01-30T16:00:00.000Z' })
    if (!terms) throw new Error('吉瑞安康 has no instalments')
    expect(instalmentStatus(plan, terms, '2026-11-01T15:59:59.999Z')).toBe('notYetDue')
    expect(instalmentStatus(plan, terms, '2026-11-01T16:00:00.000Z')).toBe('due')
    expect(instalmentStatus(plan, terms, dueAt)).toBe('grace')
    expect(instalmentStatus(plan, terms, '2027-01-30T15:59:59.999Z')).toBe('grace')
    expect(instalmentStatus(plan, terms, '2027-01-30T16:00:00.000Z')).toBe('lapsed')
    expect(instalmentPlanAfter({ years: 10, graceDays: 60 }, 10, dueAt)).toMatchObject({ nextDueAt: null })
    expect(instalmentStatus(instalmentPlanAfter(terms, 10, dueAt), terms, dueAt)).toBe('paidUp')
  })

  it("costs the policy's units at the instalment amount, under this year's balance rule", () => {
    const decision = instalment('2026-11-20T02:00:00.000Z')
    expect(decision.eligible).toBe(true)
    expect(decision.allowed.premiumFen).toBe(150_000)
    expect(checkOf(decision, 'instalment.window').text).toContain(
      '应缴日 2026-12-02，2026-11-02 起可缴，宽限期至 2027-01-30'
    )
    // The part above 1,000 is this year's rule too: 2,400 leaves 1,400, not enough for 3 × 500.
    const poorer = run({
      bundle,
      account: payer(240_000),
      productCode: 'YN-JRAK',
      at: '2026-11-20T02:00:00.000Z',
      instalment: { sequence: 2, units: 3, dueAt, graceEndsAt: plan.graceEndsAt ?? '' }
    })
    expect(failedRules(poorer)).toEqual(['spending.available'])
  })

  it('is taken outside the age band the product sells to, and refused before its window or after grace', () => {
    // 宝宝安康 sells to minors only; a policyholder's child who turned 18 still pays the contract's 1,800.
    const grownUp = run({
      bundle,
      account: payer(1_000_000),
      productCode: 'YN-BBAK',
      insured: relative('child', demoIdNumber('530102', '20080101', '031')),
      at: '2026-11-20T02:00:00.000Z',
      instalment: { sequence: 2, units: 1, dueAt, graceEndsAt: plan.graceEndsAt ?? '' }
    })
    expect(grownUp.eligible).toBe(true)
    expect(grownUp.allowed.premiumFen).toBe(180_000)
    expect(failedRules(instalment('2026-10-20T02:00:00.000Z'))).toEqual(['instalment.window'])
    const lapsed = instalment('2027-02-01T02:00:00.000Z')
    expect(failedRules(lapsed)).toEqual(['instalment.window'])
    expect(checkOf(lapsed, 'instalment.window').text).toContain('宽限期已过，保单效力中止')
    expect(lapsed.allowed.units).toEqual({ min: 3, max: 0 })
    expect(failedRules(instalment('2026-11-20T02:00:00.000Z', { sequence: 11 }))).toEqual([
      'instalment.terms'
    ])
  })
})
