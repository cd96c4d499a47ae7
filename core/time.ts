/** Times are stored as UTC ISO-8601 strings and shown in the counter's time zone. */
export const DISPLAY_TIME_ZONE = 'Asia/Shanghai'

/** The clock is passed in, so tests and the rule engine are deterministic. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

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

function partsOf(date: Date): Record<string, string> {
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

/** The calendar date in Shanghai, "YYYY-MM-DD": the date a clerk means by "today". */
export function shanghaiDate(date: Date): string {
  const p = partsOf(date)
  return `${p.year}-${p.month}-${p.day}`
}
