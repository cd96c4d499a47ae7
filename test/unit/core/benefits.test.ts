import { describe, expect, it } from 'vitest'
import {
  illustrateBill,
  illustratedProducts,
  illustrationDocument,
  maturityReturn
} from '../../../core/benefits'
import { demoBundle, NOW } from '../../support/rule-fixtures'

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

describe('the illustration as the agent prints it', () => {
  it('lists the products worth illustrating, marked illustrative where the bundle says so', () => {
    const quzhou = illustratedProducts(demoBundle('330800'))
    expect(quzhou.map((p) => [p.product.code, p.illustrative])).toEqual([
      ['QZ-HQB-2021', false],
      ['QZ-HQB-2027', true]
    ])
    expect(illustratedProducts(demoBundle('539900')).map((p) => p.product.code)).toEqual([
      'YN-BBAK',
      'YN-JRAK'
    ])
    expect(illustratedProducts(demoBundle('540000'))).toEqual([])
  })

  it('carries each responsibility’s figures, what it pays, the total and the bundle’s disclaimer', () => {
    const [item] = illustratedProducts(demoBundle('330800'))
    const document = illustrationDocument(
      item,
      {
        bill: {
          selfPay: { localFen: 8_000_000, outOfAreaFen: 0 },
          selfFunded: { localFen: 3_000_000, outOfAreaFen: 2_000_000 },
          specialDrugs: { localFen: 2_500_000, outOfAreaFen: 0 }
        },
        units: 1
      },
      { printedAt: '2026-11-22T02:30:00.000Z', printedBy: '3001 王芳' }
    )
    expect(document.title).toBe('保障示意 · 惠衢保（2021年度）')
    const [table] = document.tables
    expect(table.rows.map((row) => [row[0], row[3], row[7]])).toEqual([
      ['自付医疗费用', '50%', { fen: 4_000_000 }],
      ['自费医疗费用', '50%（异地按 50% 计入）', { fen: 1_500_000 }],
      ['特殊药品费用', '50%', { fen: 1_000_000 }]
    ])
    expect(table.totals?.at(-1)).toEqual({ fen: 6_500_000 })
    expect(table.note).toContain('实际赔付以保险合同条款及保险公司核定为准')
    expect(document.fields).toContainEqual({ label: '打印时间', value: '2026-11-22 10:30' })
  })

  it('shows the maturity return for the units, marked 示例 where the term is illustrative', () => {
    const jrak = illustratedProducts(demoBundle('539900')).find((p) => p.product.code === 'YN-JRAK')
    if (!jrak) throw new Error('no YN-JRAK')
    const document = illustrationDocument(jrak, { bill: {}, units: 2 }, { printedAt: NOW, printedBy: '1001' })
    expect(document.tables.map((t) => t.title)).toEqual(['期满返还示意（示例）'])
    expect(document.tables[0].rows[0]).toEqual([
      { fen: 50_000 },
      { count: 2 },
      { count: 10 },
      { fen: 1_000_000 },
      '110%',
      { fen: 1_100_000 }
    ])
  })
})
