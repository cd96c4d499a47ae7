/** Times are stored as UTC ISO-8601 strings and shown in the counter's time zone. */
export const DISPLAY_TIME_ZONE = 'Asia/Shanghai'

/** The clock is passed in, so tests and the rule engine are deterministic. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/**
 * Browser mode's demo clock (`COUNTER_TIME`, never read by the packaged app): an instant with its
 * zone (`2027-01-31T23:50:00+08:00`) from which the clock runs on, or, with `fixed`, stays.
 * Returns a Chinese reason instead when the text is not such an instant.
 */
export function demoClock(
  text: string,
  mode: 'running' | 'fixed',
  real: Clock = systemClock
): Clock | string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text.trim()))
    return `COUNTER_TIME 应为带时区的时间，如 2027-01-31T23:50:00+08:00，现在是「${text}」`
  const start = Date.parse(text.trim())
  if (Number.isNaN(start)) return `COUNTER_TIME 不是有效时间：「${text}」`
  if (mode === 'fixed') return fixedClock(new Date(start).toISOString())
  const offset = start - real.now().getTime()
  return { now: () => new Date(real.now().getTime() + offset) }
}

export function fixedClock(iso: string): Clock {
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) throw new RangeError(`不是有效时间：${iso}`)
  return { now: () => new Date(at.getTime()) }
}

const dateTimeParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: DISPLAY_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23'
})

/**
 * China has kept UTC+8 all year since its last daylight-saving summer (1991): from 1992 on a
 * Shanghai wall time is the UTC time eight hours later, read off without Intl (whose
 * formatToParts costs microseconds, and the centre asks it for every line it settles). Earlier
 * instants go through Intl, which knows the summers of 1986–1991.
 */
const PLAIN_UTC8_FROM = Date.UTC(1992, 0, 1)
const two = (value: number) => String(value).padStart(2, '0')

function partsOf(date: Date): Record<string, string> {
  const at = date.getTime()
  if (at >= PLAIN_UTC8_FROM) {
    const shifted = new Date(at + 8 * 3_600_000)
    return {
      year: String(shifted.getUTCFullYear()),
      month: two(shifted.getUTCMonth() + 1),
      day: two(shifted.getUTCDate()),
      hour: two(shifted.getUTCHours()),
      minute: two(shifted.getUTCMinutes()),
      second: two(shifted.getUTCSeconds())
    }
  }
  return shanghaiPartsByIntl(date)
}

/** Intl's reading (the time-zone database); the test holds the plain UTC+8 reading to it. */
export function shanghaiPartsByIntl(date: Date): Record<string, string> {
  const parts: Record<string, string> = {}
  for (const part of dateTimeParts.formatToParts(date)) parts[part.type] = part.value
  return parts
}

/** "2026-11-20T00:30:00Z" -> "2026-11-20 08:30" (Asia/Shanghai). */
export function formatShanghaiDateTime(isoUtc: string, withSeconds = false): string {
  const p = partsOf(new Date(isoUtc))
  const time = withSeconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`
  return `${p.year}-${p.month}-${p.day} ${time}`
}

/** "YYYYMMDD-HHmm" in Shanghai, for file names. */
export function shanghaiDateTimeCompact(date: Date): string {
  const p = partsOf(date)
  return `${p.year}${p.month}${p.day}-${p.hour}${p.minute}`
}

/** The calendar date in Shanghai, "YYYY-MM-DD": the date a clerk means by "today". */
export function shanghaiDate(date: Date): string {
  const p = partsOf(date)
  return `${p.year}-${p.month}-${p.day}`
}
