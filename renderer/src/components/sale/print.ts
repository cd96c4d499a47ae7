import type { AppErrorShape } from '@core/errors'
import type { PrintJob } from '@core/printing'

/**
 * Prints the receipt on screen on an 80 mm roll or on A4. A copy of the sheet goes into a print
 * root of its own at the top of <body>, and the print style lays out nothing else (styles.css,
 * `data-print-document`), so a long receipt flows onto the paper instead of being cut at the
 * first page. The page size goes in a <style> for this print only: @page cannot depend on a class.
 * On a roll the page is as long as the receipt (CSS has no "auto" page height): the copy is
 * measured at the roll's width first.
 *
 * Under Electron the shell prints it to the terminal's chosen printer, silently unless the dialog
 * is asked for (docs/printing.md); in browser mode the browser's print dialog does, where the
 * operator can also save a PDF.
 */
export type ReceiptFormat = '80mm' | 'a4'

/** The roll's printable width, and its margins (mm). */
const ROLL_WIDTH_MM = 80
const ROLL_MARGIN_MM = 3
const MM_PER_CSS_PX = 25.4 / 96

/** The roll page's length for `heightMm` of content: the receipt and its margins, and a little to tear. */
function rollLengthMm(heightMm: number): number {
  return Math.ceil(heightMm + 2 * ROLL_MARGIN_MM + 2)
}

/** The page rule for the receipt: A4, or a roll page exactly as long as `heightMm` of content. */
export function pageRule(format: ReceiptFormat, heightMm = 0): string {
  if (format === 'a4') return '@page { size: A4; margin: 15mm; }'
  return `@page { size: ${ROLL_WIDTH_MM}mm ${rollLengthMm(heightMm)}mm; margin: ${ROLL_MARGIN_MM}mm; }`
}

/** Lays the copy out as it will print, off screen, and returns its height in mm. */
function measuredHeightMm(root: HTMLElement, format: ReceiptFormat): number {
  root.style.cssText = `display:block;position:absolute;left:-10000px;top:0;width:${ROLL_WIDTH_MM - 2 * ROLL_MARGIN_MM}mm`
  document.documentElement.dataset.printFormat = format
  const height = root.getBoundingClientRect().height
  root.style.cssText = ''
  return height * MM_PER_CSS_PX
}

export interface PreparedPrint {
  /** The paper, as the shell's print job names it. */
  readonly page: PrintJob['page']
  /** Takes the print copy and its page rule down again. */
  cleanup(): void
}

/**
 * Builds what prints (the copy of the element marked `data-test="receipt"`, or `source`; the page
 * rule); `stub`: the office's stub follows the customer's copy.
 */
export function preparePrint(
  format: ReceiptFormat,
  options: { stub?: boolean; source?: HTMLElement } = {}
): PreparedPrint | null {
  const sheet = options.source ?? document.querySelector<HTMLElement>('[data-test="receipt"]')
  if (!sheet) return null
  const root = document.createElement('div')
  root.className = 'print-root receipt-print'
  root.setAttribute('aria-hidden', 'true')
  root.append(sheet.cloneNode(true))
  document.body.prepend(root)
  if (options.stub) document.documentElement.dataset.printStub = 'true'
  const heightMm = format === '80mm' ? measuredHeightMm(root, format) : 0
  const style = document.createElement('style')
  style.textContent = pageRule(format, heightMm)
  document.head.append(style)
  document.documentElement.dataset.printFormat = format
  document.documentElement.dataset.printDocument = 'receipt'
  return {
    page:
      format === 'a4'
        ? 'A4'
        : { widthMicrons: ROLL_WIDTH_MM * 1000, heightMicrons: rollLengthMm(heightMm) * 1000 },
    cleanup() {
      style.remove()
      root.remove()
      delete document.documentElement.dataset.printFormat
      delete document.documentElement.dataset.printDocument
      delete document.documentElement.dataset.printStub
    }
  }
}

export interface PrintOptions {
  /** The system printer (null: its default); only under Electron. */
  readonly deviceName?: string | null
  /** The system's print dialog instead of printing straight to `deviceName`. */
  readonly dialog?: boolean
  readonly stub?: boolean
  readonly source?: HTMLElement
}

/** Prints; null when done (or handed to the browser's dialog), else why not, in Chinese. */
export async function printReceipt(
  format: ReceiptFormat,
  options: PrintOptions = {}
): Promise<AppErrorShape | null> {
  const prepared = preparePrint(format, options)
  if (!prepared) return null
  const shell = window.counter
  if (!shell?.print) {
    window.addEventListener('afterprint', prepared.cleanup, { once: true })
    window.print()
    return null
  }
  try {
    const result = await shell.print({
      deviceName: options.deviceName ?? null,
      silent: options.dialog !== true,
      page: prepared.page
    })
    return result.ok ? null : result.error
  } finally {
    prepared.cleanup()
  }
}
