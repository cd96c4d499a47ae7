import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { PrintJob } from '../../core/printing'
import { api } from '../../renderer/src/api/client'
import PrinterSettingsCard from '../../renderer/src/components/settings/PrinterSettingsCard.vue'
import { i18n } from '../../renderer/src/i18n'
import { useAuthStore } from '../../renderer/src/stores/auth'
import { useCounterStore } from '../../renderer/src/stores/counter'
import { useSaleStore } from '../../renderer/src/stores/sale'
import SaleView from '../../renderer/src/views/SaleView.vue'
import { blankRouter, installRealBridge, type RealBridge } from './bridge'
import { until } from '../support/wait'

/**
 * Printers under Electron: the shell's two printer functions stand in for Electron's (the main
 * process side is tested in test/integration/main); everything else is the real app on real services.
 */
interface Printed {
  readonly job: PrintJob
  /** What the print root held when the shell printed it. */
  readonly text: string
  readonly stub: boolean
}

let pinia: Pinia
let printed: Printed[]

/** Adds the shell's printer functions to the bridge, as the preload exposes them. */
function withPrinters(bridge: RealBridge): void {
  Object.defineProperty(window, 'counter', {
    configurable: true,
    value: {
      ...bridge,
      printers: () =>
        Promise.resolve({
          ok: true,
          value: [
            { name: 'EPSON_TM_T82', displayName: 'EPSON TM-T82 收据', description: '80mm' },
            { name: 'HP_A4', displayName: 'HP LaserJet A4', description: 'A4' }
          ]
        }),
      print: (job: PrintJob) => {
        const root = document.querySelector<HTMLElement>('.print-root')
        // What prints: the copy in the print root, with the stub's own style switch as the CSS sees it.
        printed.push({
          job,
          text: root?.textContent ?? '',
          stub: document.documentElement.dataset.printStub === 'true'
        })
        return Promise.resolve({ ok: true, value: { printed: true } })
      }
    }
  })
}

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  printed = []
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('printer settings (Electron)', () => {
  it('a supervisor picks the receipt and A4 printers from the system’s, test-prints to each, and saves', async () => {
    const bridge = await installRealBridge({ role: 'supervisor' })
    withPrinters(bridge)
    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    const wrapper = mount(PrinterSettingsCard, {
      global: { plugins: [pinia, i18n] },
      attachTo: document.body
    })
    await until(async () => {
      await flushPromises()
      expect(bridge.calls).toContain('printer.getSettings')
    })
    await wrapper.get('[data-test="printer-80mm"]').trigger('click')
    await until(() => expect(document.body.textContent).toContain('EPSON TM-T82 收据'))
    const option = [...document.querySelectorAll('.el-select-dropdown__item')].find((item) =>
      item.textContent?.includes('EPSON TM-T82 收据')
    ) as HTMLElement
    option.click()
    await flushPromises()
    await wrapper.get('[data-test="printer-test-80mm"]').trigger('click')
    await until(() => expect(printed).toHaveLength(1))
    expect(printed[0].job).toMatchObject({
      deviceName: 'EPSON_TM_T82',
      silent: true,
      page: { widthMicrons: 80_000 }
    })
    expect(printed[0].text).toContain('打印测试')
    await wrapper.get('[data-test="printer-stub"]').trigger('click')
    await wrapper.get('[data-test="printer-auto"]').trigger('click')
    await wrapper.get('[data-test="printer-save"]').trigger('click')
    await until(async () => {
      await flushPromises()
      expect(await api.call('printer.getSettings', {})).toEqual({
        ok: true,
        value: { receiptPrinter: 'EPSON_TM_T82', a4Printer: null, autoPrintReceipt: true, officeStub: true }
      })
    })
    wrapper.unmount()
    await bridge.idle()
  })

  it('says when the printer it was set to is no longer on this computer', async () => {
    const bridge = await installRealBridge({ role: 'supervisor' })
    withPrinters(bridge)
    await api.call('printer.saveSettings', {
      receiptPrinter: 'OLD_PRINTER',
      a4Printer: 'HP_A4',
      autoPrintReceipt: false,
      officeStub: false
    })
    const wrapper = mount(PrinterSettingsCard, {
      global: { plugins: [pinia, i18n] },
      attachTo: document.body
    })
    await until(async () => {
      await flushPromises()
      expect(wrapper.find('[data-test="printer-missing-80mm"]').exists()).toBe(true)
    })
    expect(wrapper.find('[data-test="printer-missing-a4"]').exists()).toBe(false)
    wrapper.unmount()
    await bridge.idle()
  })

  it('a clerk cannot change them (the service refuses too)', async () => {
    await installRealBridge()
    expect(
      await api.call('printer.saveSettings', {
        receiptPrinter: null,
        a4Printer: null,
        autoPrintReceipt: true,
        officeStub: false
      })
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
  })
})

describe('a finished sale prints by itself where the terminal says so', () => {
  it('the customer’s copy and the office’s stub go straight to the receipt printer, once; F9 to the A4 printer without asking', async () => {
    const bridge = await installRealBridge({ role: 'supervisor' })
    withPrinters(bridge)
    await api.call('printer.saveSettings', {
      receiptPrinter: 'EPSON_TM_T82',
      a4Printer: 'HP_A4',
      autoPrintReceipt: true,
      officeStub: true
    })
    await api.call('auth.openShift', {})
    const counter = useCounterStore()
    await counter.lookup('C33080001')
    const sale = useSaleStore()
    if (!counter.cardholder) throw new Error('no cardholder')
    expect(await sale.start(counter.cardholder, 'QZ-HQB-2027')).toBe(true)
    await until(() => expect(sale.quote?.ok).toBe(true))
    sale.next()
    sale.termsAcknowledged = true
    sale.signature = { width: 400, height: 150, strokes: ['M10 100 L60 40 L110 120'] }
    sale.next()
    const router = blankRouter(['/counter', '/sale'])
    await router.push('/sale')
    const wrapper = mount(SaleView, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    sale.present({ kind: 'swiped', card: 'C33080001' })
    expect(await sale.pay('123456')).toBe('paid')
    await until(() => expect(printed).toHaveLength(1))
    expect(printed[0].job).toMatchObject({ deviceName: 'EPSON_TM_T82', silent: true })
    expect(printed[0].stub).toBe(true)
    expect(printed[0].text).toContain('网点存根联')
    expect(printed[0].text).toContain(sale.receipt?.saleId ?? 'no receipt')
    // A roll page (its length is measured in Chromium: test/e2e/sale.e2e.test.ts reads the PDF back).
    expect(printed[0].job.page).toMatchObject({ widthMicrons: 80_000 })
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F9', bubbles: true }))
    await until(() => expect(printed).toHaveLength(2))
    expect(printed[1].job).toEqual({ deviceName: 'HP_A4', silent: true, page: 'A4' })
    // Nothing of the print copy stays in the page.
    expect(document.querySelector('.print-root')).toBeNull()
    expect(document.documentElement.dataset.printStub).toBeUndefined()
    wrapper.unmount()
    await bridge.idle()
  })
})
