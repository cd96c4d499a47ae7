import { formatYuan, type Fen } from '@core/money'
import { formatShanghaiDateTime, shanghaiDate } from '@core/time'

export const yuan = (fen: Fen): string => `¥${formatYuan(fen)}`

export const shanghaiTime = (isoUtc: string): string => formatShanghaiDateTime(isoUtc)

/** "10:30" today, "2026-11-20 10:30" another day: Shanghai dates, whatever zone the browser is in. */
export function shanghaiTimeShort(isoUtc: string, nowMs: number): string {
  const full = formatShanghaiDateTime(isoUtc)
  return shanghaiDate(new Date(isoUtc)) === shanghaiDate(new Date(nowMs)) ? full.slice(11) : full
}

/** How long ago, in the largest whole unit: the message key under `sync.age` and its number. */
export function ageOf(
  isoUtc: string,
  nowMs: number
): { unit: 'now' | 'minutes' | 'hours' | 'days'; n: number } {
  const minutes = Math.floor(Math.max(0, nowMs - Date.parse(isoUtc)) / 60_000)
  if (minutes < 1) return { unit: 'now', n: 0 }
  if (minutes < 60) return { unit: 'minutes', n: minutes }
  if (minutes < 24 * 60) return { unit: 'hours', n: Math.floor(minutes / 60) }
  return { unit: 'days', n: Math.floor(minutes / (24 * 60)) }
}

/** A countdown: whole days, and "05:12:09" for the rest; a started second counts, zero only once past. */
export function countdownOf(ms: number): { days: number; hms: string } {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const days = Math.floor(total / 86_400)
  const pad = (n: number) => String(n).padStart(2, '0')
  const rest = total % 86_400
  return {
    days,
    hms: `${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`
  }
}
