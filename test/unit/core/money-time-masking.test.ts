import { describe, expect, it } from 'vitest'
import { maskCardNumber, maskIdNumber, maskName } from '../../../core/masking'
import { assertFen, formatYuan, parseYuan } from '../../../core/money'
import {
  demoClock,
  fixedClock,
  formatShanghaiDateTime,
  shanghaiDate,
  shanghaiPartsByIntl
} from '../../../core/time'

describe('money in fen', () => {
  it('formats fen as yuan with thousands separators, exactly', () => {
    expect(formatYuan(320_000)).toBe('3,200.00')
    expect(formatYuan(299_999)).toBe('2,999.99')
    expect(formatYuan(5)).toBe('0.05')
    expect(formatYuan(-150_050)).toBe('-1,500.50')
    expect(formatYuan(123_456_789_01)).toBe('123,456,789.01')
  })

  it('refuses a float where fen are expected', () => {
    expect(() => assertFen(10.5)).toThrow(RangeError)
    expect(() => formatYuan(0.1 + 0.2)).toThrow(RangeError)
  })

  it('parses what a clerk types as yuan into fen, or refuses it', () => {
    expect(parseYuan('3200')).toBe(320_000)
    expect(parseYuan('3,200.5')).toBe(320_050)
    expect(parseYuan('0.07')).toBe(7)
    expect(parseYuan('1.005')).toBeNull()
    expect(parseYuan('1e3')).toBeNull()
    expect(parseYuan('-5')).toBeNull()
  })
})

describe('times', () => {
  it('shows a UTC instant in Shanghai time, across midnight', () => {
    expect(formatShanghaiDateTime('2026-11-21T16:30:00Z')).toBe('2026-11-22 00:30')
    expect(formatShanghaiDateTime('2026-11-21T16:30:05Z', true)).toBe('2026-11-22 00:30:05')
    expect(shanghaiDate(new Date('2026-12-31T16:00:00Z'))).toBe('2027-01-01')
  })

  it('reads Shanghai time as UTC+8 from 1992 on exactly as the time-zone database does, and the 1980s summers by it', () => {
    let seed = 42
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648
    const from = Date.UTC(1992, 0, 1)
    const until = Date.UTC(2100, 0, 1)
    for (let n = 0; n < 20_000; n++) {
      const at = new Date(from + Math.floor(next() * (until - from)))
      const intl = shanghaiPartsByIntl(at)
      expect(formatShanghaiDateTime(at.toISOString(), true)).toBe(
        `${intl.year}-${intl.month}-${intl.day} ${intl.hour}:${intl.minute}:${intl.second}`
      )
    }
    // 1988-07-01 was in daylight saving (UTC+9): the plain reading would be an hour off.
    expect(formatShanghaiDateTime('1988-07-01T00:00:00Z')).toBe('1988-07-01 09:00')
    expect(formatShanghaiDateTime('1991-12-31T16:00:00Z')).toBe('1992-01-01 00:00')
  })

  it('refuses a clock that is not a time', () => {
    expect(() => fixedClock('yesterday')).toThrow(RangeError)
  })
})

describe('masking', () => {
  it('keeps the first character of a name', () => {
    expect(maskName('张伟')).toBe('张*')
    expect(maskName('次仁多吉')).toBe('次***')
    expect(maskName('王')).toBe('王*')
  })

  it('shows only the ends of ID and card numbers', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('1101**********002X')
    expect(maskCardNumber('A53000001')).toBe('A****0001')
  })
})

describe('browser mode’s demo clock (COUNTER_TIME)', () => {
  const real = { now: () => new Date('2026-12-06T10:00:00.000Z') }

  it('runs on from the given instant, or stays there when fixed', () => {
    let at = Date.parse('2026-12-06T10:00:00.000Z')
    const moving = { now: () => new Date(at) }
    const clock = demoClock('2027-01-31T23:50:00+08:00', 'running', moving)
    if (typeof clock === 'string') throw new Error(clock)
    expect(clock.now().toISOString()).toBe('2027-01-31T15:50:00.000Z')
    at += 90_000
    expect(clock.now().toISOString()).toBe('2027-01-31T15:51:30.000Z')
    const fixed = demoClock('2027-02-01T00:10:00+08:00', 'fixed', moving)
    if (typeof fixed === 'string') throw new Error(fixed)
    at += 90_000
    expect(fixed.now().toISOString()).toBe('2027-01-31T16:10:00.000Z')
  })

  it('refuses a time without its zone, or not a time, in Chinese', () => {
    for (const text of ['2027-01-31 23:50', '2027-01-31T23:50:00', 'tomorrow', '2027-13-45T00:00:00Z'])
      expect(demoClock(text, 'running', real)).toMatch(/^COUNTER_TIME /)
  })
})
