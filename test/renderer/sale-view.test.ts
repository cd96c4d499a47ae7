import { flushPromises, mount } from '@vue/test-utils'
import { ElMessage } from 'element-plus'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { api } from '../../renderer/src/api/client'
import { i18n } from '../../renderer/src/i18n'
import { startCardReader, stopCardReader } from '../../renderer/src/reader/card-reader'
import { useCounterStore } from '../../renderer/src/stores/counter'
import { useSaleStore } from '../../renderer/src/stores/sale'
import SaleView from '../../renderer/src/views/SaleView.vue'
import { blankRouter, installRealBridge } from './bridge'
import { RouterView } from 'vue-router'
import type { CustomerPinAnswer, CustomerPinRequest } from '../../core/api/contract'
import { pemOfRawKey, sealPinBlock } from '../../backend/services/payment/pin-block'
import { until } from '../support/wait'

const SIGNATURE = { width: 400, height: 150, strokes: ['M10 100 L60 40 L110 120'] }

/** The keydown events a keyboard-wedge reader sends: 5 ms apart, each key's own time stamp, Enter last. */
function swipeCard(text: string): void {
  let at = performance.now()
  const send = (key: string, code: string, shiftKey = false) => {
    const event = new KeyboardEvent('keydown', { key, code, shiftKey, bubbles: true, cancelable: true })
    Object.defineProperty(event, 'timeStamp', { value: (at += 5) })
    window.dispatchEvent(event)
  }
  for (const char of text) {
    if (/\d/.test(char)) send(char, `Digit${char}`)
    else send(char, `Key${char.toUpperCase()}`, char !== char.toLowerCase())
  }
  send('Enter', 'Enter')
}

const lastCue = () => document.documentElement.dataset.lastCue

let pinia: Pinia

/** The sale screen at its pay step for the Quzhou demo cardholder, on real services, with the app's card reader listening. */
async function atPayStep() {
  pinia = createPinia()
  setActivePinia(pinia)
  await api.call('auth.openShift', {})
  const counter = useCounterStore()
  await counter.lookup('C33080001')
  const sale = useSaleStore()
  expect(await sale.start(counter.cardholder ?? never(), 'QZ-HQB-2027')).toBe(true)
  await until(() => expect(sale.quote?.ok).toBe(true))
  sale.next()
  sale.termsAcknowledged = true
  // As the signature pad leaves it: the store's reactive state, which IPC cannot clone as it is.
  sale.signature = SIGNATURE
  sale.next()
  expect(sale.step).toBe('pay')
  startCardReader(window, { unwanted: () => undefined, badRead: () => undefined, trace: () => undefined })
  const router = blankRouter(['/counter', '/sale'])
  await router.push('/sale')
  const wrapper = mount(SaleView, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
  await flushPromises()
  expect(wrapper.find('[data-test="pay-step"]').exists()).toBe(true)
  delete document.documentElement.dataset.lastCue
  return { sale, wrapper }
}

function never(): never {
  throw new Error('the Quzhou demo card was not found')
}

afterEach(() => {
  stopCardReader()
  document.body.innerHTML = ''
})

/** The customer types the password into the pay step's field and presses Enter. */
async function typePin(wrapper: ReturnType<typeof mount>, pin: string): Promise<void> {
  await until(() => expect(wrapper.find('input[data-test="pay-pin"]').exists()).toBe(true))
  const field = wrapper.get('input[data-test="pay-pin"]')
  await field.setValue(pin)
  await wrapper.get('form.pay__pin').trigger('submit')
}

describe('sale screen, pay step', () => {
  it('takes the card again and its password, sealed, over a bridge that copies like IPC, and shows the receipt', async () => {
    const bridge = await installRealBridge()
    const { sale, wrapper } = await atPayStep()
    swipeCard('C33080001')
    await until(() => expect(sale.presented).toEqual({ kind: 'swiped', card: 'C33080001' }))
    // A PIN pad types as fast as a reader: in the password field its keys are the customer's, not a swipe.
    await until(() => expect(wrapper.find('input[data-test="pay-pin"]').exists()).toBe(true))
    ;(wrapper.get('input[data-test="pay-pin"]').element as HTMLInputElement).focus()
    delete document.documentElement.dataset.lastCue
    swipeCard('802417')
    await flushPromises()
    expect(lastCue()).toBeUndefined()
    expect(sale.presented).toEqual({ kind: 'swiped', card: 'C33080001' })
    await typePin(wrapper, '123456')
    await until(() => expect(sale.step).toBe('done'))
    await flushPromises()
    expect(lastCue()).toBe('ok')
    expect(wrapper.find('[data-test="sale-error"]').exists()).toBe(false)
    expect(sale.receipt).toMatchObject({ status: 'queued', totalFen: 10_000, payerProof: 'swiped' })
    expect(wrapper.get('[data-test="receipt-status"]').text()).toContain('待上传')
    // The digits never crossed the bridge: only the sealed block did.
    const outbox = await bridge.runtime.db('outbox').select('payload_sealed')
    const item = JSON.parse(bridge.runtime.personalData.open(outbox[0].payload_sealed as Buffer)) as object
    expect(JSON.stringify(item)).not.toContain('123456')
    wrapper.unmount()
  })

  it('where there is a customer screen, the password is typed there: only the sealed block comes back', async () => {
    const bridge = await installRealBridge()
    const asked: CustomerPinRequest[] = []
    let answer: (value: CustomerPinAnswer) => void = () => undefined
    bridge.askCustomerPin = (request) => {
      asked.push(request)
      return new Promise((resolve) => (answer = resolve))
    }
    const { sale, wrapper } = await atPayStep()
    swipeCard('C33080001')
    await until(() => expect(asked).toHaveLength(1))
    await flushPromises()
    expect(wrapper.get('[data-test="pay-customer-screen"]').text()).toContain('客户屏')
    expect(wrapper.find('input[data-test="pay-pin"]').exists()).toBe(false)
    expect(asked[0]).toMatchObject({ saleId: sale.payment?.saleId, amountFen: 10_000 })
    const { pinKey, saleId } = asked[0]
    answer({
      outcome: 'sealed',
      pinBlock: sealPinBlock('123456', saleId, {
        keyId: pinKey.keyId,
        publicKeyPem: pemOfRawKey(pinKey.publicKey)
      })
    })
    await until(() => expect(sale.step).toBe('done'))
    expect(sale.receipt).toMatchObject({ saleId, payerProof: 'swiped' })
    wrapper.unmount()
  })

  it('says in Chinese that the outcome is unknown when the answer is lost, and paying again sells once', async () => {
    const bridge = await installRealBridge()
    const { sale, wrapper } = await atPayStep()
    const invoke = bridge.invoke
    // The main process took the call and wrote the sale; its answer never came back.
    bridge.invoke = (call, args, token) =>
      call === 'sale.commit'
        ? invoke(call, args, token).then(() => Promise.reject(new Error('An object could not be cloned.')))
        : invoke(call, args, token)
    swipeCard('C33080001')
    await typePin(wrapper, '123456')
    await until(() => expect(lastCue()).toBe('error'))
    await flushPromises()
    expect(wrapper.get('[data-test="sale-error"]').text()).toContain('收款结果未知')
    expect(wrapper.get('[data-test="sale-error"]').text()).toContain('不会重复扣款')
    expect(sale.step).toBe('pay')
    expect(sale.busy).toBe(false)
    bridge.invoke = invoke
    await typePin(wrapper, '123456')
    await until(() => expect(sale.step).toBe('done'))
    const sold = await api.call('sale.search', { scope: 'all' })
    expect(sold.ok && sold.value.length).toBe(1)
    wrapper.unmount()
  })

  it('shows a message and sounds the error cue when work started by a swipe or a key fails unexpectedly', async () => {
    await installRealBridge()
    const { sale, wrapper } = await atPayStep()
    vi.spyOn(sale, 'present').mockImplementation(() => {
      throw new Error('unexpected')
    })
    swipeCard('C33080001')
    await until(() => expect(lastCue()).toBe('error'))
    await until(() =>
      expect(document.body.querySelector('.el-message--error')?.textContent).toContain(
        '操作没有完成：程序出现意外错误'
      )
    )
    expect(sale.step).toBe('pay')

    // A function key's work, the same: Esc goes back, F2 forward, here failing underneath.
    ElMessage.closeAll()
    await until(() => expect(document.body.querySelector('.el-message')).toBeNull())
    delete document.documentElement.dataset.lastCue
    vi.spyOn(sale, 'back').mockImplementation(() => {
      throw new Error('unexpected')
    })
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }))
    await until(() => expect(lastCue()).toBe('error'))
    await until(() =>
      expect(document.body.querySelector('.el-message--error')?.textContent).toContain('操作没有完成')
    )
    wrapper.unmount()
  })
})

describe('leaving an unfinished sale', () => {
  it('asks before the order is dropped: 继续办理 stays, 放弃本单 goes and forgets it', async () => {
    await installRealBridge()
    pinia = createPinia()
    setActivePinia(pinia)
    await api.call('auth.openShift', {})
    const counter = useCounterStore()
    await counter.lookup('C33080001')
    const sale = useSaleStore()
    expect(await sale.start(counter.cardholder ?? never(), 'QZ-HQB-2027')).toBe(true)
    // The sale screen as a route of its own: a leave guard only works there.
    const router = blankRouter(['/counter', '/history'])
    router.addRoute({ path: '/sale', component: SaleView })
    await router.push('/sale')
    const wrapper = mount(RouterView, {
      global: { plugins: [pinia, i18n, router] },
      attachTo: document.body
    })
    await flushPromises()

    const away = router.push('/history')
    await until(() => expect(document.querySelector('.el-message-box')).not.toBeNull())
    expect(document.querySelector('.el-message-box')?.textContent).toContain('放弃本单？')
    document.querySelector<HTMLElement>('.el-message-box__btns .el-button:not(.el-button--primary)')?.click()
    await away
    expect(router.currentRoute.value.path).toBe('/sale')
    expect(sale.people).toHaveLength(1)

    const again = router.push('/history')
    await until(() => expect(document.querySelectorAll('.el-message-box').length).toBeGreaterThan(0))
    const boxes = document.querySelectorAll<HTMLElement>('.el-message-box')
    boxes[boxes.length - 1].querySelector<HTMLElement>('.el-message-box__btns .el-button--primary')?.click()
    await again
    expect(router.currentRoute.value.path).toBe('/history')
    expect(sale.people).toEqual([])
    wrapper.unmount()
  })
})
