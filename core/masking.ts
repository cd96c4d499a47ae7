/**
 * Identity is masked wherever it is shown: enough for the clerk to confirm with the customer,
 * not enough to be copied off the screen.
 */
function maskMiddle(value: string, keepStart: number, keepEnd: number): string {
  if (value.length <= keepStart + keepEnd) return '*'.repeat(value.length)
  return (
    value.slice(0, keepStart) +
    '*'.repeat(value.length - keepStart - keepEnd) +
    value.slice(value.length - keepEnd)
  )
}

/** 张伟 -> 张*, 欧阳娜娜 -> 欧***: the surname's first character stays. */
export function maskName(name: string): string {
  const chars = Array.from(name.trim())
  if (chars.length === 0) return ''
  return chars[0] + '*'.repeat(Math.max(chars.length - 1, 1))
}

/** 53010219850312001X -> 5301**********001X */
export function maskIdNumber(idNumber: string): string {
  return maskMiddle(idNumber, 4, 4)
}

/** E53000012 -> E****0012 */
export function maskCardNumber(cardNumber: string): string {
  return maskMiddle(cardNumber, 1, 4)
}

/** Whatever a reader sent, for the reader test panel: its length and shape show, its content does not. */
export function maskReadText(text: string): string {
  return maskMiddle(text, 2, 2)
}

/** 13812345678 -> 138****5678 */
export function maskMobile(mobile: string): string {
  return maskMiddle(mobile, 3, 4)
}
