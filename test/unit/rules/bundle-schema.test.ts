import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatPath, parseRuleBundle, parseRuleBundleText, valueAtPath } from '../../../core/rules/bundle'
import { BUNDLES_DIR, sourceFileOf } from '../../support/rule-fixtures'

const REGIONS = ['539900', '540000', '330800', '320500', '210100', '310000']
const rawSource = (code: string): Record<string, unknown> =>
  JSON.parse(readFileSync(sourceFileOf(code), 'utf8'))

/** A copy of Tibet's source with one change made at a path. */
function tibetWith(path: string, value: unknown): Record<string, unknown> {
  const raw = rawSource('540000')
  const keys = path.match(/[^.[\]]+/g) ?? []
  const parent = valueAtPath(raw, keys.slice(0, -1).join('.')) as Record<string, unknown>
  if (value === undefined) Reflect.deleteProperty(parent, keys[keys.length - 1])
  else parent[keys[keys.length - 1]] = value
  return raw
}

describe('bundle schema', () => {
  it('accepts the six demo bundles, one per region', () => {
    const files = readdirSync(join(BUNDLES_DIR, 'sources'))
      .filter((file) => file.endsWith('.json'))
      .sort()
    expect(files).toHaveLength(6)
    for (const code of REGIONS) {
      const parsed = parseRuleBundleText(readFileSync(sourceFileOf(code), 'utf8'))
      expect(parsed.ok && parsed.bundle.region.code).toBe(code)
    }
  })

  it.each([
    { path: 'products[2].pricing.bands[0].unitPriceFen', value: 1.5 }, // fen are integers
    { path: 'products[2].pricing.bands[0].unitPriceFen', value: -100 },
    { path: 'products[2].pricing.bands[0].unitPriceFen', value: '120' },
    { path: 'eligibility.thresholds[0].comparison', value: '=>' },
    { path: 'spending.capPerSettlementYear.amountFen', value: undefined },
    { path: 'effectiveFrom', value: '2026-01-01 00:00' }, // not a UTC ISO time
    { path: 'insured.relations[1]', value: 'cousin' },
    { path: 'region.code', value: '5400' },
    { path: 'products[1].code', value: 'XZ-RRAK-MED' }, // duplicate code
    { path: 'products[0].pricing.units.max', value: 0 },
    { path: 'settlementYear.startMonthDay', value: '02-30' },
    { path: 'illustrative[0].path', value: 'products[9].cover' } // names nothing
  ])('refuses $path = $value with a message naming the field', ({ path, value }) => {
    const parsed = parseRuleBundle(tibetWith(path, value))
    expect(parsed.ok).toBe(false)
    if (!parsed.ok)
      expect(parsed.message).toMatch(new RegExp(`^规则包字段 ${path.replace(/[[\].]/g, '\\$&')} 不正确：.+`))
  })

  it('refuses an unknown (misspelt) field rather than ignoring it', () => {
    const raw = rawSource('540000')
    const products = raw.products as Record<string, unknown>[]
    products[0].onePerPersonPerCovr = true
    const parsed = parseRuleBundle(raw)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.message).toContain('products[0]')
    if (!parsed.ok) expect(parsed.message).toContain('onePerPersonPerCovr')
  })

  it('refuses text that is not JSON, and another format', () => {
    expect(parseRuleBundleText('{"format":')).toEqual({
      ok: false,
      code: 'INVALID_BUNDLE',
      message: '规则包内容不是有效的 JSON'
    })
    const parsed = parseRuleBundle({ ...rawSource('540000'), format: 'yibao-rule-bundle-x' })
    expect(!parsed.ok && parsed.message).toMatch(/^规则包字段 format 不正确/)
  })

  it('refuses a format newer than this build with a message that says to update, not a field error', () => {
    const parsed = parseRuleBundle({ ...rawSource('540000'), format: 'yibao-rule-bundle/3' })
    expect(parsed).toEqual({
      ok: false,
      code: 'INVALID_BUNDLE',
      message: expect.stringMatching(/^规则包格式 yibao-rule-bundle\/3 比本机软件新.*请先升级终端软件$/)
    })
  })

  it('reads the format-1 versions still given to older terminals, and refuses format 2 fields in them', () => {
    for (const code of REGIONS) {
      const v1 = JSON.parse(readFileSync(sourceFileOf(code, 1), 'utf8')) as Record<string, unknown>
      expect(parseRuleBundle(v1).ok, code).toBe(true)
    }
    const current = rawSource('539900')
    const parsed = parseRuleBundle({ ...current, format: 'yibao-rule-bundle/1' })
    expect(!parsed.ok && parsed.message).toBe(
      '规则包字段 applicant 不正确：格式 yibao-rule-bundle/1 的规则包不能含此字段'
    )
    const { applicant: _left, ...noApplicant } = current
    const products = parseRuleBundle({ ...noApplicant, format: 'yibao-rule-bundle/1' })
    expect(!products.ok && products.message).toMatch(/^规则包字段 products\[0\]\.afterSale 不正确/)
  })

  it('keeps instalments to per-unit products with a term, and responsibility keys unique', () => {
    const yunnan = rawSource('539900') as { products: Array<Record<string, unknown>> }
    yunnan.products[0].cover = {
      kind: 'fixed',
      from: '2026-01-01T00:00:00.000Z',
      to: '2027-01-01T00:00:00.000Z',
      text: 'x'
    }
    expect(parseRuleBundle(yunnan)).toMatchObject({
      ok: false,
      message: expect.stringContaining('products[0].afterSale.instalments')
    })
    const quzhou = rawSource('330800') as {
      products: Array<{ afterSale: { benefits: { responsibilities: Array<{ key: string }> } } }>
    }
    quzhou.products[0].afterSale.benefits.responsibilities[1].key = 'selfPay'
    expect(parseRuleBundle(quzhou)).toMatchObject({
      ok: false,
      message: expect.stringContaining('责任代码 selfPay 重复')
    })
  })

  it('formats and follows paths the same way', () => {
    expect(formatPath(['products', 2, 'pricing', 'bands', 0, 'unitPriceFen'])).toBe(
      'products[2].pricing.bands[0].unitPriceFen'
    )
    expect(valueAtPath(rawSource('540000'), 'products[2].pricing.bands[0].unitPriceFen')).toBe(12_000)
  })
})

describe('illustrative values in the demo bundles', () => {
  /** Paths of every object flagged `illustrative: true`. */
  function flagged(value: unknown, path: (string | number)[] = []): string[] {
    if (value === null || typeof value !== 'object') return []
    const own =
      !Array.isArray(value) && (value as Record<string, unknown>).illustrative === true
        ? [formatPath(path)]
        : []
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value)
    return [...own, ...entries.flatMap(([key, v]) => flagged(v, [...path, key]))]
  }

  it.each(REGIONS)('%s: every flagged object is in the top-level list, and every flag has a note', (code) => {
    const raw = rawSource(code)
    const listed = (raw.illustrative as { path: string }[]).map((e) => e.path)
    for (const path of flagged(raw)) {
      const covered = listed.some((l) => l === path || path.startsWith(`${l}.`) || path.startsWith(`${l}[`))
      expect(covered, `${code} ${path}`).toBe(true)
      expect((valueAtPath(raw, path) as { note?: string }).note, `${code} ${path} note`).toBeTruthy()
    }
  })

  it.each(REGIONS)('%s: docs/rule-bundles.md lists every illustrative value', (code) => {
    const doc = readFileSync(join(BUNDLES_DIR, '..', 'docs', 'rule-bundles.md'), 'utf8').split('\n')
    for (const { path } of rawSource(code).illustrative as { path: string }[]) {
      expect(
        doc.some((line) => line.includes(`| ${code} |`) && line.includes(`\`${path}\``)),
        `${code} ${path}`
      ).toBe(true)
    }
  })

  it('the open points are resolved in the data', () => {
    const suzhou = rawSource('320500') as {
      spending: { bands: { when: { comparison: string; amountFen: number }[] }[] }
    }
    expect(suzhou.spending.bands[0].when[1]).toMatchObject({
      comparison: '<',
      amountFen: 600_000,
      illustrative: true
    })
    expect(suzhou.spending.bands[1].when[0]).toMatchObject({ comparison: '>=', amountFen: 600_000 })
    expect(valueAtPath(rawSource('330800'), 'insured.maxPersons')).toMatchObject({
      max: 5,
      countsPayer: true,
      illustrative: true
    })
    expect(valueAtPath(rawSource('310000'), 'spending')).toMatchObject({ illustrative: true })
    for (const code of REGIONS)
      expect(valueAtPath(rawSource(code), 'settlementYear.startMonthDay')).toBe('01-01')
  })
})
