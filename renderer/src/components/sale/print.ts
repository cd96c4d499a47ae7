/**
 * Prints the receipt on screen on an 80 mm roll or on A4. A copy of the sheet goes into a print
 * root of its own at the top of <body>, and the print style lays out nothing else (styles.css,
 * `data-print-document`), so a long receipt flows onto the paper instead of being cut at the
 * first page. The page size goes in a <style> for this print only: @page cannot depend on a class.
 * On a roll the page is as long as the receipt (CSS has no "auto" page height): the copy is
 * measured at the roll's width first. In the print dialog the operator can also save a PDF.
 */
export type ReceiptFormat = '80mm' | 'a4'

/** The roll's printable width, and its margins (mm). */
const ROLL_WIDTH_MM = 80
const ROLL_MARGIN_MM = 3
const MM_PER_CSS_PX = 25.4 / 96

/** The page rule for the receipt: A4, or a roll page exactly as long as `heightMm` of content. */
export function pageRule(format: ReceiptFormat, heightMm = 0): string {
  if (format === 'a4') return '@page { size: A4; margin: 15mm; }'
  const length = Math.ceil(heightMm + 2 * ROLL_MARGIN_MM + 2)
  return `@page { size: ${ROLL_WIDTH_MM}mm ${length}mm; margin: ${ROLL_MARGIN_MM}mm; }`
}

/** Lays the copy out as it will print, off screen, and returns its height in mm. */
function measuredHeightMm(root: HTMLElement, format: ReceiptFormat): number {
  root.style.cssText = `display:block;position:absolute;left:-10000px;top:0;width:${ROLL_WIDTH_MM - 2 * ROLL_MARGIN_MM}mm`
  document.documentElement.dataset.printFormat = format
  const height = root.getBoundingClientRect().height
  root.style.cssText = ''
  return height * MM_PER_CSS_PX
}

/** Builds what prints (the copy, the page rule); returns how to take it down again. */
export function preparePrint(format: ReceiptFormat): (() => void) | null {
  const sheet = document.querySelector<HTMLElement>('[data-test="receipt"]')
  if (!sheet) return null
  const root = document.createElement('div')
  root.className = 'print-root receipt-print'
  root.setAttribute('aria-hidden', 'true')
  root.append(sheet.cloneNode(true))
  document.body.prepend(root)
  const style = document.createElement('style')
  style.textContent = pageRule(format, format === '80mm' ? measuredHeightMm(root, format) : 0)
  document.head.append(style)
  document.documentElement.dataset.printFormat = format
  document.documentElement.dataset.printDocument = 'receipt'
  return () => {
    style.remove()
    root.remove()
    delete document.documentElement.dataset.printFormat
    delete document.documentElement.dataset.printDocument
  }
}

export function printReceipt(format: ReceiptFormat): void {
  const cleanup = preparePrint(format)
  if (!cleanup) return
  window.addEventListener('afterprint', cleanup, { once: true })
  window.print()
}
