/**
 * What a card reader or a clerk can hand us, parsed and validated before anything is looked up.
 * A failure says in Chinese what is wrong, so the clerk knows whether to swipe again or retype.
 */

export type Gender = 'male' | 'female'

export type CardIdentifier =
  | { readonly kind: 'social-security-card'; readonly cardNumber: string }
  | {
      readonly kind: 'resident-id'
      readonly idNumber: string
      readonly birthDate: string
      readonly gender: Gender
      /** A 15-digit first-generation number, converted to 18 digits. */
      readonly convertedFrom15: boolean
    }
  /** A medical-insurance e-voucher (医保电子凭证) QR code: opaque, passed on as it was read. */
  | { readonly kind: 'e-voucher'; readonly code: string }

export type ParseResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string }

/** GB 11643 / ISO 7064 MOD 11-2 weights for the first 17 digits. */
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const
const ID_CHECK_CHARS = '10X98765432'

/** Province-level codes of GB/T 2260 (the first two digits of every resident ID). */
const PROVINCE_CODES = new Set([
  '11',
  '12',
  '13',
  '14',
  '15',
  '21',
  '22',
  '23',
  '31',
  '32',
  '33',
  '34',
  '35',
  '36',
  '37',
  '41',
  '42',
  '43',
  '44',
  '45',
  '46',
  '50',
  '51',
  '52',
  '53',
  '54',
  '61',
  '62',
  '63',
  '64',
  '65',
  '71',
  '81',
  '82',
  '83',
  '91'
])

/** Full-width digits and letters (typed with a Chinese IME on) become ASCII; spaces and dashes go. */
export function normaliseTypedIdentifier(raw: string): string {
  return raw
    .replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0))
    .replace(/[\s\u3000-]/g, '')
    .toUpperCase()
}

export function residentIdCheckChar(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]
  return ID_CHECK_CHARS[sum % 11]
}

function isRealDate(yyyymmdd: string): boolean {
  const year = Number(yyyymmdd.slice(0, 4))
  const month = Number(yyyymmdd.slice(4, 6))
  const day = Number(yyyymmdd.slice(6, 8))
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  return day <= daysInMonth
}

function isoDate(yyyymmdd: string): string {
  return `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`
}

/**
 * An 18-character resident ID: region, a real birth date not after `today` (YYYY-MM-DD),
 * sequence (odd = male) and the check character.
 */
export function parseResidentId(
  raw: string,
  today: string
): ParseResult<Extract<CardIdentifier, { kind: 'resident-id' }>> {
  const id = normaliseTypedIdentifier(raw)
  if (id.length === 15) return parseFirstGenerationId(id, today)
  if (id.length !== 18) return { ok: false, reason: `身份证号应为 18 位，读到 ${id.length} 位` }
  if (!/^\d{17}[\dX]$/.test(id)) return { ok: false, reason: '身份证号只能是数字，最后一位可以是 X' }
  return checkResidentIdBody(id, today, false)
}

function checkResidentIdBody(
  id: string,
  today: string,
  convertedFrom15: boolean
): ParseResult<Extract<CardIdentifier, { kind: 'resident-id' }>> {
  if (!PROVINCE_CODES.has(id.slice(0, 2))) {
    return { ok: false, reason: `身份证号前两位 ${id.slice(0, 2)} 不是有效的省级行政区划代码` }
  }
  const birth = id.slice(6, 14)
  if (!isRealDate(birth)) return { ok: false, reason: `身份证号中的出生日期 ${birth} 不是有效日期` }
  const birthDate = isoDate(birth)
  if (birthDate > today) return { ok: false, reason: `身份证号中的出生日期 ${birthDate} 晚于今天` }
  if (!convertedFrom15 && residentIdCheckChar(id.slice(0, 17)) !== id[17]) {
    return { ok: false, reason: '身份证号校验位不符：号码可能输错，或读卡不完整' }
  }
  const gender = genderOfId(id)
  return { ok: true, value: { kind: 'resident-id', idNumber: id, birthDate, gender, convertedFrom15 } }
}

/** 15 digits (issued before 1999): 6 region + YYMMDD (19YY) + 3 sequence; converted to 18 with a check char. */
function parseFirstGenerationId(
  id: string,
  today: string
): ParseResult<Extract<CardIdentifier, { kind: 'resident-id' }>> {
  if (!/^\d{15}$/.test(id)) return { ok: false, reason: '15 位旧身份证号只能是数字' }
  const first17 = `${id.slice(0, 6)}19${id.slice(6)}`
  return checkResidentIdBody(first17 + residentIdCheckChar(first17), today, true)
}

/** The social-security card number printed on and encoded in the card: nine letters or digits. */
export function parseSocialSecurityCardNumber(
  raw: string
): ParseResult<Extract<CardIdentifier, { kind: 'social-security-card' }>> {
  const cardNumber = normaliseTypedIdentifier(raw)
  if (!/^[A-Z0-9]+$/.test(cardNumber)) return { ok: false, reason: '社会保障卡号只能是字母或数字' }
  if (cardNumber.length !== 9)
    return { ok: false, reason: `社会保障卡号应为 9 位，读到 ${cardNumber.length} 位` }
  return { ok: true, value: { kind: 'social-security-card', cardNumber } }
}

/** E-voucher codes are long opaque tokens; nothing shorter than this is taken for one. */
const E_VOUCHER_MIN_LENGTH = 20

/**
 * Magnetic track-2 data, `;` primary field, optionally `=` and more, `?`, perhaps a check
 * character: the primary field is the card or ID number.
 */
function unwrapTrack2(raw: string): ParseResult<string> | null {
  const text = raw.trim()
  if (!text.startsWith(';')) return null
  const match = /^;([^=?]*)(?:=[^?]*)?\?.?$/.exec(text)
  if (!match) return { ok: false, reason: '磁条数据不完整（缺少结束符 ?）：请重新刷卡' }
  if (match[1] === '') return { ok: false, reason: '磁条数据中没有卡号：请重新刷卡' }
  return { ok: true, value: match[1] }
}

/**
 * What the clerk typed or the reader sent, told apart by shape: track-2 data is unwrapped first;
 * 9 characters is a card number, 15 or 18 a resident ID, 20 or more an e-voucher code.
 * Anything else is refused with what was read.
 */
export function parseCardInput(raw: string, today: string): ParseResult<CardIdentifier> {
  const track2 = unwrapTrack2(raw)
  if (track2 && !track2.ok) return track2
  const source = track2 ? track2.value : raw
  const text = normaliseTypedIdentifier(source)
  if (text.length === 0) return { ok: false, reason: '请刷社会保障卡，或输入社会保障卡号 / 身份证号' }
  if (!track2 && text.length >= E_VOUCHER_MIN_LENGTH && /^[\x21-\x7e]+$/.test(source.trim())) {
    return { ok: true, value: { kind: 'e-voucher', code: source.trim() } }
  }
  if (!/^[A-Z0-9]+$/.test(text)) {
    return { ok: false, reason: '含有无法识别的字符：请输入 9 位社会保障卡号或 18 位身份证号' }
  }
  // A letter anywhere but a final X cannot be a resident ID: it is a card number, perhaps cut short.
  if (text.length === 9 || /[A-Z]/.test(text.replace(/X$/, ''))) return parseSocialSecurityCardNumber(text)
  if (text.length === 15 || text.length === 18) return parseResidentId(text, today)
  return { ok: false, reason: `无法识别：应为 9 位社会保障卡号或 18 位身份证号，读到 ${text.length} 位` }
}

/** Whole years of age on `onDate` (YYYY-MM-DD). Born on 29 February: a year older on 1 March in common years. */
export function ageOn(birthDate: string, onDate: string): number {
  const years = Number(onDate.slice(0, 4)) - Number(birthDate.slice(0, 4))
  return onDate.slice(5) >= birthDate.slice(5) ? years : years - 1
}

/** Birth date (YYYY-MM-DD) of a valid 18-digit resident ID, as stored after validation. */
export function birthDateOfId(idNumber: string): string {
  return isoDate(idNumber.slice(6, 14))
}

/** Gender of a valid 18-digit resident ID: the sequence's last digit, odd for men. */
export function genderOfId(idNumber: string): Gender {
  return Number(idNumber[16]) % 2 === 1 ? 'male' : 'female'
}

/**
 * A mainland mobile number (手机号) as a clerk types it: spaces, hyphens and a leading +86 or 86
 * are allowed; what is kept is the 11 digits. Mobile numbers start 13–19.
 */
export function parseMobile(text: string): { ok: true; value: string } | { ok: false; reason: string } {
  const digits = text
    .trim()
    .replace(/[\s-]/g, '')
    .replace(/^(?:\+?86)(?=\d{11}$)/, '')
  if (!/^\d+$/.test(digits)) return { ok: false, reason: '手机号只能含数字' }
  if (digits.length !== 11) return { ok: false, reason: `手机号应为 11 位数字（现为 ${digits.length} 位）` }
  if (!/^1[3-9]/.test(digits)) return { ok: false, reason: '不是手机号：手机号以 13–19 开头' }
  return { ok: true, value: digits }
}
