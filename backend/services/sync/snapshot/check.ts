import { z } from 'zod'
import { ENROLMENT_STATUSES, INSURANCE_TYPES, RELATIONS } from '../../../../core/cardholder'
import {
  PROTOCOL_VERSION,
  type AccountLine,
  type RemovedLine,
  type SnapshotEnd,
  type SnapshotHeader
} from '../../../../core/sync/protocol'

/**
 * The snapshot line schemas of core/sync/protocol.ts, checked by hand: a zod parse per line costs
 * more than the rest of the line's work, and a full snapshot has a million lines. The zod schemas
 * stay the specification; test/unit/sync/snapshot-check.test.ts holds both to the same verdicts.
 * A failure names the field and the rule, never the value (it may be an ID number or a name).
 */

/** Why a line does not fit its schema, in Chinese, with the field's path. */
export class LineProblem {
  constructor(
    readonly field: string,
    readonly reason: string
  ) {}

  get message(): string {
    return this.field === '' ? this.reason : `字段 ${this.field} ${this.reason}`
  }
}

export type CheckedLine =
  | { readonly type: 'header'; readonly line: SnapshotHeader }
  | { readonly type: 'account'; readonly line: AccountLine }
  | { readonly type: 'removed'; readonly line: RemovedLine }
  | { readonly type: 'end'; readonly line: SnapshotEnd }

const UTC = z.regexes.datetime({ offset: false, local: false, precision: null })
const REGION = /^\d{6}$/
const ACCOUNT_NO = /^[0-9A-Z]{6,32}$/
const CARD = /^[A-Z0-9]{9}$/
const ID = /^\d{17}[\dX]$/
const SHA256 = /^[0-9a-f]{64}$/
const MAX_FEN = 100_000_000_00
const INSURANCE = new Set<string>(INSURANCE_TYPES)
const STATUS = new Set<string>(ENROLMENT_STATUSES)
const RELATION = new Set<string>(RELATIONS)

type Obj = Record<string, unknown>

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** strictObject: no key beyond these (a missing one fails its own check). */
function extraKey(value: Obj, known: ReadonlySet<string>, path: string): LineProblem | null {
  for (const key in value) {
    if (Object.hasOwn(value, key) && !known.has(key)) {
      // A key is named only when it looks like a field name: garbled text could hold personal data.
      return new LineProblem(
        path,
        /^[A-Za-z]{1,40}$/.test(key) ? `含有协议之外的字段“${key}”` : '含有协议之外的字段'
      )
    }
  }
  return null
}

function text(value: unknown, pattern: RegExp): boolean {
  return typeof value === 'string' && pattern.test(value)
}

/** Characters as zod counts them: code points, a surrogate pair (e.g. a rare 汉字 outside the BMP) being one. */
function codePointLength(value: string): number {
  let count = value.length
  for (let i = 0; i < value.length - 1; i++) {
    if ((value.charCodeAt(i) & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--
      i++
    }
  }
  return count
}

function length(value: unknown, min: number, max: number): boolean {
  if (typeof value !== 'string') return false
  // Only a string near a bound can change sides when pairs are counted as one.
  const units = value.length
  const count = units > max || (units >= min && units < min * 2) ? codePointLength(value) : units
  return count >= min && count <= max
}

/** z.int(): a safe integer. */
function int(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
}

const HEADER_KEYS = new Set([
  'type',
  'protocol',
  'snapshotVersion',
  'full',
  'baseVersion',
  'regionCodes',
  'balancesAsOf',
  'generatedAt'
])

export function checkHeader(value: unknown): SnapshotHeader | LineProblem {
  if (!isObject(value)) return new LineProblem('', '不是 JSON 对象')
  if (value.type !== 'header') return new LineProblem('type', '应为 header')
  if (value.protocol !== 1 && value.protocol !== PROTOCOL_VERSION)
    return new LineProblem('protocol', `应为协议版本 1 或 ${PROTOCOL_VERSION}`)
  if (!int(value.snapshotVersion, 1, Number.MAX_SAFE_INTEGER))
    return new LineProblem('snapshotVersion', '应为正整数')
  if (typeof value.full !== 'boolean') return new LineProblem('full', '应为 true 或 false')
  if (value.baseVersion !== null && !int(value.baseVersion, 0, Number.MAX_SAFE_INTEGER))
    return new LineProblem('baseVersion', '应为非负整数或 null')
  const regions = value.regionCodes
  if (!Array.isArray(regions) || regions.length < 1 || regions.length > 50)
    return new LineProblem('regionCodes', '应为 1 到 50 个地区代码')
  for (let i = 0; i < regions.length; i++)
    if (!text(regions[i], REGION)) return new LineProblem(`regionCodes[${i}]`, '应为 6 位数字')
  if (!text(value.balancesAsOf, UTC)) return new LineProblem('balancesAsOf', '应为 UTC 时间')
  if (!text(value.generatedAt, UTC)) return new LineProblem('generatedAt', '应为 UTC 时间')
  return extraKey(value, HEADER_KEYS, '') ?? (value as SnapshotHeader)
}

const FAMILY_KEYS = new Set(['idNumber', 'name', 'relation', 'boundAt'])
const HOLDING_KEYS = new Set([
  'idNumber',
  'productCode',
  'coverFrom',
  'coverTo',
  'policyNo',
  'policyRef',
  'units',
  'instalments'
])
const POLICY_NO = /^[0-9A-Za-z-]{6,40}$/
const SALE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const POLICY_REF_KEYS = new Set(['saleId', 'lineNo'])
const INSTALMENT_KEYS = new Set(['paid', 'years', 'nextDueAt', 'graceEndsAt'])
const ACCOUNT_KEYS = new Set([
  'type',
  'accountNo',
  'cardNumber',
  'idNumber',
  'name',
  'regionCode',
  'insuranceType',
  'status',
  'balanceFen',
  'historicalBalanceFen',
  'spentThisSettlementYearFen',
  'fitnessCardTransfersFen',
  'family',
  'holdings'
])

function checkFamily(value: unknown, path: string): LineProblem | null {
  if (!isObject(value)) return new LineProblem(path, '不是 JSON 对象')
  if (!text(value.idNumber, ID)) return new LineProblem(`${path}.idNumber`, '应为 18 位身份证号')
  if (!length(value.name, 1, 50)) return new LineProblem(`${path}.name`, '应为 1 到 50 个字符')
  if (typeof value.relation !== 'string' || !RELATION.has(value.relation))
    return new LineProblem(`${path}.relation`, '不是协议中的亲属关系')
  if (!text(value.boundAt, UTC)) return new LineProblem(`${path}.boundAt`, '应为 UTC 时间')
  return extraKey(value, FAMILY_KEYS, path)
}

function checkHolding(value: unknown, path: string): LineProblem | null {
  if (!isObject(value)) return new LineProblem(path, '不是 JSON 对象')
  if (!text(value.idNumber, ID)) return new LineProblem(`${path}.idNumber`, '应为 18 位身份证号')
  if (!length(value.productCode, 1, 40)) return new LineProblem(`${path}.productCode`, '应为 1 到 40 个字符')
  if (!text(value.coverFrom, UTC)) return new LineProblem(`${path}.coverFrom`, '应为 UTC 时间')
  if (!text(value.coverTo, UTC)) return new LineProblem(`${path}.coverTo`, '应为 UTC 时间')
  if (value.policyNo !== undefined && !text(value.policyNo, POLICY_NO))
    return new LineProblem(`${path}.policyNo`, '应为 6 到 40 位字母、数字或连字符')
  if (value.units !== undefined && !int(value.units, 1, 1000))
    return new LineProblem(`${path}.units`, '应为 1 到 1000 的整数')
  const ref = value.policyRef
  if (ref !== undefined) {
    if (!isObject(ref)) return new LineProblem(`${path}.policyRef`, '不是 JSON 对象')
    if (!text(ref.saleId, SALE_ID))
      return new LineProblem(`${path}.policyRef.saleId`, '应为交易号（UUID v7）')
    if (!int(ref.lineNo, 1, Number.MAX_SAFE_INTEGER))
      return new LineProblem(`${path}.policyRef.lineNo`, '应为正整数')
    const extra = extraKey(ref, POLICY_REF_KEYS, `${path}.policyRef`)
    if (extra) return extra
  }
  const plan = value.instalments
  if (plan !== undefined) {
    const at = `${path}.instalments`
    if (!isObject(plan)) return new LineProblem(at, '不是 JSON 对象')
    if (!int(plan.paid, 1, 40)) return new LineProblem(`${at}.paid`, '应为 1 到 40 的整数')
    if (!int(plan.years, 2, 40)) return new LineProblem(`${at}.years`, '应为 2 到 40 的整数')
    if (!text(plan.nextDueAt, UTC)) return new LineProblem(`${at}.nextDueAt`, '应为 UTC 时间')
    if (!text(plan.graceEndsAt, UTC)) return new LineProblem(`${at}.graceEndsAt`, '应为 UTC 时间')
    const extra = extraKey(plan, INSTALMENT_KEYS, at)
    if (extra) return extra
  }
  return extraKey(value, HOLDING_KEYS, path)
}

export function checkAccountLine(value: unknown): AccountLine | LineProblem {
  if (!isObject(value)) return new LineProblem('', '不是 JSON 对象')
  if (value.type !== 'account') return new LineProblem('type', '应为 account')
  if (!text(value.accountNo, ACCOUNT_NO)) return new LineProblem('accountNo', '应为 6 到 32 位数字或大写字母')
  if (!text(value.cardNumber, CARD)) return new LineProblem('cardNumber', '应为 9 位数字或大写字母')
  if (!text(value.idNumber, ID)) return new LineProblem('idNumber', '应为 18 位身份证号')
  if (!length(value.name, 1, 50)) return new LineProblem('name', '应为 1 到 50 个字符')
  if (!text(value.regionCode, REGION)) return new LineProblem('regionCode', '应为 6 位数字')
  if (typeof value.insuranceType !== 'string' || !INSURANCE.has(value.insuranceType))
    return new LineProblem('insuranceType', '不是协议中的险种')
  if (typeof value.status !== 'string' || !STATUS.has(value.status))
    return new LineProblem('status', '不是协议中的参保状态')
  for (const field of [
    'balanceFen',
    'historicalBalanceFen',
    'spentThisSettlementYearFen',
    'fitnessCardTransfersFen'
  ] as const) {
    if (!int(value[field], 0, MAX_FEN)) return new LineProblem(field, '应为 0 到 100 亿分之间的整数（分）')
  }
  const family = value.family
  if (!Array.isArray(family) || family.length > 20) return new LineProblem('family', '应为至多 20 人的数组')
  for (let i = 0; i < family.length; i++) {
    const problem = checkFamily(family[i], `family[${i}]`)
    if (problem) return problem
  }
  const holdings = value.holdings
  if (!Array.isArray(holdings) || holdings.length > 200)
    return new LineProblem('holdings', '应为至多 200 项的数组')
  for (let i = 0; i < holdings.length; i++) {
    const problem = checkHolding(holdings[i], `holdings[${i}]`)
    if (problem) return problem
  }
  return extraKey(value, ACCOUNT_KEYS, '') ?? (value as AccountLine)
}

const REMOVED_KEYS = new Set(['type', 'accountNo'])

export function checkRemovedLine(value: unknown): RemovedLine | LineProblem {
  if (!isObject(value)) return new LineProblem('', '不是 JSON 对象')
  if (value.type !== 'removed') return new LineProblem('type', '应为 removed')
  if (!text(value.accountNo, ACCOUNT_NO)) return new LineProblem('accountNo', '应为 6 到 32 位数字或大写字母')
  return extraKey(value, REMOVED_KEYS, '') ?? (value as RemovedLine)
}

const END_KEYS = new Set(['type', 'count', 'sha256'])

export function checkEndLine(value: unknown): SnapshotEnd | LineProblem {
  if (!isObject(value)) return new LineProblem('', '不是 JSON 对象')
  if (value.type !== 'end') return new LineProblem('type', '应为 end')
  if (!int(value.count, 0, Number.MAX_SAFE_INTEGER)) return new LineProblem('count', '应为非负整数')
  if (!text(value.sha256, SHA256)) return new LineProblem('sha256', '应为 64 位小写十六进制')
  return extraKey(value, END_KEYS, '') ?? (value as SnapshotEnd)
}

/** Any line by its `type`; an unknown type is a problem, not skipped: the count and digest would not mean what they say. */
export function checkSnapshotLine(value: unknown): CheckedLine | LineProblem {
  const type = isObject(value) ? value.type : undefined
  switch (type) {
    case 'account': {
      const line = checkAccountLine(value)
      return line instanceof LineProblem ? line : { type, line }
    }
    case 'removed': {
      const line = checkRemovedLine(value)
      return line instanceof LineProblem ? line : { type, line }
    }
    case 'header': {
      const line = checkHeader(value)
      return line instanceof LineProblem ? line : { type, line }
    }
    case 'end': {
      const line = checkEndLine(value)
      return line instanceof LineProblem ? line : { type, line }
    }
    default:
      return isObject(value)
        ? new LineProblem('type', '不是协议中的行类型')
        : new LineProblem('', '不是 JSON 对象')
  }
}
