import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Component } from 'vue'
import type { Router } from 'vue-router'
import type { CallContext } from '../../core/api/contract'
import type { CounterRuntime } from '../../backend/runtime'
import { i18n } from '../../renderer/src/i18n'
import { useAuthStore } from '../../renderer/src/stores/auth'
import HistoryView from '../../renderer/src/views/HistoryView.vue'
import SettingsView from '../../renderer/src/views/SettingsView.vue'
import { TEST_NOW } from '../support/helpers'
import { accountIdOf, commit, onShift } from '../support/sale-fixtures'
import { blankRouter, installRealBridge } from './bridge'
import { until } from '../support/wait'

let pinia: Pinia
let router: Router

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  router = blankRouter(['/history', '/receipt/:saleId', '/settings'])
})

afterEach(() => {
  document.body.innerHTML = ''
})

async function mountAt(view: Component, path: string) {
  await router.push(path)
  return mount(view, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
}

/** Sells a cardholder one unit of a product for themselves, through the services; the sale's id. */
async function sold(
  runtime: CounterRuntime,
  context: CallContext,
  card: string,
  productCode: string
): Promise<string> {
  const accountId = await accountIdOf(runtime, context, card)
  const result = await commit(
    runtime,
    context,
    {
      accountId,
      lines: [
        { insured: { relation: 'self', proofSeen: false, enrolmentConfirmed: false }, productCode, units: 1 }
      ]
    },
    card
  )
  if (!result.ok) throw new Error(result.error.message)
  return (result.value as { saleId: string }).saleId
}

describe('history: what the centre said', () => {
  it('shows each sale’s answer, and from the status bar only the rejected ones, with the reason', async () => {
    const bridge = await installRealBridge()
    const context = await onShift(bridge.runtime)
    const accepted = await sold(bridge.runtime, context, 'C33080001', 'QZ-HQB-2027')
    const rejected = await sold(bridge.runtime, context, 'A53000001', 'YN-JRAK')
    const queued = await sold(bridge.runtime, context, 'A53000003', 'YN-JRAK')
    // What the upload writes when the centre answers.
    await bridge.runtime
      .db('sales')
      .where({ id: accepted })
      .update({ status: 'accepted', settled_at: TEST_NOW })
    await bridge.runtime.db('sales').where({ id: rejected }).update({
      status: 'rejected',
      settled_at: TEST_NOW,
      result_code: 'BALANCE',
      result_message: '个人账户余额不足'
    })

    const all = await mountAt(HistoryView, '/history')
    await until(async () => {
      await flushPromises()
      expect(all.findAll('[data-test^="status-"]')).toHaveLength(3)
    })
    expect(all.get(`[data-test="status-${accepted}"] .el-tag`).text()).toBe('已受理')
    expect(all.get(`[data-test="status-${accepted}"]`).text()).toContain('2026-11-22 10:30')
    expect(all.get(`[data-test="status-${queued}"]`).text()).toBe('待上传')
    expect(all.get(`[data-test="status-${rejected}"]`).text()).toBe('被拒')
    expect(all.get('[data-test="rejection"]').text()).toBe('个人账户余额不足')
    all.unmount()

    const onlyRejected = await mountAt(HistoryView, '/history?status=rejected')
    await until(async () => {
      await flushPromises()
      expect(onlyRejected.findAll('[data-test^="status-"]')).toHaveLength(1)
    })
    expect(onlyRejected.find(`[data-test="status-${rejected}"]`).exists()).toBe(true)
    // A rejected sale took no money: there is nothing to void.
    expect(onlyRejected.find(`[data-test="void-${rejected}"]`).exists()).toBe(false)
    onlyRejected.unmount()
  })
})

describe('settings: centre connection', () => {
  async function asSupervisor() {
    const bridge = await installRealBridge({ role: 'supervisor' })
    // The header's idea of who is signed in: the form is a supervisor's.
    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    const wrapper = await mountAt(SettingsView, '/settings')
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="centre-terminal"]').text()).toMatch(/^T-[0-9A-F]{8}/)
    })
    return { bridge, wrapper }
  }

  async function submit(
    wrapper: Awaited<ReturnType<typeof asSupervisor>>['wrapper'],
    fields: { url: string; code: string; territory: string }
  ) {
    await wrapper.get('input[data-test="centre-url-input"]').setValue(fields.url)
    await wrapper.get('input[data-test="centre-code-input"]').setValue(fields.code)
    await wrapper.get('input[data-test="centre-territory-input"]').setValue(fields.territory)
    await wrapper.get('[data-test="centre-register"]').trigger('submit')
  }

  it('shows this terminal unregistered, and the contract’s own words under a field that is wrong', async () => {
    const { wrapper } = await asSupervisor()
    expect(wrapper.get('[data-test="centre-current"]').text()).toContain('未注册')
    expect(wrapper.get('[data-test="centre-url"]').text()).toBe('—')
    await submit(wrapper, { url: 'ftp://centre.example', code: 'ABCD-1234', territory: '柯城区医保服务大厅' })
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="centre-url-item"] .el-form-item__error').text()).toBe(
        '中心地址应为 http(s):// 开头的网址'
      )
    })
    await submit(wrapper, { url: 'https://centre.example', code: 'AB', territory: '柯城区医保服务大厅' })
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="centre-code-item"] .el-form-item__error').text()).toBe(
        '请填写中心发放的注册码'
      )
    })
    // Under its own field only: the address is right now, and no banner repeats it.
    expect(wrapper.find('[data-test="centre-url-item"] .el-form-item__error').exists()).toBe(false)
    expect(wrapper.find('[data-test="centre-register-error"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('says registration failed when the centre cannot be reached, and stays unregistered', async () => {
    const { wrapper } = await asSupervisor()
    // Nothing listens on port 9 of this machine.
    await submit(wrapper, { url: 'http://127.0.0.1:9', code: 'ABCD-1234', territory: '柯城区医保服务大厅' })
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="centre-register-error"]').text()).toContain('注册失败')
    })
    expect(wrapper.get('[data-test="centre-current"]').text()).toContain('未注册')
    wrapper.unmount()
  })

  it('lets a clerk see the connection but not register', async () => {
    await installRealBridge()
    expect(await useAuthStore().signIn('1001', '111111')).toBeNull()
    const wrapper = await mountAt(SettingsView, '/settings')
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="centre-current"]').text()).toContain('未注册')
    })
    expect(wrapper.get('[data-test="centre-register-submit"]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-test="centre-settings"]').text()).toContain('只有主管可以修改')
    wrapper.unmount()
  })
})
