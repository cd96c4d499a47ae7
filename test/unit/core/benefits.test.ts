import { describe, expect, it } from 'vitest'
import { illustrateBill, maturityReturn } from '../../../core/benefits'
import { demoBundle } from '../../support/rule-fixtures'

const quzhou2021 = () => {
  const product = demoBundle('330800').products.find((p) => p.code === 'QZ-HQB-2021')
  if (!product) throw new Error('no QZ-HQB-2021')
  return product
}

describe('what the cover pays (seed 002: 惠衢保 2021)', () => {
  it('a sample bill: 自付 from the first yuan at 50 %, 自费 over 1 万 with out-of-city costs at 50 %, 特药 over 0.5 万', () => {
    const shown = illustrateBill(quzhou2021(), {
      selfPay: { localFen: 8_000_000, outOfAreaFen: 0 },
      selfFunded: { localFen: 3_000_000, outOfAreaFen: 2_000_000 },
      specialDrugs: { localFen: 2_500_000, outOfAreaFen: 0 }
    })
    expect(shown?.lines.map((l) => [l.key, l.countedFen, l.payoutFen])).toEqual([
      // 80,000 × 50 %
      ['selfPay', 8_000_000, 4_000_000],
      // 30,000 + 20,000 × 50 % = 40,000; − 10,000 = 30,000; × 50 %
      ['selfFunded', 4_000_000, 1_500_000],
      // 25,000 − 5,000 = 20,000; × 50 %
      ['specialDrugs', 2_500_000, 1_000_000]
    ])
    expect(shown?.totalFen).toBe(6_500_000)
  })

  it('pays nothing under the deductible, and no more than the 50 万 limit', () => {
    const shown = illustrateBill(quzhou2021(), {
      selfFunded: { localFen: 900_000, outOfAreaFen: 0 },
      selfPay: { localFen: 150_000_000, outOfAreaFen: 0 }
    })
    const byKey = new Map(shown?.lines.map((l) => [l.key, l]))
    expect(byKey.get('selfFunded')?.payoutFen).toBe(0)
    expect(byKey.get('selfPay')).toMatchObject({ payoutFen: 50_000_000, capped: true })
    expect(byKey.get('specialDrugs')?.payoutFen).toBe(0)
  })

  it('a product without responsibilities in its bundle has no illustration', () => {
    const tibet = demoBundle('540000').products[0]
    expect(illustrateBill(tibet, {})).toBeNull()
  })
})

describe('maturity return (seed 000: 期满返还所交保费的 110%)', () => {
  it('吉瑞安康, 2 units at 500 a year over the bundle’s 10-year term: 10,000 paid, 11,000 back', () => {
    const product = demoBundle('539900').products.find((p) => p.code === 'YN-JRAK')
    if (!product) throw new Error('no YN-JRAK')
    expect(maturityReturn(product, 50_000, 2)).toEqual({
      years: 10,
      paidFen: 1_000_000,
      returnFen: 1_100_000,
      percent: 110
    })
    expect(maturityReturn(demoBundle('540000').products[0], 29_800, 1)).toBeNull()
  })
})
