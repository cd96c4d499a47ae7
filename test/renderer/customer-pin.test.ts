import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { flushPromises, mount } from '@vue/test-utils'
import { onTestFinished, describe, expect, it } from 'vitest'
import type { CounterBridge, CustomerPinRequest } from '../../core/api/contract'
import type { PinBlock } from '../../core/sync/protocol'
import { openPinBlock, rawKeyOfPem } from '../../backend/services/payment/pin-block'
import { DEMO_CENTRE_FILE_KEY } from '../../db/seeds/demo-centre-file-key'
import { i18n } from '../../renderer/src/i18n'
import CustomerPinView from '../../renderer/src/views/CustomerPinView.vue'
import { until } from '../support/wait'

const SALE_ID = '01a20116-c840-7000-8000-000000000001'

/** The customer's window over a bridge like the preload's: what it was asked, what it handed back. */
function customerBridge(request: CustomerPinRequest | null) {
  const submitted: Array<PinBlock | null> = []
  const bridge: CounterBridge = {
    invoke: () => Promise.reject(new Error('the customer screen makes no calls')),
    customerPinRequest: () => Promise.resolve(request),
    customerPinSubmit: async (block) => {
      submitted.push(block)
    }
  }
  Object.defineProperty(window, 'counter', { value: bridge, configurable: true })
  onTestFinished(() => {
    Reflect.deleteProperty(window, 'counter')
  })
  return submitted
}

describe('the customer-facing screen', () => {
  it('shows the amount, takes six digits on its keypad, and hands back only the block it sealed', async () => {
    const submitted = customerBridge({
      saleId: SALE_ID,
      amountFen: 20_000,
      pinKey: { keyId: DEMO_CENTRE_FILE_KEY.keyId, publicKey: rawKeyOfPem(DEMO_CENTRE_FILE_KEY.publicKeyPem) }
    })
    const wrapper = mount(CustomerPinView, { global: { plugins: [i18n] } })
    await flushPromises()
    expect(wrapper.text()).toContain('¥200.00')
    for (const key of ['8', '0', '2', '4', '1', '9', 'back', '7'])
      await wrapper.get(`[data-test="customer-key-${key}"]`).trigger('click')
    expect(wrapper.get('[data-test="customer-pin-dots"]').text()).toBe('●●●●●●')
    expect(wrapper.html()).not.toContain('802417')
    await wrapper.get('[data-test="customer-confirm"]').trigger('click')
    await until(() => expect(submitted).toHaveLength(1))
    const block = submitted[0]
    if (!block) throw new Error('nothing sealed')
    expect(JSON.stringify(block)).not.toContain('802417')
    const privateKey = await readFile(
      join(process.cwd(), 'bundles/keys/DEMO-file-key-NOT-FOR-PRODUCTION.private.pem'),
      'utf8'
    )
    expect(openPinBlock(block, SALE_ID, privateKey)).toBe('802417')
    wrapper.unmount()
  })

  it('the customer’s cancel hands back no block; with nothing asked it only greets', async () => {
    const none = customerBridge(null)
    const idle = mount(CustomerPinView, { global: { plugins: [i18n] } })
    await flushPromises()
    expect(idle.text()).toContain('欢迎办理')
    idle.unmount()
    expect(none).toEqual([])
    const submitted = customerBridge({
      saleId: SALE_ID,
      amountFen: 100,
      pinKey: { keyId: 'k', publicKey: rawKeyOfPem(DEMO_CENTRE_FILE_KEY.publicKeyPem) }
    })
    const wrapper = mount(CustomerPinView, { global: { plugins: [i18n] } })
    await flushPromises()
    await wrapper.get('[data-test="customer-cancel"]').trigger('click')
    await flushPromises()
    expect(submitted).toEqual([null])
    wrapper.unmount()
  })
})
