import { describe, expect, it } from 'vitest'
import {
  ageOn,
  normaliseTypedIdentifier,
  parseCardInput,
  parseResidentId,
  parseSocialSecurityCardNumber,
  residentIdCheckChar
} from '../../../core/identifiers'

const TODAY = '2026-11-22'

/** The specimen number printed in GB 11643-1999. */
const SPECIMEN = '11010519491231002X'

describe('resident ID (GB 11643)', () => {
  it('accepts the standard specimen and derives birth date and gender', () => {
    const result = parseResidentId(SPECIMEN, TODAY)
    expect(result).toEqual({
      ok: true,
      value: {
        kind: 'resident-id',
        idNumber: SPECIMEN,
        birthDate: '1949-12-31',
        gender: 'female',
        convertedFrom15: false
      }
    })
  })

  it('accepts a lower-case x as the check character and stores it upper-case', () => {
    const result = parseResidentId(SPECIMEN.toLowerCase(), TODAY)
    expect(result.ok && result.value.idNumber).toBe(SPECIMEN)
  })

  it('computes the MOD 11-2 check character for every remainder', () => {
    expect(residentIdCheckChar('11010519491231002')).toBe('X')
    expect(residentIdCheckChar('44052418800101001')).toBe('4')
    // Every remainder 0..10 maps to its documented character.
    const seen = new Set<string>()
    for (let seq = 0; seq < 200; seq++)
      seen.add(residentIdCheckChar(`1101051990010100${seq % 10}`.slice(0, 17)))
    for (let n = 10000; n < 10100; n++) seen.add(residentIdCheckChar(`110105199001${n}`.slice(0, 17)))
    expect([...seen].sort().join('')).toBe('0123456789X')
  })

  it('refuses a number whose check character does not match, saying so', () => {
    const result = parseResidentId('110105194912310021', TODAY)
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('校验位') })
  })

  it('refuses a birth date that does not exist', () => {
    const first17 = '11010519490230002'
    const result = parseResidentId(first17 + residentIdCheckChar(first17), TODAY)
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('19490230 不是有效日期') })
  })

  it('refuses a birth date after today, and accepts one born today', () => {
    const tomorrow = '11010520261123002'
    expect(parseResidentId(tomorrow + residentIdCheckChar(tomorrow), TODAY)).toEqual({
      ok: false,
      reason: expect.stringContaining('晚于今天')
    })
    const today = '11010520261122002'
    expect(parseResidentId(today + residentIdCheckChar(today), TODAY).ok).toBe(true)
  })

  it('refuses an unknown province code', () => {
    const first17 = '99010519491231002'
    expect(parseResidentId(first17 + residentIdCheckChar(first17), TODAY)).toEqual({
      ok: false,
      reason: expect.stringContaining('省级行政区划代码')
    })
  })

  it('tells the odd sequence (male) from the even one (female)', () => {
    const male = '53010219850312001'
    const result = parseResidentId(male + residentIdCheckChar(male), TODAY)
    expect(result.ok && result.value.gender).toBe('male')
  })

  it('converts a 15-digit first-generation number to 18 digits', () => {
    const result = parseResidentId('110105491231002', TODAY)
    expect(result).toEqual({
      ok: true,
      value: {
        kind: 'resident-id',
        idNumber: SPECIMEN,
        birthDate: '1949-12-31',
        gender: 'female',
        convertedFrom15: true
      }
    })
  })

  it('says how many characters it read when the length is wrong', () => {
    expect(parseResidentId('1101051949123100', TODAY)).toEqual({
      ok: false,
      reason: '身份证号应为 18 位，读到 16 位'
    })
  })
})

describe('social-security card number', () => {
  it('accepts nine letters or digits, upper-casing them', () => {
    expect(parseSocialSecurityCardNumber('a53000001')).toEqual({
      ok: true,
      value: { kind: 'social-security-card', cardNumber: 'A53000001' }
    })
  })

  it('refuses a truncated number', () => {
    expect(parseSocialSecurityCardNumber('A5300000')).toEqual({
      ok: false,
      reason: '社会保障卡号应为 9 位，读到 8 位'
    })
  })
})

describe('what the clerk typed or the reader sent', () => {
  it('tells a card number from an ID by length', () => {
    expect(parseCardInput('A53000001', TODAY)).toMatchObject({
      ok: true,
      value: { kind: 'social-security-card' }
    })
    expect(parseCardInput(SPECIMEN, TODAY)).toMatchObject({ ok: true, value: { kind: 'resident-id' } })
  })

  it('reads full-width digits typed with a Chinese input method, and ignores spaces', () => {
    expect(normaliseTypedIdentifier('Ａ５３０ ０００ ０１')).toBe('A53000001')
    expect(parseCardInput(' Ａ５３０００００１ ', TODAY)).toMatchObject({
      ok: true,
      value: { cardNumber: 'A53000001' }
    })
  })

  it('refuses garbage, empty input and wrong lengths with a message that says what was read', () => {
    expect(parseCardInput('', TODAY)).toEqual({
      ok: false,
      reason: expect.stringContaining('请刷社会保障卡')
    })
    expect(parseCardInput('张三', TODAY)).toEqual({
      ok: false,
      reason: expect.stringContaining('无法识别的字符')
    })
    expect(parseCardInput('12345', TODAY)).toEqual({
      ok: false,
      reason: expect.stringContaining('读到 5 位')
    })
  })

  it('takes anything with a letter (other than a final X) as a card number, so a cut-short card says so', () => {
    expect(parseCardInput('C3308000', TODAY)).toEqual({
      ok: false,
      reason: '社会保障卡号应为 9 位，读到 8 位'
    })
    expect(parseCardInput('C330800012', TODAY)).toEqual({
      ok: false,
      reason: '社会保障卡号应为 9 位，读到 10 位'
    })
    expect(parseCardInput('1101051949123100X', TODAY)).toEqual({
      ok: false,
      reason: expect.stringContaining('读到 17 位')
    })
  })
})

describe('age on a date', () => {
  it('turns 18 on the 18th birthday, not the day before', () => {
    expect(ageOn('2008-11-22', '2026-11-21')).toBe(17)
    expect(ageOn('2008-11-22', '2026-11-22')).toBe(18)
  })

  it('makes someone born on 29 February a year older on 1 March in a common year', () => {
    expect(ageOn('2008-02-29', '2026-02-28')).toBe(17)
    expect(ageOn('2008-02-29', '2026-03-01')).toBe(18)
    expect(ageOn('2008-02-29', '2028-02-29')).toBe(20)
  })
})

describe('what a reader may send besides a bare number', () => {
  it('unwraps magnetic track-2 data to the card or ID number in its primary field', () => {
    expect(parseCardInput(';A53000001=4912?', TODAY)).toMatchObject({
      ok: true,
      value: { kind: 'social-security-card', cardNumber: 'A53000001' }
    })
    expect(parseCardInput(`;${SPECIMEN}=2412101?7`, TODAY)).toMatchObject({
      ok: true,
      value: { kind: 'resident-id', idNumber: SPECIMEN }
    })
    expect(parseCardInput(';A53000001?', TODAY)).toMatchObject({
      ok: true,
      value: { cardNumber: 'A53000001' }
    })
  })

  it('refuses track-2 data without its end sentinel or without a number', () => {
    expect(parseCardInput(';A53000001=4912', TODAY)).toEqual({
      ok: false,
      reason: '磁条数据不完整（缺少结束符 ?）：请重新刷卡'
    })
    expect(parseCardInput(';=4912?', TODAY)).toEqual({ ok: false, reason: '磁条数据中没有卡号：请重新刷卡' })
    expect(parseCardInput(';A5300000=1?', TODAY)).toEqual({
      ok: false,
      reason: '社会保障卡号应为 9 位，读到 8 位'
    })
  })

  it('passes an e-voucher code on exactly as read, case included', () => {
    const code = 'EC01hLk3s9QpZ7xWm2Vb5Nq8Rt4Yu6Io0P'
    expect(parseCardInput(code, TODAY)).toEqual({ ok: true, value: { kind: 'e-voucher', code } })
  })
})
