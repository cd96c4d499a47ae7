import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it } from 'vitest'
import { api } from '../../renderer/src/api/client'
import OrderStep from '../../renderer/src/components/sale/OrderStep.vue'
import SignaturePad from '../../renderer/src/components/sale/SignaturePad.vue'
import { i18n } from '../../renderer/src/i18n'
import { useCounterStore } from '../../renderer/src/stores/counter'
import { useSaleStore } from '../../renderer/src/stores/sale'
import { installRealBridge } from './bridge'
import { until } from '../support/wait'

/** The order step for a demo cardholder on real services, the sale started on `selfProduct` (see sale.start). */
async function orderStepFor(card: string, selfProduct?: string | null) {
  const pinia = createPinia()
  setActivePinia(pinia)
  await installRealBridge()
  await api.call('auth.openShift', {})
  const counter = useCounterStore()
  await counter.lookup(card)
  const sale = useSaleStore()
  const holder = counter.cardholder
  if (!holder) throw new Error('no cardholder')
  await sale.start(holder, selfProduct)
  const wrapper = mount(OrderStep, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
  return { sale, wrapper }
}

describe('order step', () => {
  it('lists the insured with their premium and explains the selected line’s rules', async () => {
    const { wrapper } = await orderStepFor('B54000002')
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="decision-panel"]').text()).toContain('2,999.99')
    })
    expect(wrapper.get('[data-test="line-1"]').classes()).toContain('is-refused')
    expect(wrapper.get('[data-test="order-total"]').text()).toBe('¥0.00')
    wrapper.unmount()
  })
})

describe('order step: every product can be read, none is sold by mistake (#16)', () => {
  it('a product refused to this person is marked, and choosing it shows why', async () => {
    const { sale, wrapper } = await orderStepFor('C33080001', 'QZ-HQB-2027')
    await until(async () => {
      await flushPromises()
      expect(sale.quote?.lines[0]?.eligible).toBe(true)
    })
    // The closed 2021 product is in the list, marked, and can be chosen.
    await wrapper.get('[data-test="product-1"]').trigger('click')
    await until(() => expect(document.querySelector('[data-test="refused-1-QZ-HQB-2021"]')).not.toBeNull())
    const option = document.querySelector('[data-test="refused-1-QZ-HQB-2021"]')?.closest('li')
    expect(option?.classList.contains('is-disabled')).toBe(false)
    sale.change(sale.people[0].key, { productCode: 'QZ-HQB-2021' })
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="decision-panel"]').text()).toContain('2021年1月31日')
    })
    expect(wrapper.get('[data-test="line-1"]').classes()).toContain('is-refused')
    wrapper.unmount()
  })

  it('too many units are kept and explained, never silently cut to the most', async () => {
    const { sale, wrapper } = await orderStepFor('C33080001', 'QZ-HQB-2027')
    await until(async () => {
      await flushPromises()
      expect(sale.quote?.lines[0]?.eligible).toBe(true)
    })
    const units = wrapper.get('[data-test="units-1"] input')
    await units.setValue('3')
    await units.trigger('change')
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="decision-panel"]').text()).toContain('投保 3 份；本产品 1 份')
    })
    expect(sale.people[0].units).toBe(3)
    expect(wrapper.get('[data-test="units-over-1"]').text()).toContain('最多 1 份')
    wrapper.unmount()
  })

  it('an amount greyed out says why: more than may be paid now, with the rule that sets the most', async () => {
    // 苏州: fixed amounts; this cardholder may pay ¥500.00 at most.
    const { sale, wrapper } = await orderStepFor('D32050002', 'SZ-HEALTH-DEMO')
    await until(async () => {
      await flushPromises()
      expect(sale.quote?.lines[0]?.eligible).toBe(true)
    })
    const max = sale.quote?.lines[0]?.allowed.maxSpendFen ?? 0
    expect(max).toBe(50_000)
    await wrapper.get('[data-test="amount-1"]').trigger('click')
    // 1,000.00 is in this balance band but more than may be paid now; 1,500 and 2,000 are not in the band.
    const offered = sale.quote?.lines[0]?.allowed.offeredAmountsFen ?? []
    expect(offered).toEqual([50_000, 100_000])
    await until(() => expect(document.querySelector('[data-test="amount-refused-1-100000"]')).not.toBeNull())
    const marker = (fen: number) => document.querySelector(`[data-test="amount-refused-1-${fen}"]`)
    expect(marker(100_000)?.textContent).toContain('超出最多可付 ¥500.00')
    for (const fen of [150_000, 200_000]) expect(marker(fen)?.textContent).toContain('不在本档位可选金额内')
    for (const fen of [100_000, 150_000, 200_000])
      expect(marker(fen)?.closest('li')?.classList.contains('is-disabled')).toBe(true)
    expect(document.querySelector(`[data-test="amount-refused-1-${max}"]`)).toBeNull()
    // The yearly cap left (1,000.00 less 500.00 already used) sets the most, not the 4,500.00 balance.
    expect(wrapper.get('[data-test="amount-cap-1"]').text()).toBe('最多可付 ¥500.00（本结算年度限额剩余）')
    wrapper.unmount()
  })

  it('a region that sells to the cardholder only says 仅限本人 up front, and offers no relatives', async () => {
    const { wrapper } = await orderStepFor('F31000001')
    await until(async () => {
      await flushPromises()
      expect(wrapper.find('[data-test="self-only"]').exists()).toBe(true)
    })
    expect(wrapper.get('[data-test="self-only"]').text()).toBe('上海市仅限本人购买')
    expect(wrapper.find('[data-test="add-relative"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="add-member"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('with no product open to the cardholder, the order starts empty and says what to do', async () => {
    const { sale, wrapper } = await orderStepFor('C33080001', null)
    await flushPromises()
    expect(sale.people).toEqual([])
    expect(wrapper.get('[data-test="nobody-yet"]').text()).toContain('可为家属办理')
    wrapper.unmount()
  })
})

describe('signature pad', () => {
  it('turns a stroke into path data in its own box, and clears', async () => {
    const wrapper = mount(SignaturePad, { props: { modelValue: null }, global: { plugins: [i18n] } })
    const canvas = wrapper.get('canvas').element as HTMLCanvasElement
    canvas.getBoundingClientRect = () => ({
      left: 0,
      top: 0,
      width: 520,
      height: 170,
      right: 520,
      bottom: 170,
      x: 0,
      y: 0,
      toJSON: () => ({})
    })
    canvas.setPointerCapture = () => {}
    const pointer = (type: string, x: number, y: number) =>
      canvas.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: y, pointerId: 1, bubbles: true }))
    pointer('pointerdown', 10, 20)
    pointer('pointermove', 60, 80)
    pointer('pointermove', 110, 40)
    pointer('pointerup', 110, 40)
    expect(wrapper.emitted('update:modelValue')?.at(-1)).toEqual([
      { width: 520, height: 170, strokes: ['M10 20 L60 80 L110 40'] }
    ])
    await wrapper.findAll('button').at(-1)?.trigger('click')
    expect(wrapper.emitted('update:modelValue')?.at(-1)).toEqual([null])
  })
})
