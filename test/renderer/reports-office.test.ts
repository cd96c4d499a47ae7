import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, describe, expect, it } from 'vitest'
import { i18n } from '../../renderer/src/i18n'
import { useAuthStore } from '../../renderer/src/stores/auth'
import ReportsView from '../../renderer/src/views/supervisor/ReportsView.vue'
import { blankRouter, installRealBridge } from './bridge'
import { until } from '../support/wait'
import { accountIdOf, commit, onShift } from '../support/sale-fixtures'

afterEach(() => {
  document.body.innerHTML = ''
})

describe('supervisor: the summary screen’s 本网点 mode', () => {
  it('asks the centre for the office summary, keeps 日结 for this terminal, and shows the centre’s refusal as an alert', async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    const router = blankRouter(['/reports', '/closes/:number'])
    await router.push('/reports')
    const bridge = await installRealBridge({ role: 'supervisor' })
    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    const wrapper = mount(ReportsView, {
      global: { plugins: [pinia, i18n, router], stubs: { HourlyChart: true, PrintableReport: true } },
      attachTo: document.body
    })
    await until(async () => {
      await flushPromises()
      expect(bridge.calls).toContain('report.summary')
    })
    expect(wrapper.find('[data-test="close-day"]').attributes('disabled')).toBeUndefined()

    const office = wrapper
      .findAll('[data-test="report-scope"] input')
      .find((input) => (input.element as HTMLInputElement).value === 'office')
    if (!office) throw new Error('no office radio')
    await office.setValue(true)
    await until(async () => {
      await flushPromises()
      expect(bridge.calls).toContain('report.officeSummary')
      // This terminal never registered: the alert says so, and 日结 is not offered for an office.
      expect(wrapper.find('[data-test="report-error"]').text()).toContain('注册')
    })
    expect(wrapper.find('[data-test="close-day"]').attributes('disabled')).toBeDefined()
    expect(wrapper.find('[data-test="report-operator"]').exists()).toBe(false)
    await bridge.idle()
    wrapper.unmount()
  })
})

describe('supervisor: the summary tiles', () => {
  it('count a sale sent without an answer in 待上传 (含待确认), so the status tiles add up to 全部', async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    const router = blankRouter(['/reports', '/closes/:number'])
    await router.push('/reports')
    // The screen's default range is today, by the screen's own clock.
    const bridge = await installRealBridge({ role: 'supervisor', clock: { now: () => new Date() } })
    const clerk = await onShift(bridge.runtime)
    const sent = await commit(
      bridge.runtime,
      clerk,
      {
        accountId: await accountIdOf(bridge.runtime, clerk, 'C33080001'),
        lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }]
      },
      'C33080001'
    )
    if (!sent.ok) throw new Error(sent.error.message)
    // As the upload leaves a sale whose answer never came.
    await bridge.runtime.db('sales').update({ status: 'uploaded' })
    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    const wrapper = mount(ReportsView, {
      global: { plugins: [pinia, i18n, router], stubs: { HourlyChart: true, PrintableReport: true } },
      attachTo: document.body
    })
    await until(async () => {
      await flushPromises()
      expect(wrapper.find('[data-test="tile-all"]').text()).toContain('1 笔')
    })
    expect(wrapper.find('[data-test="tile-pending"]').text()).toContain('1 笔（含待确认 1 笔）')
    const count = (key: string) =>
      Number(/(\d+) 笔/.exec(wrapper.find(`[data-test="tile-${key}"]`).text())?.[1])
    expect(['pending', 'accepted', 'rejected', 'voided'].map(count).reduce((a, b) => a + b)).toBe(
      count('all')
    )
    await bridge.idle()
    wrapper.unmount()
  })
})
