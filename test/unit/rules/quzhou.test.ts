import { describe, expect, it } from 'vitest'
import type { InsuredEntry } from '../../../core/rules/engine'
import {
  account,
  checkOf,
  demoBundle,
  demoIdNumber,
  failedRules,
  relative,
  run
} from '../../support/rule-fixtures'

/** 衢州市 惠衢保 (seed 002): historical balance, no threshold, 100 per person, family in the city, at most 5. */
const bundle = demoBundle('330800')
const PAYER = demoIdNumber('330802', '19760309', '011')
const SPOUSE = demoIdNumber('330802', '19780714', '026')
const payer = (historicalBalanceFen = 35_000, balanceFen = 98_000) =>
  account(bundle, PAYER, { balanceFen, historicalBalanceFen })
const HQB = 'QZ-HQB-2027'

describe('衢州市: the 2021 product is kept exactly as the seed says', () => {
  it('enrolment until 2021-01-31, cover 2021-01-01 00:00 to 2021-12-31 24:00, 100 per person', () => {
    const product = bundle.products.find((p) => p.code === 'QZ-HQB-2021')
    expect(product?.enrolment).toMatchObject({ to: '2021-01-31T16:00:00.000Z', text: '即日起-2021年1月31日' })
    expect(product?.enrolment?.from).toBeUndefined()
    expect(product?.cover).toMatchObject({
      kind: 'fixed',
      from: '2020-12-31T16:00:00.000Z',
      to: '2021-12-31T16:00:00.000Z'
    })
    expect(product?.pricing).toMatchObject({
      kind: 'perUnit',
      bands: [{ unitPriceFen: 10_000 }],
      units: { min: 1, max: 1 }
    })
    expect(product?.onePerPersonPerCover).toBe(true)
  })

  it('cannot be sold today: its enrolment window closed in 2021', () => {
    const decision = run({ bundle, account: payer(), productCode: 'QZ-HQB-2021', units: 1 })
    expect(failedRules(decision)).toEqual(['product.enrolmentWindow'])
  })
})

describe('衢州市: historical balance pays 100 per person, no threshold', () => {
  it.each([
    { historicalBalanceFen: 9_999, eligible: false },
    { historicalBalanceFen: 10_000, eligible: true },
    { historicalBalanceFen: 10_001, eligible: true }
  ])(
    'historical balance $historicalBalanceFen fen (total 980.00): eligible $eligible',
    ({ historicalBalanceFen, eligible }) => {
      const decision = run({ bundle, account: payer(historicalBalanceFen), productCode: HQB, units: 1 })
      expect(decision.eligible).toBe(eligible)
      expect(checkOf(decision, 'spending.available').text).toContain('历年账户余额')
      expect(decision.checks.some((c) => c.rule.startsWith('balance.threshold'))).toBe(false)
    }
  )

  it('one policy per person: two units are refused', () => {
    expect(failedRules(run({ bundle, account: payer(), productCode: HQB, units: 2 }))).toEqual([
      'request.units'
    ])
  })
})

describe('衢州市: enrolment window of the (illustrative) 2027 product', () => {
  it.each([
    { at: '2026-10-31T15:59:59.999Z', open: false },
    { at: '2026-10-31T16:00:00.000Z', open: true }, // 2026-11-01 00:00 Shanghai
    { at: '2027-01-31T15:59:59.999Z', open: true },
    { at: '2027-01-31T16:00:00.000Z', open: false } // 2027-01-31 24:00 Shanghai
  ])('at $at open $open', ({ at, open }) => {
    const decision = run({ bundle, account: payer(), productCode: HQB, units: 1, at })
    expect(checkOf(decision, 'product.enrolmentWindow').passed).toBe(open)
    expect(decision.eligible).toBe(open)
  })
})

describe('衢州市: who may be insured', () => {
  it.each([
    { relation: 'spouse', allowed: true },
    { relation: 'child', allowed: true },
    { relation: 'parent', allowed: true },
    { relation: 'sibling', allowed: false },
    { relation: 'grandparent', allowed: false }
  ] as const)('$relation -> $allowed', ({ relation, allowed }) => {
    const decision = run({
      bundle,
      account: payer(),
      insured: relative(relation, SPOUSE, { boundToAccount: false }),
      productCode: HQB,
      units: 1
    })
    expect(checkOf(decision, 'insured.relation').passed).toBe(allowed)
    expect(decision.eligible).toBe(allowed)
  })

  it('refuses a relative not enrolled in basic insurance in the city', () => {
    const decision = run({
      bundle,
      account: payer(),
      insured: relative('spouse', SPOUSE, { enrolledLocally: false }),
      productCode: HQB,
      units: 1
    })
    expect(failedRules(decision)).toEqual(['insured.enrolledLocally'])
  })

  it('refuses a person who already has this cover year', () => {
    const decision = run({
      bundle,
      account: payer(),
      insured: relative('spouse', SPOUSE, { alreadyCoveredByProduct: true }),
      productCode: HQB,
      units: 1
    })
    expect(failedRules(decision)).toEqual(['product.duplicate'])
  })

  describe('at most 5 persons per cover period, the payer counted', () => {
    const others = [1, 2, 3, 4, 5].map((n) => demoIdNumber('330802', `19${50 + n}0101`, `0${n}1`))
    const insuredFor = (ids: string[], productCode = HQB, at = '2026-11-20T02:00:00.000Z'): InsuredEntry[] =>
      ids.map((idNumber) => ({ idNumber, productCode, at }))
    const decideFor = (already: InsuredEntry[], at?: string) =>
      run({
        bundle,
        account: payer(1_000_000),
        insured: relative('parent', SPOUSE),
        productCode: HQB,
        units: 1,
        insuredByPayer: already,
        at
      })

    it.each([
      { label: 'payer + 3 others, then a 5th person', ids: [PAYER, ...others.slice(0, 3)], allowed: true },
      { label: '4 others (payer not yet), then a 5th person', ids: others.slice(0, 4), allowed: true },
      { label: 'payer + 4 others, then a 6th person', ids: [PAYER, ...others.slice(0, 4)], allowed: false },
      { label: '5 others, then a 6th person', ids: others, allowed: false }
    ])('$label: $allowed', ({ ids, allowed }) => {
      const decision = decideFor(insuredFor(ids))
      expect(checkOf(decision, 'insured.maxPersons').passed).toBe(allowed)
      expect(decision.eligible).toBe(allowed)
    })

    it('a person already counted is not counted twice', () => {
      const decision = decideFor(insuredFor([PAYER, SPOUSE, ...others.slice(0, 3)]))
      expect(checkOf(decision, 'insured.maxPersons').passed).toBe(true)
    })

    it('persons insured for the 2021 cover year do not count against 2027', () => {
      expect(
        decideFor(insuredFor([PAYER, ...others.slice(0, 4)], 'QZ-HQB-2021', '2021-01-10T02:00:00.000Z'))
          .eligible
      ).toBe(true)
    })

    it('persons insured in December count in January for the same cover year', () => {
      const decision = decideFor(insuredFor([PAYER, ...others.slice(0, 4)]), '2027-01-10T02:00:00.000Z')
      expect(checkOf(decision, 'insured.maxPersons').passed).toBe(false)
      expect(checkOf(decision, 'insured.maxPersons').text).toContain(
        '已为 5 人投保，连同本次共 6 人；上限 5 人，含本人'
      )
    })
  })
})
