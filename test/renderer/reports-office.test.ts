import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, describe, expect, it } from 'vitest'
import { i18n } from '../../renderer/src/i18n'
import { useAuthStore } from '../../renderer/src/stores/auth'
import ReportsView from '../../renderer/src/views/supervisor/ReportsView.vue'
import { blankRouter, installRealBridge } from './bridge'
import { until } from '../support/wait'

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
