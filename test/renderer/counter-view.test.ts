import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, type Pinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import CounterView from '../../renderer/src/views/CounterView.vue'
import { i18n, setLocale } from '../../renderer/src/i18n'
import { useCounterStore } from '../../renderer/src/stores/counter'
import { installRealBridge } from './bridge'
import { until } from '../support/wait'

let pinia: Pinia

function mountCounter() {
  pinia = createPinia()
  return mount(CounterView, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
}

/** Types into the field and presses Enter, then waits for the real lookup (SQLite I/O) to finish. */
async function swipe(wrapper: ReturnType<typeof mountCounter>, text: string): Promise<void> {
  const input = wrapper.get('input[data-test="card-input"]')
  await input.setValue(text)
  await input.trigger('keydown', { key: 'Enter' })
  const counter = useCounterStore(pinia)
  await until(() => expect(counter.busy).toBe(false))
  await flushPromises()
}

afterEach(() => {
  setLocale('zh-CN')
  document.body.innerHTML = ''
})

describe('counter screen', () => {
  it('shows the cardholder after a card number and Enter, and empties the field for the next one', async () => {
    await installRealBridge()
    const wrapper = mountCounter()
    await swipe(wrapper, 'C33080001')
    expect(wrapper.get('[data-test="cardholder-name"]').text()).toBe('徐**')
    expect(wrapper.get('[data-test="cardholder-region"]').text()).toBe('衢州市')
    expect(wrapper.get('[data-test="cardholder-balance"]').text()).toBe('¥980.00')
    expect(wrapper.get('[data-test="cardholder-historical"]').text()).toBe('¥350.00')
    expect((wrapper.get('input[data-test="card-input"]').element as HTMLInputElement).value).toBe('')
    wrapper.unmount()
  })

  it('lists the products the cardholder may buy for themselves, with the allowed maximum and why not', async () => {
    await installRealBridge()
    const wrapper = mountCounter()
    await swipe(wrapper, 'E21010001')
    await until(() => expect(wrapper.find('[data-test="max-spend"]').exists()).toBe(true))
    // Shenyang, exactly 2,000.00: nothing above the threshold to spend.
    expect(wrapper.get('[data-test="max-spend"]').text()).toBe('¥0.00')
    expect(wrapper.find('[data-test="offer-available"]').exists()).toBe(false)
    expect(wrapper.get('[data-test="offers-panel"]').text()).toContain('2,000.00')
    wrapper.unmount()
  })

  it('explains a refusal and keeps the typed text; the customer before is gone, not sellable', async () => {
    await installRealBridge()
    const wrapper = mountCounter()
    await swipe(wrapper, 'C33080001')
    await swipe(wrapper, 'C3308000')
    expect(wrapper.get('[data-test="lookup-error"]').text()).toContain('社会保障卡号应为 9 位，读到 8 位')
    expect((wrapper.get('input[data-test="card-input"]').element as HTMLInputElement).value).toBe('C3308000')
    expect(wrapper.find('[data-test="cardholder-name"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="sell"]').exists()).toBe(false)
    // Esc after the refusal does not bring the earlier customer back.
    await wrapper.get('input[data-test="card-input"]').trigger('keydown', { key: 'Escape' })
    await flushPromises()
    expect(useCounterStore(pinia).cardholder).toBeNull()
    wrapper.unmount()
  })

  it('清空 (Esc) clears the field, the refusal and the customer on screen', async () => {
    await installRealBridge()
    const wrapper = mountCounter()
    await swipe(wrapper, 'C33080001')
    expect(wrapper.find('[data-test="cardholder-name"]').exists()).toBe(true)
    await swipe(wrapper, 'nonsense!')
    expect(wrapper.find('[data-test="lookup-error"]').exists()).toBe(true)
    await wrapper.get('input[data-test="card-input"]').trigger('keydown', { key: 'Escape' })
    await flushPromises()
    expect(wrapper.find('[data-test="lookup-error"]').exists()).toBe(false)
    expect((wrapper.get('input[data-test="card-input"]').element as HTMLInputElement).value).toBe('')
    await swipe(wrapper, 'C33080001')
    await wrapper.get('input[data-test="card-input"]').trigger('keydown', { key: 'Escape' })
    await flushPromises()
    expect(wrapper.find('[data-test="cardholder-name"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('a customer left on an untouched screen is cleared after two minutes', async () => {
    await installRealBridge()
    const wrapper = mountCounter()
    await swipe(wrapper, 'C33080001')
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      // Someone at the keys keeps it there.
      vi.advanceTimersByTime(100_000)
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Shift' }))
      vi.advanceTimersByTime(100_000)
      expect(useCounterStore(pinia).cardholder).not.toBeNull()
      vi.advanceTimersByTime(21_000)
      expect(useCounterStore(pinia).cardholder).toBeNull()
    } finally {
      vi.useRealTimers()
    }
    wrapper.unmount()
  })

  it('a suspended cardholder: no 可离线办理, 办理 disabled, and why', async () => {
    await installRealBridge()
    const wrapper = mountCounter()
    await swipe(wrapper, 'B54000003')
    await until(() => expect(wrapper.find('[data-test="account-refused"]').exists()).toBe(true))
    expect(wrapper.get('[data-test="account-refused"]').text()).toContain('该账户现在不能办理')
    expect(wrapper.find('[data-test="freshness-ok"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="authorization-mode"]').exists()).toBe(false)
    expect(wrapper.get('[data-test="sell"]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-test="sell"]').text()).toBe('不可办理')
    wrapper.unmount()
  })

  it('speaks English when switched, keeping the Chinese detail of a refusal', async () => {
    await installRealBridge()
    setLocale('en')
    const wrapper = mountCounter()
    await swipe(wrapper, 'Z99999999')
    const text = wrapper.get('[data-test="lookup-error"]').text()
    expect(text).toContain('No cardholder with this number in the local data')
    expect(text).toContain('本机账户数据中没有这张社会保障卡')
    expect(wrapper.text()).toContain('Look up (Enter)')
    wrapper.unmount()
  })
})
