/**
 * Money is an integer number of fen (分). A float never holds an amount: 0.1 + 0.2 is not 0.3,
 * and the centre settles to the fen.
 */
export type Fen = number

export function assertFen(value: number, what = '金额'): Fen {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what}必须是以分为单位的整数：${value}`)
  return value
}

const yuanFormatter = new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

/** 320000 -> "3,200.00". Formats from integers only, so the output is exact. */
export function formatYuan(fen: Fen): string {
  assertFen(fen)
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  const yuan = Math.trunc(abs / 100)
  const cents = abs % 100
  return `${sign}${yuanFormatter.format(yuan).replace(/\.00$/, '')}.${String(cents).padStart(2, '0')}`
}

/** "3200", "3,200.5", "3200.05" -> fen; null when the text is not an amount with at most two decimals. */
export function parseYuan(text: string): Fen | null {
  const match = /^\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*$/.exec(text)
  if (!match) return null
  const yuan = Number(match[1].replaceAll(',', ''))
  const cents = Number((match[2] ?? '').padEnd(2, '0'))
  const fen = yuan * 100 + cents
  return Number.isSafeInteger(fen) ? fen : null
}
