import { ageOn, parseResidentId, type Gender } from '../identifiers'
import type { Fen } from '../money'
import { formatShanghaiDateTime, shanghaiDate } from '../time'
import { meets, thresholdText, yuan, type AccountFigures } from './account-figures'
import type { RuleBundle, RuleProduct } from './bundle'
import type {
  Allowed,
  DecisionInput,
  InstalmentRequest,
  InsuredEntry,
  InsuredPerson,
  PayerAccount,
  RuleCheck
} from './decision'
import { GENDER_LABELS, INSURANCE_TYPE_LABELS, RELATION_LABELS, STATUS_LABELS } from './labels'
import { inSettlementYear } from './settlement-year'

/**
 * The rules of one decision, a group at a time. Each function reads its part of the input and
 * returns the checks it made (and, where the next step needs it, what it found), in the order
 * the clerk reads them: the bundle, the payer, the balance, the product, the insured person,
 * the request, and money last.
 */

const check = (rule: string, passed: boolean, text: string): RuleCheck => ({ rule, passed, text })

type PriceBand = Extract<RuleProduct['pricing'], { kind: 'perUnit' }>['bands'][number]

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

const regionText = (bundle: RuleBundle) => `${bundle.region.name}（${bundle.region.code}）`

export function bundleInForce(bundle: RuleBundle, at: string): RuleCheck {
  return check(
    'bundle.effective',
    Date.parse(at) >= Date.parse(bundle.effectiveFrom),
    `规则包 ${regionText(bundle)} 第 ${bundle.version} 版自 ${formatShanghaiDateTime(bundle.effectiveFrom)} 起生效`
  )
}

/** The payer: an employee enrolled in this region, with a personal account. */
export function payerChecks(bundle: RuleBundle, account: PayerAccount): RuleCheck[] {
  return [
    check(
      'payer.region',
      account.regionCode === bundle.region.code,
      `参保地 ${account.regionCode}；本规则适用于 ${regionText(bundle)}`
    ),
    check(
      'payer.insuranceType',
      bundle.payer.insuranceTypes.includes(account.insuranceType),
      `参保类型 ${INSURANCE_TYPE_LABELS[account.insuranceType]}；要求 ${bundle.payer.insuranceTypes.map((t) => INSURANCE_TYPE_LABELS[t]).join('、')}（${bundle.payer.text}）`
    ),
    check(
      'payer.enrolment',
      bundle.payer.enrolmentStatuses.includes(account.status),
      `参保状态 ${STATUS_LABELS[account.status]}；要求 ${bundle.payer.enrolmentStatuses.map((s) => STATUS_LABELS[s]).join('、')}`
    )
  ]
}

/** The balance thresholds, and the spending band the balance falls in (Suzhou). */
export function balanceChecks(bundle: RuleBundle, money: AccountFigures): RuleCheck[] {
  const checks = bundle.eligibility.thresholds.map((t, i) => {
    const passed = meets(money.balanceFen, t)
    return check(
      `balance.threshold[${i}]`,
      passed,
      `${money.balanceText}，要求 ${thresholdText(t)}：${passed ? '符合' : '不符合'}`
    )
  })
  if (!bundle.spending.bands) return checks
  const band = money.band
  return [
    ...checks,
    check(
      'spending.band',
      band !== undefined,
      band
        ? `${money.balanceText}，适用档位 ${band.when.map(thresholdText).join(' 且 ')}：可选 ${band.amountsFen.map(yuan).join(' / ')}，年度限额 ${yuan(band.capPerSettlementYearFen)}`
        : `${money.balanceText}，不在任何可购买档位内`
    )
  ]
}

export function productKnown(bundle: RuleBundle, code: string): { product?: RuleProduct; check: RuleCheck } {
  const product = bundle.products.find((p) => p.code === code)
  return {
    product,
    check: check(
      'product.known',
      product !== undefined,
      product ? `产品 ${product.name}（${product.code}），${product.insurer}` : `本规则包没有产品 ${code}`
    )
  }
}

/** What the region excludes, and whether the product's enrolment window is open. */
export function productChecks(bundle: RuleBundle, product: RuleProduct, at: string): RuleCheck[] {
  const checks: RuleCheck[] = []
  const excl = bundle.exclusions
  if (excl.investment || excl.inTermReturn) {
    const banned =
      (excl.investment && product.features.investment) || (excl.inTermReturn && product.features.inTermReturn)
    checks.push(
      check(
        'product.exclusion',
        !banned,
        banned
          ? `本产品带有投资理财性质或保险期内返还条款，本地区不得用个人账户购买（${excl.text ?? ''}）`
          : '本产品不带投资理财性质或保险期内返还条款'
      )
    )
  }
  const window = product.enrolment
  if (window) {
    const open =
      (!window.from || Date.parse(at) >= Date.parse(window.from)) && Date.parse(at) < Date.parse(window.to)
    const from = window.from ? `${formatShanghaiDateTime(window.from)} 起` : ''
    checks.push(
      check(
        'product.enrolmentWindow',
        open,
        `参保期 ${from}至 ${formatShanghaiDateTime(window.to)} 止（${window.text}）；现在 ${formatShanghaiDateTime(at)}：${open ? '在参保期内' : '不在参保期内'}`
      )
    )
  }
  return checks
}

/** Who may be insured: the relation, and for a relative, binding to the account and local enrolment. */
export function insuredChecks(
  bundle: RuleBundle,
  insured: InsuredPerson,
  account: PayerAccount
): RuleCheck[] {
  const allowedRelations = bundle.insured.relations
  const checks = [
    check(
      'insured.relation',
      allowedRelations.includes(insured.relation),
      `被保险人为${RELATION_LABELS[insured.relation]}；本地区可为 ${allowedRelations.map((r) => RELATION_LABELS[r]).join('、')}（${bundle.insured.text}）`
    )
  ]
  if (insured.relation === 'self') {
    const same = insured.idNumber === account.idNumber
    return [
      ...checks,
      check('insured.self', same, same ? '被保险人即持卡人本人' : '选择了“本人”，但身份证号与持卡人不符')
    ]
  }
  if (bundle.insured.boundToAccountOnly) {
    checks.push(
      check(
        'insured.bound',
        insured.boundToAccount,
        insured.boundToAccount
          ? '被保险人已绑定为本账户家庭成员'
          : '被保险人未绑定为本账户家庭成员，本地区只能为已绑定的家庭成员购买'
      )
    )
  }
  if (bundle.insured.enrolledLocallyRequired) {
    checks.push(
      check(
        'insured.enrolledLocally',
        insured.enrolledLocally,
        `被保险人${insured.enrolledLocally ? '已' : '未'}在${bundle.region.name}参加基本医疗保险；本地区要求在本地参保`
      )
    )
  }
  return checks
}

/** How many people this payer has insured in the period (cover period or settlement year), with this one. */
export function personLimitChecks(
  input: DecisionInput,
  product: RuleProduct,
  money: AccountFigures
): RuleCheck[] {
  const { bundle, account, insured } = input
  const limit = bundle.insured.maxPersons
  if (!limit) return []
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
  return [
    check(
      'insured.maxPersons',
      total <= limit.max,
      `${period}已为 ${persons.size} 人投保，连同本次共 ${total} 人；上限 ${limit.max} 人，${limit.countsPayer ? '含' : '不含'}本人（${limit.text}）`
    )
  ]
}

/** The insured's ID number, age and gender against the product: and the price band that fits them. */
export function identityChecks(
  product: RuleProduct,
  insured: InsuredPerson,
  today: string
): { checks: RuleCheck[]; band?: PriceBand } {
  const id = parseResidentId(insured.idNumber, today)
  if (!id.ok) return { checks: [check('insured.identity', false, `被保险人身份证号不正确：${id.reason}`)] }
  const { gender } = id.value
  const age = ageOn(id.value.birthDate, today)
  const checks = [
    check('insured.identity', true, `被保险人 ${GENDER_LABELS[gender]}，${today} 时 ${age} 周岁`)
  ]
  if (product.insuredGender) {
    checks.push(
      check(
        'product.gender',
        gender === product.insuredGender,
        `本产品仅限${GENDER_LABELS[product.insuredGender]}性投保；被保险人为${GENDER_LABELS[gender]}性`
      )
    )
  }
  if (product.pricing.kind !== 'perUnit') return { checks }
  const bands = product.pricing.bands
  const band = bands.find(
    (b) => (b.minAge ?? 0) <= age && age <= (b.maxAge ?? Infinity) && (!b.gender || b.gender === gender)
  )
  checks.push(
    check(
      'product.ageBand',
      band !== undefined,
      band
        ? `${age} 周岁适用费率档 ${ageBandText(band)}：每份 ${yuan(band.unitPriceFen)}`
        : `${GENDER_LABELS[gender]}性 ${age} 周岁：本产品无适用的费率档（${bands.map(ageBandText).join('；')}）`
    )
  )
  return { checks, band }
}

/** One policy of the product per person and cover period, where the product says so. */
export function duplicateChecks(product: RuleProduct, insured: InsuredPerson): RuleCheck[] {
  if (!product.onePerPersonPerCover) return []
  return [
    check(
      'product.duplicate',
      !insured.alreadyCoveredByProduct,
      insured.alreadyCoveredByProduct
        ? '被保险人本保险期间已有本产品保单（每人每期限一份）'
        : '被保险人本保险期间尚无本产品保单'
    )
  ]
}

export interface Request {
  readonly checks: RuleCheck[]
  /** The premium of what was asked for; null when it cannot be priced. */
  readonly premiumFen: Fen | null
  readonly choices: Pick<Allowed, 'units' | 'unitPriceFen' | 'amountsFen' | 'offeredAmountsFen'>
}

/** What is asked for (units or an amount) against the product, and what may be chosen now. */
export function requestChecks(
  bundle: RuleBundle,
  product: RuleProduct,
  input: Pick<DecisionInput, 'units' | 'amountFen'>,
  money: AccountFigures,
  band: PriceBand | undefined
): Request {
  if (product.pricing.kind === 'perUnit') {
    const { min, max } = product.pricing.units
    const range = `${min}${max === undefined ? ' 份起' : max === min ? ' 份' : `–${max} 份`}`
    const choices = band
      ? {
          unitPriceFen: band.unitPriceFen,
          units: { min, max: Math.min(max ?? Infinity, Math.floor(money.maxSpendFen / band.unitPriceFen)) }
        }
      : {}
    const u = input.units
    if (u === undefined)
      return {
        checks: [check('request.units', false, `请选择份数（本产品 ${range}）`)],
        premiumFen: null,
        choices
      }
    const valid = Number.isInteger(u) && u >= min && (max === undefined || u <= max)
    return {
      checks: [check('request.units', valid, `投保 ${u} 份；本产品 ${range}`)],
      premiumFen: band && Number.isInteger(u) ? u * band.unitPriceFen : null,
      choices
    }
  }
  const bandAmounts = bundle.spending.bands ? (money.band?.amountsFen ?? []) : undefined
  const choosable = product.pricing.amountsFen
    .filter((a) => !bandAmounts || bandAmounts.includes(a))
    .sort((a, b) => a - b)
  const choices = {
    amountsFen: choosable.filter((a) => a <= money.maxSpendFen),
    offeredAmountsFen: choosable
  }
  const a = input.amountFen
  const listed = choosable.length > 0 ? choosable.map(yuan).join(' / ') : '无'
  if (a === undefined)
    return {
      checks: [check('request.amount', false, `请选择金额（可选 ${listed}）`)],
      premiumFen: null,
      choices
    }
  if (!Number.isSafeInteger(a)) {
    return {
      checks: [check('request.amount', false, `金额应为以分为单位的整数；可选 ${listed}`)],
      premiumFen: null,
      choices
    }
  }
  return {
    checks: [check('request.amount', choosable.includes(a), `金额 ${yuan(a)}；可选 ${listed}`)],
    premiumFen: a,
    choices
  }
}

/**
 * A yearly instalment: the product takes instalments, this one is within their number, it is
 * payable now (from `payableDaysBefore` before the due date to the end of the grace period), and
 * it costs the policy's units at the bundle's instalment amount.
 */
export function instalmentChecks(
  product: RuleProduct,
  instalment: InstalmentRequest,
  money: AccountFigures,
  at: string
): Request {
  const terms = product.afterSale?.instalments
  if (!terms)
    return {
      checks: [check('instalment.terms', false, `本规则包未规定产品 ${product.name} 的续期缴费`)],
      premiumFen: null,
      choices: {}
    }
  const { sequence, units } = instalment
  const inTerm = Number.isInteger(sequence) && sequence >= 2 && sequence <= terms.years
  const opensAt = Date.parse(instalment.dueAt) - terms.payableDaysBefore * 86_400_000
  const now = Date.parse(at)
  const open = now >= opensAt && now < Date.parse(instalment.graceEndsAt)
  const window = `应缴日 ${shanghaiDate(new Date(instalment.dueAt))}，${shanghaiDate(new Date(opensAt))} 起可缴，宽限期至 ${shanghaiDate(new Date(Date.parse(instalment.graceEndsAt) - 1))}`
  const premiumFen = Number.isInteger(units) && units >= 1 ? units * terms.amountPerUnitFen : null
  return {
    checks: [
      check('instalment.terms', inTerm, `续期第 ${sequence} 期；本产品共缴 ${terms.years} 期`),
      check(
        'instalment.window',
        open,
        `${window}；现在 ${formatShanghaiDateTime(at)}：${open ? '可以缴纳' : now < opensAt ? '尚未到可缴期' : '宽限期已过，保单效力中止'}`
      ),
      check(
        'request.units',
        premiumFen !== null,
        `保单 ${units} 份，每年每份 ${yuan(terms.amountPerUnitFen)}`
      )
    ],
    premiumFen,
    choices: {
      unitPriceFen: terms.amountPerUnitFen,
      units: { min: units, max: units * terms.amountPerUnitFen <= money.maxSpendFen ? units : 0 }
    }
  }
}

/** Money last: does the premium fit in the usable balance and in what is left of the yearly cap? */
export function moneyChecks(money: AccountFigures, premiumFen: Fen | null): RuleCheck[] {
  const cap = money.cap
  if (premiumFen === null) {
    return [
      check('spending.available', money.usableFen > 0, money.usableText),
      ...(cap ? [check('spending.cap', cap.remainingFen > 0, cap.text)] : [])
    ]
  }
  const p = premiumFen
  return [
    check(
      'spending.available',
      p <= money.usableFen,
      `${money.usableText}，${p <= money.usableFen ? '足够支付' : '低于'}保费 ${yuan(p)}`
    ),
    ...(cap
      ? [
          check(
            'spending.cap',
            p <= cap.remainingFen,
            `${cap.text}，${p <= cap.remainingFen ? '足够支付' : '低于'}保费 ${yuan(p)}`
          )
        ]
      : [])
  ]
}
