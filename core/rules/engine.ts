import type { EnrolmentStatus, InsuranceType } from '../cardholder'
import { ageOn, parseResidentId, type Gender } from '../identifiers'
import { formatYuan, type Fen } from '../money'
import { formatShanghaiDateTime, shanghaiDate } from '../time'
import type { Comparison, InsuredRelation, RuleBundle, RuleProduct, RuleThreshold } from './bundle'
import { inSettlementYear, settlementYearOf } from './settlement-year'

/**
 * The eligibility decision: pure and deterministic. Everything it needs is passed in (the bundle,
 * the account snapshot, what this terminal has sold, the time), and every rule it checks comes back
 * with its outcome and a Chinese sentence with the numbers, so the clerk can read why.
 */

export interface PayerAccount {
  readonly regionCode: string
  /** The cardholder's resident ID: recognises "self" among insured persons. */
  readonly idNumber: string
  readonly insuranceType: InsuranceType
  readonly status: EnrolmentStatus
  readonly balanceFen: Fen
  readonly historicalBalanceFen: Fen
  /** 阳光健身卡 transfers in the current settlement year, as the centre reports them (Suzhou). */
  readonly fitnessCardTransfersFen?: Fen
}

/** Spent or reserved on this account by this terminal, any product, any year: the engine filters. */
export interface SpendingEntry {
  readonly amountFen: Fen
  /** UTC ISO. */
  readonly at: string
  /** Already deducted in the account snapshot (settled by the centre before the snapshot was taken). */
  readonly reflectedInBalance: boolean
}

/** A person this payer has insured (any year: the engine filters by period). */
export interface InsuredEntry {
  readonly idNumber: string
  readonly productCode: string
  readonly at: string
}

export interface InsuredPerson {
  readonly relation: InsuredRelation
  readonly idNumber: string
  readonly boundToAccount: boolean
  /** Enrolled in basic medical insurance in the bundle's region. */
  readonly enrolledLocally: boolean
  /** Already holds this product for its current cover period. */
  readonly alreadyCoveredByProduct: boolean
}

export interface DecisionInput {
  readonly bundle: RuleBundle
  readonly account: PayerAccount
  readonly spending: readonly SpendingEntry[]
  readonly insuredByPayer: readonly InsuredEntry[]
  readonly insured: InsuredPerson
  readonly productCode: string
  /** For per-unit products. */
  readonly units?: number
  /** For products sold at fixed amounts. */
  readonly amountFen?: Fen
  /** UTC ISO: the moment of the decision. */
  readonly at: string
}

export interface RuleCheck {
  /** Stable id (e.g. "spending.cap", "balance.threshold[0]"): match on this, never on the text. */
  readonly rule: string
  readonly passed: boolean
  readonly text: string
}

export interface Allowed {
  /** The most that may be spent now from this account (balance part and caps applied). */
  readonly maxSpendFen: Fen
  /** Per-unit products: `max < min` means not even the minimum can be bought. */
  readonly units?: { readonly min: number; readonly max: number }
  readonly unitPriceFen?: Fen
  /** Fixed-amount products: the amounts that may be chosen now, ascending. */
  readonly amountsFen?: readonly Fen[]
  /** The premium of the request; null when it cannot be priced (no band, nothing requested). */
  readonly premiumFen: Fen | null
}

export interface Decision {
  readonly eligible: boolean
  readonly checks: readonly RuleCheck[]
  readonly allowed: Allowed
}

export const RELATION_LABELS: Readonly<Record<InsuredRelation, string>> = {
  self: '本人',
  spouse: '配偶',
  child: '子女',
  parent: '父母',
  grandparent: '祖父母/外祖父母',
  grandchild: '孙子女/外孙子女',
  sibling: '兄弟姐妹'
}

const INSURANCE_TYPE_LABELS: Readonly<Record<InsuranceType, string>> = {
  employee_active: '职工医保（在职）',
  employee_retired: '职工医保（退休）',
  resident: '城乡居民医保'
}

const STATUS_LABELS: Readonly<Record<EnrolmentStatus, string>> = {
  active: '正常参保',
  suspended: '暂停参保',
  terminated: '终止参保'
}

type PriceBand = Extract<RuleProduct['pricing'], { kind: 'perUnit' }>['bands'][number]

const GENDER_LABELS: Readonly<Record<Gender, string>> = { male: '男', female: '女' }
const SYMBOLS: Readonly<Record<Comparison, string>> = { '>=': '≥', '>': '>', '<=': '≤', '<': '<' }

function meets(value: Fen, t: RuleThreshold): boolean {
  switch (t.comparison) {
    case '>=':
      return value >= t.amountFen
    case '>':
      return value > t.amountFen
    case '<=':
      return value <= t.amountFen
    case '<':
      return value < t.amountFen
  }
}

const yuan = (fen: Fen) => formatYuan(fen)
const sum = (entries: readonly { amountFen: Fen }[]) => entries.reduce((total, e) => total + e.amountFen, 0)
const thresholdText = (t: RuleThreshold) => `${SYMBOLS[t.comparison]} ${yuan(t.amountFen)}（${t.text}）`

function ageBandText(band: { minAge?: number; maxAge?: number; gender?: Gender }): string {
  const ages =
    band.minAge !== undefined && band.maxAge !== undefined
      ? `${band.minAge}–${band.maxAge} 岁`
      : band.minAge !== undefined
        ? `${band.minAge} 岁及以上`
        : band.maxAge !== undefined
          ? `${band.maxAge} 岁及以下`
          : '不限年龄'
  return band.gender ? `${GENDER_LABELS[band.gender]}性 ${ages}` : ages
}

/** Money facts of the account at `at`, independent of product and insured person. */
function accountFigures(
  bundle: RuleBundle,
  account: PayerAccount,
  spending: readonly SpendingEntry[],
  at: string
) {
  const label = bundle.balance.label
  const snapshotFen = bundle.balance.basis === 'total' ? account.balanceFen : account.historicalBalanceFen
  // The snapshot does not yet know what this terminal sold since; the centre settles that later.
  const pendingFen = sum(spending.filter((e) => !e.reflectedInBalance))
  const balanceFen = snapshotFen - pendingFen
  const balanceText =
    pendingFen > 0
      ? `${label} ${yuan(snapshotFen)} − 本机未同步支出 ${yuan(pendingFen)} = ${yuan(balanceFen)}`
      : `${label} ${yuan(balanceFen)}`

  const above = bundle.spending.usableAbove
  const usableFen = Math.max(0, above ? balanceFen - above.amountFen : balanceFen)
  const usableText = above
    ? `${balanceText}，减 ${yuan(above.amountFen)}（${above.text}）= 可用 ${yuan(usableFen)}`
    : `${balanceText}，可用 ${yuan(usableFen)}`

  const year = settlementYearOf(at, bundle.settlementYear.startMonthDay)
  const band = bundle.spending.bands?.find((b) => b.when.every((t) => meets(balanceFen, t)))
  const caps = [bundle.spending.capPerSettlementYear?.amountFen, band?.capPerSettlementYearFen].filter(
    (c) => c !== undefined
  )
  let cap: { remainingFen: Fen; text: string } | undefined
  if (caps.length > 0) {
    const capFen = Math.min(...caps)
    const thisYearFen = sum(spending.filter((e) => inSettlementYear(e.at, year)))
    const earlierFen = sum(spending) - thisYearFen
    const fitnessFen = bundle.spending.countsAgainstCap.includes('fitnessCardTransfers')
      ? (account.fitnessCardTransfersFen ?? 0)
      : 0
    const usedFen = thisYearFen + fitnessFen
    const remainingFen = Math.max(0, capFen - usedFen)
    const used = fitnessFen > 0 ? `${yuan(usedFen)}（含阳光健身卡划账 ${yuan(fitnessFen)}）` : yuan(usedFen)
    const earlier = earlierFen > 0 ? `；其他结算年度的支出 ${yuan(earlierFen)} 不计入` : ''
    cap = {
      remainingFen,
      text: `${year.label}限额 ${yuan(capFen)} − 已用 ${used} = 剩余 ${yuan(remainingFen)}${earlier}`
    }
  }
  const maxSpendFen = Math.min(usableFen, cap?.remainingFen ?? usableFen)
  return { balanceFen, balanceText, usableFen, usableText, year, band, cap, maxSpendFen }
}

export function decide(input: DecisionInput): Decision {
  const { bundle, account, insured, at } = input
  const checks: RuleCheck[] = []
  const check = (rule: string, passed: boolean, text: string) => {
    checks.push({ rule, passed, text })
    return passed
  }
  const today = shanghaiDate(new Date(at))
  const money = accountFigures(bundle, account, input.spending, at)
  const region = `${bundle.region.name}（${bundle.region.code}）`

  check(
    'bundle.effective',
    Date.parse(at) >= Date.parse(bundle.effectiveFrom),
    `规则包 ${region} 第 ${bundle.version} 版自 ${formatShanghaiDateTime(bundle.effectiveFrom)} 起生效`
  )

  // The payer: an employee enrolled in this region, with a personal account.
  check(
    'payer.region',
    account.regionCode === bundle.region.code,
    `参保地 ${account.regionCode}；本规则适用于 ${region}`
  )
  check(
    'payer.insuranceType',
    bundle.payer.insuranceTypes.includes(account.insuranceType),
    `参保类型 ${INSURANCE_TYPE_LABELS[account.insuranceType]}；要求 ${bundle.payer.insuranceTypes.map((t) => INSURANCE_TYPE_LABELS[t]).join('、')}（${bundle.payer.text}）`
  )
  check(
    'payer.enrolment',
    bundle.payer.enrolmentStatuses.includes(account.status),
    `参保状态 ${STATUS_LABELS[account.status]}；要求 ${bundle.payer.enrolmentStatuses.map((s) => STATUS_LABELS[s]).join('、')}`
  )

  bundle.eligibility.thresholds.forEach((t, i) => {
    const passed = meets(money.balanceFen, t)
    check(
      `balance.threshold[${i}]`,
      passed,
      `${money.balanceText}，要求 ${thresholdText(t)}：${passed ? '符合' : '不符合'}`
    )
  })
  const bands = bundle.spending.bands
  if (bands) {
    const band = money.band
    check(
      'spending.band',
      band !== undefined,
      band
        ? `${money.balanceText}，适用档位 ${band.when.map(thresholdText).join(' 且 ')}：可选 ${band.amountsFen.map(yuan).join(' / ')}，年度限额 ${yuan(band.capPerSettlementYearFen)}`
        : `${money.balanceText}，不在任何可购买档位内`
    )
  }

  const product = bundle.products.find((p) => p.code === input.productCode)
  let premiumFen: Fen | null = null
  let units: Allowed['units']
  let unitPriceFen: Fen | undefined
  let amountsFen: Fen[] | undefined

  check(
    'product.known',
    product !== undefined,
    product
      ? `产品 ${product.name}（${product.code}），${product.insurer}`
      : `本规则包没有产品 ${input.productCode}`
  )
  if (product) checkProduct(product)

  function checkProduct(product: RuleProduct) {
    const excl = bundle.exclusions
    if (excl.investment || excl.inTermReturn) {
      const banned =
        (excl.investment && product.features.investment) ||
        (excl.inTermReturn && product.features.inTermReturn)
      check(
        'product.exclusion',
        !banned,
        banned
          ? `本产品带有投资理财性质或保险期内返还条款，本地区不得用个人账户购买（${excl.text ?? ''}）`
          : '本产品不带投资理财性质或保险期内返还条款'
      )
    }
    const window = product.enrolment
    if (window) {
      const open =
        (!window.from || Date.parse(at) >= Date.parse(window.from)) && Date.parse(at) < Date.parse(window.to)
      const from = window.from ? `${formatShanghaiDateTime(window.from)} 起` : ''
      check(
        'product.enrolmentWindow',
        open,
        `参保期 ${from}至 ${formatShanghaiDateTime(window.to)} 止（${window.text}）；现在 ${formatShanghaiDateTime(at)}：${open ? '在参保期内' : '不在参保期内'}`
      )
    }

    // The insured person: relation, binding, local enrolment, person limit, then age and gender.
    const allowedRelations = bundle.insured.relations
    check(
      'insured.relation',
      allowedRelations.includes(insured.relation),
      `被保险人为${RELATION_LABELS[insured.relation]}；本地区可为 ${allowedRelations.map((r) => RELATION_LABELS[r]).join('、')}（${bundle.insured.text}）`
    )
    if (insured.relation === 'self') {
      check(
        'insured.self',
        insured.idNumber === account.idNumber,
        insured.idNumber === account.idNumber
          ? '被保险人即持卡人本人'
          : '选择了“本人”，但身份证号与持卡人不符'
      )
    } else {
      if (bundle.insured.boundToAccountOnly) {
        check(
          'insured.bound',
          insured.boundToAccount,
          insured.boundToAccount
            ? '被保险人已绑定为本账户家庭成员'
            : '被保险人未绑定为本账户家庭成员，本地区只能为已绑定的家庭成员购买'
        )
      }
      if (bundle.insured.enrolledLocallyRequired) {
        check(
          'insured.enrolledLocally',
          insured.enrolledLocally,
          `被保险人${insured.enrolledLocally ? '已' : '未'}在${bundle.region.name}参加基本医疗保险；本地区要求在本地参保`
        )
      }
    }
    const limit = bundle.insured.maxPersons
    if (limit) {
      const fixedCover = product.cover.kind === 'fixed' ? product.cover : undefined
      const samePeriod = (entry: InsuredEntry) => {
        if (limit.per === 'coverPeriod' && fixedCover) {
          const other = bundle.products.find((p) => p.code === entry.productCode)?.cover
          return other?.kind === 'fixed' && other.from === fixedCover.from && other.to === fixedCover.to
        }
        return inSettlementYear(entry.at, money.year)
      }
      const persons = new Set(input.insuredByPayer.filter(samePeriod).map((e) => e.idNumber))
      if (!limit.countsPayer) persons.delete(account.idNumber)
      const counted = limit.countsPayer || insured.idNumber !== account.idNumber
      const total = persons.size + (counted && !persons.has(insured.idNumber) ? 1 : 0)
      const period = limit.per === 'coverPeriod' && fixedCover ? '本保险期间' : money.year.label
      check(
        'insured.maxPersons',
        total <= limit.max,
        `${period}已为 ${persons.size} 人投保，连同本次共 ${total} 人；上限 ${limit.max} 人，${limit.countsPayer ? '含' : '不含'}本人（${limit.text}）`
      )
    }
    const id = parseResidentId(insured.idNumber, today)
    let band: PriceBand | undefined
    if (!id.ok) {
      check('insured.identity', false, `被保险人身份证号不正确：${id.reason}`)
    } else {
      const { gender } = id.value
      const age = ageOn(id.value.birthDate, today)
      check('insured.identity', true, `被保险人 ${GENDER_LABELS[gender]}，${today} 时 ${age} 周岁`)
      if (product.insuredGender) {
        check(
          'product.gender',
          gender === product.insuredGender,
          `本产品仅限${GENDER_LABELS[product.insuredGender]}性投保；被保险人为${GENDER_LABELS[gender]}性`
        )
      }
      if (product.pricing.kind === 'perUnit') {
        const bands = product.pricing.bands
        band = bands.find(
          (b) => (b.minAge ?? 0) <= age && age <= (b.maxAge ?? Infinity) && (!b.gender || b.gender === gender)
        )
        check(
          'product.ageBand',
          band !== undefined,
          band
            ? `${age} 周岁适用费率档 ${ageBandText(band)}：每份 ${yuan(band.unitPriceFen)}`
            : `${GENDER_LABELS[gender]}性 ${age} 周岁：本产品无适用的费率档（${bands.map(ageBandText).join('；')}）`
        )
      }
    }
    if (product.onePerPersonPerCover) {
      check(
        'product.duplicate',
        !insured.alreadyCoveredByProduct,
        insured.alreadyCoveredByProduct
          ? '被保险人本保险期间已有本产品保单（每人每期限一份）'
          : '被保险人本保险期间尚无本产品保单'
      )
    }

    // What is asked for, and what may be chosen.
    if (product.pricing.kind === 'perUnit') {
      const { min, max } = product.pricing.units
      const range = `${min}${max === undefined ? ' 份起' : max === min ? ' 份' : `–${max} 份`}`
      if (band) {
        unitPriceFen = band.unitPriceFen
        units = { min, max: Math.min(max ?? Infinity, Math.floor(money.maxSpendFen / band.unitPriceFen)) }
      }
      const u = input.units
      if (u === undefined) {
        check('request.units', false, `请选择份数（本产品 ${range}）`)
      } else {
        const valid = Number.isInteger(u) && u >= min && (max === undefined || u <= max)
        check('request.units', valid, `投保 ${u} 份；本产品 ${range}`)
        if (band && Number.isInteger(u)) premiumFen = u * band.unitPriceFen
      }
    } else {
      const bandAmounts = bands ? (money.band?.amountsFen ?? []) : undefined
      const choosable = product.pricing.amountsFen
        .filter((a) => !bandAmounts || bandAmounts.includes(a))
        .sort((a, b) => a - b)
      amountsFen = choosable.filter((a) => a <= money.maxSpendFen)
      const a = input.amountFen
      const listed = choosable.length > 0 ? choosable.map(yuan).join(' / ') : '无'
      if (a === undefined) {
        check('request.amount', false, `请选择金额（可选 ${listed}）`)
      } else if (!Number.isSafeInteger(a)) {
        check('request.amount', false, `金额应为以分为单位的整数；可选 ${listed}`)
      } else {
        check('request.amount', choosable.includes(a), `金额 ${yuan(a)}；可选 ${listed}`)
        premiumFen = a
      }
    }
  }

  // Money last: does the premium fit in the usable balance and in what is left of the annual cap?
  const cap = money.cap
  if (premiumFen !== null) {
    const p = premiumFen
    check(
      'spending.available',
      p <= money.usableFen,
      `${money.usableText}，${p <= money.usableFen ? '足够支付' : '低于'}保费 ${yuan(p)}`
    )
    if (cap)
      check(
        'spending.cap',
        p <= cap.remainingFen,
        `${cap.text}，${p <= cap.remainingFen ? '足够支付' : '低于'}保费 ${yuan(p)}`
      )
  } else {
    check('spending.available', money.usableFen > 0, money.usableText)
    if (cap) check('spending.cap', cap.remainingFen > 0, cap.text)
  }

  return {
    eligible: checks.every((c) => c.passed),
    checks,
    allowed: { maxSpendFen: money.maxSpendFen, units, unitPriceFen, amountsFen, premiumFen }
  }
}

export interface SelfOffersInput {
  readonly bundle: RuleBundle
  readonly account: PayerAccount
  readonly spending: readonly SpendingEntry[]
  readonly insuredByPayer: readonly InsuredEntry[]
  /** Products the cardholder already holds for their current cover period. */
  readonly coveredProductCodes: readonly string[]
  readonly at: string
}

export interface ProductOffer {
  readonly code: string
  readonly name: string
  readonly insurer: string
  /** The product (or a value in it) is illustrative, not from the source documents. */
  readonly illustrative: boolean
  /** The cardholder can buy at least the smallest quantity for themselves now. */
  readonly available: boolean
  readonly allowed: Allowed
  /** Why not, when not available: the failed checks. */
  readonly reasons: readonly RuleCheck[]
}

/**
 * What the counter shows right after a swipe: each product, for the cardholder themselves, with
 * whether it can be bought and how much. Priced at the smallest quantity the rules allow.
 */
export function listProductsForSelf(input: SelfOffersInput): ProductOffer[] {
  const { bundle, account } = input
  return bundle.products.map((product, index) => {
    const base = {
      bundle,
      account,
      spending: input.spending,
      insuredByPayer: input.insuredByPayer,
      at: input.at,
      productCode: product.code,
      insured: {
        relation: 'self' as const,
        idNumber: account.idNumber,
        boundToAccount: true,
        enrolledLocally: true,
        alreadyCoveredByProduct: input.coveredProductCodes.includes(product.code)
      }
    }
    let decision: Decision
    if (product.pricing.kind === 'perUnit') {
      decision = decide({ ...base, units: product.pricing.units.min })
    } else {
      // Ask for the smallest amount that is allowed now, or else the smallest the product has.
      const probe = decide(base).allowed.amountsFen ?? []
      decision = decide({ ...base, amountFen: probe[0] ?? Math.min(...product.pricing.amountsFen) })
    }
    const path = `products[${index}]`
    const illustrative = bundle.illustrative.some((e) => e.path === path || e.path.startsWith(`${path}.`))
    return {
      code: product.code,
      name: product.name,
      insurer: product.insurer,
      illustrative,
      available: decision.eligible,
      allowed: decision.allowed,
      reasons: decision.checks.filter((c) => !c.passed)
    }
  })
}
