/**
 * Prints the receipt on the page (everything else is hidden by the print style) on an 80 mm roll
 * or on A4. The page size goes in a <style> for this print only: @page cannot depend on a class.
 * In the print dialog the operator can also choose "Save as PDF".
 */
export type ReceiptFormat = '80mm' | 'a4'

const PAGE: Record<ReceiptFormat, string> = {
  '80mm': '@page { size: 80mm auto; margin: 3mm; }',
  a4: '@page { size: A4; margin: 15mm; }'
}

export function printReceipt(format: ReceiptFormat): void {
  const style = document.createElement('style')
  style.textContent = PAGE[format]
  document.head.append(style)
  document.documentElement.dataset.printFormat = format
  const cleanup = () => {
    style.remove()
    delete document.documentElement.dataset.printFormat
  }
  window.addEventListener('afterprint', cleanup, { once: true })
  window.print()
}
