import { describe, expect, it } from 'vitest'
import {
  reconciliationProblems,
  summarise,
  type SaleKind,
  type SummaryLine
} from '../../../core/report/summary'
import type { SaleStatus } from '../../../core/sale'

function line(
  saleId: string,
  status: SaleStatus,
  operator: string,
  product: string,
  relation: string,
  premiumFen: number,
  region = '330800',
  rulesVersion = 1,
  kind: SaleKind = 'new'
): SummaryLine {
  return {
    saleId,
    createdAt: '2026-11-22T02:30:00.000Z',
    status,
    operatorCode: operator,
    operatorName: `操作员${operator}`,
    regionCode: region,
    regionName: `地区${region}`,
    productCode: product,
    productName: `产品${product}`,
    relation,
    premiumFen,
    rulesVersion,
    kind
  }
}

describe('the daily summary figures (pure)', () => {
  const lines = [
    line('s1', 'queued', '1001', 'P1', 'self', 10_000),
    line('s1', 'queued', '1001', 'P1', 'spouse', 10_000),
    line('s2', 'accepted', '2001', 'P2', 'self', 12_345, '210100', 3),
    line('s3', 'voided', '1001', 'P2', 'child', 5_001, '210100', 3),
    line('s4', 'rejected', '2001', 'P1', 'self', 7_777),
    line('s5', 'uploaded', '2001', 'P1', 'self', 1, '330800', 1, 'renewal')
  ]
  const view = summarise(lines)

  it('counts new policies (新单) and yearly instalments (续期) apart, both always listed', () => {
    expect(view.byKind?.map((g) => [g.key, g.name, g.all, g.net])).toEqual([
      [
        'new',
        '新单',
        { saleCount: 4, lineCount: 5, amountFen: 45_123 },
        { saleCount: 2, lineCount: 3, amountFen: 32_345 }
      ],
      [
        'renewal',
        '续期',
        { saleCount: 1, lineCount: 1, amountFen: 1 },
        { saleCount: 1, lineCount: 1, amountFen: 1 }
      ]
    ])
    expect(summarise([lines[0]]).byKind?.map((g) => [g.key, g.all.lineCount])).toEqual([
      ['new', 1],
      ['renewal', 0]
    ])
  })

  it('counts every sale in `all`, and leaves voided and rejected sales out of `net`', () => {
    expect(view.totals.all).toEqual({ saleCount: 5, lineCount: 6, amountFen: 45_124 })
    expect(view.totals.net).toEqual({ saleCount: 3, lineCount: 4, amountFen: 32_346 })
  })

  it('shows voided and rejected sales in the status groups with their amounts, every status listed', () => {
    expect(view.byStatus.map((g) => [g.key, g.all.saleCount, g.all.amountFen, g.net.amountFen])).toEqual([
      ['queued', 1, 20_000, 20_000],
      ['uploaded', 1, 1, 1],
      ['accepted', 1, 12_345, 12_345],
      ['rejected', 1, 7_777, 0],
      ['voided', 1, 5_001, 0]
    ])
  })

  it('groups by operator, product, region, relation and rule bundle, each adding up to the totals fen for fen', () => {
    expect(
      view.byOperator.map((g) => [g.key, g.name, g.all.saleCount, g.all.amountFen, g.net.amountFen])
    ).toEqual([
      ['1001', '操作员1001', 2, 25_001, 20_000],
      ['2001', '操作员2001', 3, 20_123, 12_346]
    ])
    expect(view.byProduct.map((g) => [g.key, g.all.lineCount, g.all.amountFen])).toEqual([
      ['P1', 4, 27_778],
      ['P2', 2, 17_346]
    ])
    expect(view.byRelation.map((g) => [g.key, g.all.lineCount, g.all.amountFen])).toEqual([
      ['child', 1, 5_001],
      ['self', 4, 30_123],
      ['spouse', 1, 10_000]
    ])
    expect(view.byRegion.map((g) => [g.key, g.all.saleCount, g.all.amountFen])).toEqual([
      ['210100', 2, 17_346],
      ['330800', 3, 27_778]
    ])
    expect(
      view.rulesVersions.map((g) => [g.regionCode, g.version, g.all.saleCount, g.net.saleCount])
    ).toEqual([
      ['210100', 3, 2, 1],
      ['330800', 1, 3, 2]
    ])
    expect(reconciliationProblems(view)).toEqual([])
  })

  it('finds a summary whose groups do not add up', () => {
    expect(reconciliationProblems({ ...view, byOperator: view.byOperator.slice(1) })).toContain(
      'operator.all.amountFen'
    )
  })

  it('is all zeros for no sales, and refuses a premium that is not whole fen', () => {
    const empty = summarise([])
    expect(empty.totals.all).toEqual({ saleCount: 0, lineCount: 0, amountFen: 0 })
    expect(empty.byStatus).toHaveLength(5)
    expect(reconciliationProblems(empty)).toEqual([])
    expect(() => summarise([line('x', 'queued', '1001', 'P1', 'self', 0.5)])).toThrow(RangeError)
  })
})
