import type { AppErrorShape } from '@core/errors'
import { DEFAULT_PRINTER_SETTINGS, type PrinterSettings, type PrinterView } from '@core/printing'
import { formatShanghaiDateTime } from '@core/time'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '../api/client'
import { appNow } from '../clock'
import { printReceipt, type ReceiptFormat } from '../components/sale/print'
import { i18n } from '../i18n'

/**
 * This terminal's printers (docs/printing.md): where receipts and A4 go, whether a finished sale's
 * receipt prints by itself, and the office's stub. Under Electron printing goes straight to the
 * chosen printer; in browser mode the browser's print dialog chooses, as it always did.
 */
export const usePrinterStore = defineStore('printer', () => {
  const settings = ref<PrinterSettings>(DEFAULT_PRINTER_SETTINGS)
  const loaded = ref(false)
  /** The shell can list printers and print without a dialog (Electron). */
  const direct = computed(() => typeof window.counter?.print === 'function')

  async function load(): Promise<void> {
    const result = await api.call('printer.getSettings', {})
    if (result.ok) settings.value = result.value
    loaded.value = true
  }

  async function save(next: PrinterSettings): Promise<AppErrorShape | null> {
    const result = await api.call('printer.saveSettings', next)
    if (!result.ok) return result.error
    settings.value = result.value
    return null
  }

  /** The system's printers (empty in browser mode). */
  async function list(): Promise<{ printers: readonly PrinterView[]; error: AppErrorShape | null }> {
    if (!window.counter?.printers) return { printers: [], error: null }
    const result = await window.counter.printers()
    return result.ok ? { printers: result.value, error: null } : { printers: [], error: result.error }
  }

  const deviceFor = (format: ReceiptFormat) =>
    format === '80mm' ? settings.value.receiptPrinter : settings.value.a4Printer

  /**
   * The receipt on screen, to its printer. A reprint carries no office stub (the office kept one
   * with the sale); `dialog`: the system's dialog instead of straight to the printer.
   */
  async function receipt(
    format: ReceiptFormat,
    options: { reprint?: boolean; dialog?: boolean } = {}
  ): Promise<AppErrorShape | null> {
    // Read again each time: a supervisor may have changed them since (one small call).
    await load()
    return printReceipt(format, {
      deviceName: deviceFor(format),
      dialog: options.dialog,
      stub: settings.value.officeStub && options.reprint !== true
    })
  }

  /** A test page to a printer as the form has it now (saved or not): what, where, when, and the roll's width. */
  async function testPage(format: ReceiptFormat, deviceName: string | null): Promise<AppErrorShape | null> {
    const { t } = i18n.global
    const sheet = document.createElement('article')
    sheet.className = 'receipt-sheet'
    const line = (tag: string, text: string) => {
      const element = document.createElement(tag)
      element.textContent = text
      sheet.append(element)
    }
    line('h2', t('printer.testTitle'))
    line('p', t('printer.testPrinter', { name: deviceName ?? t('printer.systemDefault') }))
    line('p', t('printer.testFormat', { format: format === '80mm' ? t('printer.roll') : 'A4' }))
    line('p', formatShanghaiDateTime(appNow().toISOString()))
    line('p', '────────────────────────')
    return printReceipt(format, { deviceName, source: sheet })
  }

  return { settings, loaded, direct, load, save, list, receipt, testPage }
})
