import { z } from 'zod'
import { ENROLMENT_STATUSES, INSURANCE_TYPES, RELATIONS } from '../cardholder'

/**
 * The rule bundle: everything a region's policy says, as data. docs/rule-bundles.md documents it
 * field by field. A bundle is checked here on load; one that does not fit is refused with a Chinese
 * message naming the field, never half-used.
 */

/**
 * Format 2 adds what happens after the sale (`applicant`, `products[].afterSale`). A terminal reads
 * both; the centre gives a terminal that announces protocol 1 the newest bundle in format 1 (its
 * schema refuses fields it does not know). A format this terminal does not know is refused with a
 * message that says to update the software, never read in part.
 */
export const RULE_BUNDLE_FORMAT_V1 = 'yibao-rule-bundle/1'
export const RULE_BUNDLE_FORMAT = 'yibao-rule-bundle/2'
export const RULE_BUNDLE_FORMATS = [RULE_BUNDLE_FORMAT_V1, RULE_BUNDLE_FORMAT] as const
export type RuleBundleFormat = (typeof RULE_BUNDLE_FORMATS)[number]

const text = z.string().min(1)
const FEN = '金额应为以分为单位的整数'
const fen = z.int({ error: FEN }).nonnegative({ error: '金额不能为负数' })
const positiveFen = z.int({ error: FEN }).positive({ error: '金额应大于 0' })
/** A UTC instant ("…Z"); an end (`to`) is exclusive, so "31 Dec 24:00" is the next midnight. */
const utc = z.iso.datetime({ error: '应为 UTC 时间，如 2026-01-01T00:00:00.000Z' })
/** Values the source documents do not give carry these, and are listed again in `illustrative`. */
const marks = { illustrative: z.literal(true).optional(), note: text.optional() }

export const COMPARISONS = ['>=', '>', '<=', '<'] as const
export type Comparison = (typeof COMPARISONS)[number]

/** "balance ⋈ amountFen"; `text` quotes the policy (以上/以下/以内 include the number, 不满/超过 exclude it). */
const threshold = z.strictObject({ comparison: z.enum(COMPARISONS), amountFen: fen, text, ...marks })
const statedAmount = z.strictObject({ amountFen: fen, text, ...marks })

/** Ages are whole years on the day of purchase (Asia/Shanghai), both ends included. */
const priceBand = z.strictObject({
  minAge: z.int().min(0).optional(),
  maxAge: z.int().min(0).optional(),
  gender: z.enum(['male', 'female']).optional(),
  unitPriceFen: positiveFen,
  ...marks
})

const pricing = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('perUnit'),
    bands: z.array(priceBand).min(1),
    units: z.strictObject({ min: z.int().min(1), max: z.int().min(1).optional(), ...marks }),
    ...marks
  }),
  // The premium is one of these amounts (Suzhou: 500/1000/1500/2000).
  z.strictObject({ kind: z.literal('amounts'), amountsFen: z.array(positiveFen).min(1), ...marks })
])

const cover = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), from: utc, to: utc, text, ...marks }),
  z.strictObject({ kind: z.literal('term'), months: z.int().positive(), text, ...marks })
])

/**
 * One responsibility of a medical cover (惠衢保: 自付 / 自费 / 特药): what a bill in its category
 * pays. Payout = min(limit, max(0, counted − deductible) × payPercent %), where counted is the
 * local part plus the out-of-area part at `outOfAreaCountedPercent` % (100 when absent).
 */
const benefitResponsibility = z.strictObject({
  key: z.string().regex(/^[a-z][a-zA-Z0-9]{1,30}$/, '责任代码应为字母开头的 2–31 位字母或数字'),
  name: text,
  limitFen: positiveFen,
  deductibleFen: fen,
  payPercent: z.int().min(1).max(100),
  outOfAreaCountedPercent: z.int().min(0).max(100).optional(),
  text,
  ...marks
})

/** After the sale: cooling-off, what a later cancellation returns, yearly instalments, what it pays (a maturity return is `features.maturityReturnPercent`). */
const afterSale = z.strictObject({
  /** 犹豫期: calendar days (Asia/Shanghai) from the day of the sale, that day not counted. */
  coolingOff: z.strictObject({ days: z.int().min(0).max(60), text, ...marks }),
  /** A cancellation after the cooling-off period: nothing back, or what the product's terms say (the insurer decides). */
  afterCoolingOff: z.strictObject({ refund: z.enum(['none', 'perTerms']), text, ...marks }),
  /**
   * Paid once a year for `years` years (the first with the sale, at the product's price); each
   * later instalment is `amountPerUnitFen` a unit, due when the cover paid for ends, payable from
   * `payableDaysBefore` days before; one not paid within `graceDays` after lapses the policy.
   */
  instalments: z
    .strictObject({
      years: z.int().min(2).max(40),
      amountPerUnitFen: positiveFen,
      payableDaysBefore: z.int().min(0).max(90),
      graceDays: z.int().min(0).max(180),
      text,
      ...marks
    })
    .optional(),
  benefits: z
    .strictObject({
      responsibilities: z.array(benefitResponsibility).max(10).optional(),
      disclaimer: text,
      ...marks
    })
    .optional(),
  ...marks
})

const product = z.strictObject({
  code: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, '产品代码应为 2–40 位大写字母、数字或连字符'),
  name: text,
  insurer: text,
  description: text.optional(),
  pricing,
  insuredGender: z.enum(['male', 'female']).optional(),
  /** Absent: on sale whenever the bundle is in force. `from` absent: open until `to`. */
  enrolment: z.strictObject({ from: utc.optional(), to: utc, text, ...marks }).optional(),
  cover,
  features: z.strictObject({
    investment: z.boolean(),
    inTermReturn: z.boolean(),
    maturityReturnPercent: z.int().positive().optional(),
    ...marks
  }),
  onePerPersonPerCover: z.boolean(),
  afterSale: afterSale.optional(),
  ...marks
})

const spendingBand = z.strictObject({
  when: z.array(threshold).min(1),
  amountsFen: z.array(positiveFen).min(1),
  capPerSettlementYearFen: positiveFen,
  ...marks
})

export const ruleBundleSchema = z
  .strictObject({
    format: z.enum(RULE_BUNDLE_FORMATS),
    region: z.strictObject({ code: z.string().regex(/^\d{6}$/, '地区代码应为 6 位数字'), name: text }),
    version: z.int().positive(),
    effectiveFrom: utc,
    sources: z.array(text),
    settlementYear: z.strictObject({
      startMonthDay: z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, '应为 MM-DD'),
      text,
      ...marks
    }),
    payer: z.strictObject({
      insuranceTypes: z.array(z.enum(INSURANCE_TYPES)).min(1),
      enrolmentStatuses: z.array(z.enum(ENROLMENT_STATUSES)).min(1),
      text,
      ...marks
    }),
    balance: z.strictObject({ basis: z.enum(['total', 'historical']), label: text, ...marks }),
    eligibility: z.strictObject({ thresholds: z.array(threshold), ...marks }),
    spending: z.strictObject({
      usableAbove: statedAmount.optional(),
      capPerSettlementYear: statedAmount.optional(),
      bands: z.array(spendingBand).min(1).optional(),
      countsAgainstCap: z.array(z.enum(['fitnessCardTransfers'])),
      ...marks
    }),
    insured: z.strictObject({
      relations: z.array(z.enum(['self', ...RELATIONS])).min(1),
      text,
      boundToAccountOnly: z.boolean(),
      enrolledLocallyRequired: z.boolean(),
      maxPersons: z
        .strictObject({
          max: z.int().positive(),
          countsPayer: z.boolean(),
          per: z.enum(['settlementYear', 'coverPeriod']),
          text,
          ...marks
        })
        .optional(),
      ...marks
    }),
    exclusions: z.strictObject({ investment: z.boolean(), inTermReturn: z.boolean(), text: text.optional() }),
    /** How old the rules and the account snapshot may be for this terminal to go on selling offline. */
    offline: z
      .strictObject({
        maxRulesAgeHours: z.int().positive(),
        maxSnapshotAgeHours: z.int().positive(),
        /** The most one sale may be while it cannot be settled at once. */
        maxSaleFen: positiveFen.optional(),
        /** The most that may wait in the outbox, in amount and in sales. */
        maxQueuedFen: positiveFen.optional(),
        maxQueuedCount: z.int().positive().optional(),
        /**
         * `online`: every sale of the region needs the centre's answer at the counter (no offline
         * sale at all). Absent or `offlineWithinLimits`: offline sales within the limits above.
         */
        authorization: z.enum(['online', 'offlineWithinLimits']).optional(),
        /** Products that need the centre's answer even where the region sells offline. */
        onlineOnlyProducts: z.array(z.string().min(1).max(40)).max(100).optional(),
        text,
        ...marks
      })
      .optional(),
    /** The applicant's contact (投保人手机号): whether a sale needs it. Absent: asked for, not required. */
    applicant: z.strictObject({ mobileRequired: z.boolean(), text, ...marks }).optional(),
    products: z.array(product).min(1),
    /** Every value the sources do not give, by path, with why it was chosen. */
    illustrative: z.array(z.strictObject({ path: text, note: text }))
  })
  .superRefine((bundle, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message })
    const [month, day] = bundle.settlementYear.startMonthDay.split('-').map(Number)
    if (day > new Date(Date.UTC(2001, month, 0)).getUTCDate()) {
      issue(['settlementYear', 'startMonthDay'], '不是每年都有的日期')
    }
    const spending = bundle.spending
    if (spending.countsAgainstCap.length > 0 && !spending.capPerSettlementYear && !spending.bands) {
      issue(['spending', 'countsAgainstCap'], '没有年度限额时不能计入其他支出')
    }
    if (bundle.format === RULE_BUNDLE_FORMAT_V1) {
      // Format 1 as terminals of protocol 1 read it: the fields of format 2 would be refused there.
      if (bundle.applicant) issue(['applicant'], `格式 ${RULE_BUNDLE_FORMAT_V1} 的规则包不能含此字段`)
      bundle.products.forEach((p, i) => {
        if (p.afterSale)
          issue(['products', i, 'afterSale'], `格式 ${RULE_BUNDLE_FORMAT_V1} 的规则包不能含此字段`)
      })
    }
    const codes = new Set<string>()
    bundle.products.forEach((p, i) => {
      if (codes.has(p.code)) issue(['products', i, 'code'], `产品代码 ${p.code} 重复`)
      codes.add(p.code)
      if (p.pricing.kind === 'perUnit') {
        p.pricing.bands.forEach((b, j) => {
          if (b.minAge !== undefined && b.maxAge !== undefined && b.minAge > b.maxAge) {
            issue(['products', i, 'pricing', 'bands', j, 'maxAge'], '不能小于 minAge')
          }
        })
        const units = p.pricing.units
        if (units.max !== undefined && units.max < units.min)
          issue(['products', i, 'pricing', 'units', 'max'], '不能小于 min')
      }
      if (p.enrolment?.from && Date.parse(p.enrolment.from) >= Date.parse(p.enrolment.to))
        issue(['products', i, 'enrolment', 'to'], '应晚于 from')
      if (p.cover.kind === 'fixed' && Date.parse(p.cover.from) >= Date.parse(p.cover.to))
        issue(['products', i, 'cover', 'to'], '应晚于 from')
      if (p.afterSale?.instalments && (p.pricing.kind !== 'perUnit' || p.cover.kind !== 'term'))
        issue(['products', i, 'afterSale', 'instalments'], '分期缴费只适用于按份计价、按期限保障的产品')
      const keys = new Set<string>()
      p.afterSale?.benefits?.responsibilities?.forEach((r, j) => {
        if (keys.has(r.key))
          issue(
            ['products', i, 'afterSale', 'benefits', 'responsibilities', j, 'key'],
            `责任代码 ${r.key} 重复`
          )
        keys.add(r.key)
      })
    })
    bundle.offline?.onlineOnlyProducts?.forEach((code, i) => {
      if (!codes.has(code)) issue(['offline', 'onlineOnlyProducts', i], `没有产品 ${code}`)
    })
    bundle.illustrative.forEach((entry, i) => {
      if (valueAtPath(bundle, entry.path) === undefined)
        issue(['illustrative', i, 'path'], `规则包中没有 ${entry.path}`)
    })
  })

export type RuleBundle = z.infer<typeof ruleBundleSchema>
export type RuleProduct = RuleBundle['products'][number]
export type RuleThreshold = RuleBundle['eligibility']['thresholds'][number]
export type InsuredRelation = RuleBundle['insured']['relations'][number]

/** `products[2].pricing.bands[0].unitPriceFen`: the way messages and `illustrative` name a field. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    ''
  )
}

/** The value at a path written as formatPath writes it; undefined when there is none. */
export function valueAtPath(root: unknown, path: string): unknown {
  let value: unknown = root
  for (const key of path.match(/[^.[\]]+/g) ?? []) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

export type BundleParseResult =
  | { readonly ok: true; readonly bundle: RuleBundle }
  | { readonly ok: false; readonly code: 'INVALID_BUNDLE'; readonly message: string }

const zhCN = z.locales.zhCN().localeError

/** Checks a decoded bundle against the schema; the message names the first field that does not fit. */
export function parseRuleBundle(value: unknown): BundleParseResult {
  const format =
    value !== null && typeof value === 'object' ? (value as { format?: unknown }).format : undefined
  if (
    typeof format === 'string' &&
    /^yibao-rule-bundle\/\d+$/.test(format) &&
    !(RULE_BUNDLE_FORMATS as readonly string[]).includes(format)
  )
    return {
      ok: false,
      code: 'INVALID_BUNDLE',
      message: `规则包格式 ${format} 比本机软件新（本机可读 ${RULE_BUNDLE_FORMATS.join('、')}）：请先升级终端软件`
    }
  const parsed = ruleBundleSchema.safeParse(value, { error: zhCN })
  if (parsed.success) return { ok: true, bundle: parsed.data }
  const issue = parsed.error.issues[0]
  const field = formatPath(issue.path)
  const message = field
    ? `规则包字段 ${field} 不正确：${issue.message}`
    : `规则包内容不正确：${issue.message}`
  return { ok: false, code: 'INVALID_BUNDLE', message }
}

/** The signed payload is JSON text; this decodes it first, refusing text that is not JSON. */
export function parseRuleBundleText(payloadText: string): BundleParseResult {
  let value: unknown
  try {
    value = JSON.parse(payloadText)
  } catch {
    return { ok: false, code: 'INVALID_BUNDLE', message: '规则包内容不是有效的 JSON' }
  }
  return parseRuleBundle(value)
}
