import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Component } from 'vue'
import type { Router } from 'vue-router'
import type { CounterRuntime } from '../../backend/runtime'
import { DEMO_ACCOUNTS } from '../../db/seeds/demo-population'
import { i18n } from '../../renderer/src/i18n'
import { useAuthStore } from '../../renderer/src/stores/auth'
import { useSyncStore } from '../../renderer/src/stores/sync'
import AuditView from '../../renderer/src/views/supervisor/AuditView.vue'
import OperatorsView from '../../renderer/src/views/supervisor/OperatorsView.vue'
import RejectionsView from '../../renderer/src/views/supervisor/RejectionsView.vue'
import { TEST_NOW } from '../support/helpers'
import { accountIdOf, commit, onShift } from '../support/sale-fixtures'
import { blankRouter, installRealBridge } from './bridge'
import { until } from '../support/wait'

let pinia: Pinia
let router: Router

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  router = blankRouter(['/operators', '/audit', '/rejections', '/receipt/:saleId'])
})

afterEach(() => {
  document.body.innerHTML = ''
})

async function mountAt(view: Component, path: string): Promise<VueWrapper> {
  await router.push(path)
  return mount(view, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
}

/** Dialogs and message boxes are teleported to the body: they are driven through the document. */
function element<T extends HTMLElement = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector)
  if (!found) throw new Error(`nothing matches ${selector}`)
  return found
}

function fill(selector: string, value: string): void {
  const field = element<HTMLInputElement | HTMLTextAreaElement>(selector)
  field.value = value
  field.dispatchEvent(new Event('input'))
}

const text = (selector: string): string => element(selector).textContent?.trim() ?? ''
const signIn = (runtime: CounterRuntime, operatorCode: string, pin: string) =>
  runtime.dispatch('auth.signIn', { operatorCode, pin }, { transport: 'test' })

/** The supervisor 9001, signed in as the sign-in screen would leave it, on one of their screens. */
async function asSupervisor(view: Component, path: string) {
  const bridge = await installRealBridge({ role: 'supervisor' })
  expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
  const wrapper = await mountAt(view, path)
  return { bridge, runtime: bridge.runtime, wrapper }
}

/** Answers the open confirmation box with its primary button. */
/** Confirms the box just opened: the newest one (an earlier box may still be in the page, leaving). */
async function confirmBox(): Promise<void> {
  await until(() => expect(document.querySelectorAll('.el-message-box').length).toBeGreaterThan(0))
  const boxes = document.querySelectorAll<HTMLElement>('.el-message-box')
  boxes[boxes.length - 1].querySelector<HTMLElement>('.el-message-box__btns .el-button--primary')?.click()
}

describe('supervisor: operators', () => {
  it('adds an operator who shows in the list and can sign in; refuses two PINs that differ', async () => {
    const { runtime, wrapper } = await asSupervisor(OperatorsView, '/operators')
    await until(() => expect(wrapper.find('[data-test="operator-status-9001"]').exists()).toBe(true))
    expect(wrapper.get('[data-test="operators-table"]').text()).toContain('陈芳')

    await wrapper.get('[data-test="operator-add"]').trigger('click')
    await until(() => expect(document.querySelector('input[data-test="new-operator-code"]')).not.toBeNull())
    fill('input[data-test="new-operator-code"]', '3001')
    fill('input[data-test="new-operator-name"]', '王五')
    fill('input[data-test="new-operator-pin"]', '135790')
    fill('input[data-test="new-operator-pin-confirm"]', '135791')
    element('[data-test="operator-create-submit"]').click()
    await until(() =>
      expect(text('[data-test="new-operator-pin-confirm-item"] .el-form-item__error')).toBe(
        '两次输入的密码不一致'
      )
    )
    await flushPromises()
    expect(await runtime.db('operators').where({ code: '3001' }).first()).toBeUndefined()

    // The contract's own words, under the PIN.
    fill('input[data-test="new-operator-pin"]', '1357')
    fill('input[data-test="new-operator-pin-confirm"]', '1357')
    element('[data-test="operator-create-submit"]').click()
    await until(() =>
      expect(text('[data-test="new-operator-pin-item"] .el-form-item__error')).toBe('密码应为 6–12 位数字')
    )
    expect(
      document.querySelector('[data-test="new-operator-pin-confirm-item"] .el-form-item__error')
    ).toBeNull()
    expect(document.querySelector('[data-test="operator-create-error"]')).toBeNull()
    expect(await runtime.db('operators').where({ code: '3001' }).first()).toBeUndefined()

    fill('input[data-test="new-operator-pin-confirm"]', '135790')
    fill('input[data-test="new-operator-pin"]', '135790')
    element('[data-test="operator-create-submit"]').click()
    await until(() => expect(wrapper.find('[data-test="operator-status-3001"]').exists()).toBe(true))
    const row = wrapper.get('[data-test="operator-status-3001"]').element.closest('tr')
    expect(row?.textContent).toContain('王五')
    expect(row?.textContent).toContain('窗口经办')
    expect(row?.textContent).toContain('在用')
    expect(row?.textContent).toContain('2026-11-22 10:30')
    expect(await signIn(runtime, '3001', '135790')).toMatchObject({
      ok: true,
      value: { operator: { code: '3001', role: 'clerk' } }
    })
    wrapper.unmount()
  })

  it('shows the service’s own words when the new operator’s code is taken', async () => {
    const { runtime, wrapper } = await asSupervisor(OperatorsView, '/operators')
    await until(() => expect(wrapper.find('[data-test="operator-status-1001"]').exists()).toBe(true))
    await wrapper.get('[data-test="operator-add"]').trigger('click')
    await until(() => expect(document.querySelector('input[data-test="new-operator-code"]')).not.toBeNull())
    fill('input[data-test="new-operator-code"]', '1001')
    fill('input[data-test="new-operator-name"]', '王五')
    fill('input[data-test="new-operator-pin"]', '135790')
    fill('input[data-test="new-operator-pin-confirm"]', '135790')
    element('[data-test="operator-create-submit"]').click()
    await until(() => expect(text('[data-test="operator-create-error"]')).toBe('工号 1001 已存在'))
    expect(await runtime.db('operators').where({ name: '王五' }).first()).toBeUndefined()
    wrapper.unmount()
  })

  it('disabling an operator shows 已停用 and refuses their sign-in; enabling lets them back', async () => {
    const { runtime, wrapper } = await asSupervisor(OperatorsView, '/operators')
    await until(() => expect(wrapper.find('[data-test="operator-disable-1001"]').exists()).toBe(true))
    await wrapper.get('[data-test="operator-disable-1001"]').trigger('click')
    await confirmBox()
    await until(() => expect(wrapper.get('[data-test="operator-status-1001"]').text()).toBe('已停用'))
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({
      ok: false,
      error: { code: 'AUTH_FAILED' }
    })

    await wrapper.get('[data-test="operator-enable-1001"]').trigger('click')
    await confirmBox()
    await until(() => expect(wrapper.get('[data-test="operator-status-1001"]').text()).toBe('在用'))
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({ ok: true })
    wrapper.unmount()
  })

  it('cancelling the confirmation changes nothing', async () => {
    const { runtime, wrapper } = await asSupervisor(OperatorsView, '/operators')
    await until(() => expect(wrapper.find('[data-test="operator-disable-2001"]').exists()).toBe(true))
    await wrapper.get('[data-test="operator-disable-2001"]').trigger('click')
    await until(() => expect(document.querySelector('.el-message-box')).not.toBeNull())
    element('.el-message-box__btns .el-button:not(.el-button--primary)').click()
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await flushPromises()
    expect(wrapper.get('[data-test="operator-status-2001"]').text()).toBe('在用')
    expect(await signIn(runtime, '2001', '222222')).toMatchObject({ ok: true })
    wrapper.unmount()
  })

  it('disabling yourself shows the service’s refusal and changes nothing', async () => {
    const { runtime, wrapper } = await asSupervisor(OperatorsView, '/operators')
    await until(() => expect(wrapper.find('[data-test="operator-disable-9001"]').exists()).toBe(true))
    await wrapper.get('[data-test="operator-disable-9001"]').trigger('click')
    await confirmBox()
    await until(() =>
      expect(document.querySelector('.el-message--error')?.textContent).toContain('不能停用自己的工号')
    )
    expect(wrapper.get('[data-test="operator-status-9001"]').text()).toBe('在用')
    expect(await runtime.db('operators').where({ code: '9001' }).first()).toMatchObject({ active: 1 })
    // Still signed in: the next call goes through.
    expect(
      await runtime.dispatch(
        'operators.list',
        {},
        { transport: 'test', sessionToken: useAuthStore().session?.token }
      )
    ).toMatchObject({ ok: true })
    wrapper.unmount()
  })

  it('resets a PIN: the new one works and the old one no longer does; PINs that differ are refused first', async () => {
    const { runtime, wrapper } = await asSupervisor(OperatorsView, '/operators')
    await until(() => expect(wrapper.find('[data-test="operator-reset-1001"]').exists()).toBe(true))
    await wrapper.get('[data-test="operator-reset-1001"]').trigger('click')
    await until(() => expect(document.querySelector('input[data-test="reset-pin"]')).not.toBeNull())
    fill('input[data-test="reset-pin"]', '246810')
    fill('input[data-test="reset-pin-confirm"]', '246811')
    element('[data-test="operator-reset-submit"]').click()
    await until(() =>
      expect(text('[data-test="reset-pin-confirm-item"] .el-form-item__error')).toBe('两次输入的密码不一致')
    )
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({ ok: true })

    fill('input[data-test="reset-pin"]', '246810')
    fill('input[data-test="reset-pin-confirm"]', '246810')
    element('[data-test="operator-reset-submit"]').click()
    await until(() =>
      expect(document.querySelector('.el-message--success')?.textContent).toContain('已重置 1001 的密码')
    )
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({
      ok: false,
      error: { code: 'AUTH_FAILED' }
    })
    expect(await signIn(runtime, '1001', '246810')).toMatchObject({ ok: true })
    wrapper.unmount()
  })
})

describe('supervisor: audit log', () => {
  it('shows 新增操作员 with the operator code and the role, never the new operator’s name or a cardholder’s name or ID', async () => {
    const bridge = await installRealBridge({ role: 'supervisor' })
    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    const runtime = bridge.runtime
    const token = useAuthStore().session?.token
    expect(
      await runtime.dispatch(
        'operators.create',
        { code: '3001', name: '王五', role: 'agent', pin: '135790' },
        { transport: 'test', sessionToken: token }
      )
    ).toMatchObject({ ok: true })
    // A sale too, so the log holds a cardholder's transaction.
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    expect(
      await commit(
        runtime,
        clerk,
        { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }] },
        'C33080001'
      )
    ).toMatchObject({ ok: true })

    const wrapper = await mountAt(AuditView, '/audit')
    const created = await runtime
      .db('audit_log')
      .where({ action: 'operator_created' })
      .first<{ id: number }>()
    await until(() => expect(wrapper.find(`[data-test="audit-action-${created.id}"]`).exists()).toBe(true))
    expect(wrapper.get(`[data-test="audit-action-${created.id}"]`).text()).toBe('新增操作员')
    expect(wrapper.get(`[data-test="audit-subject-${created.id}"]`).text()).toBe('3001')
    expect(wrapper.get(`[data-test="audit-details-${created.id}"]`).text()).toBe('角色: 上门服务专员')
    const row = wrapper.get(`[data-test="audit-action-${created.id}"]`).element.closest('tr')
    expect(row?.textContent).toContain('9001 陈芳')
    expect(row?.textContent).toContain('2026-11-22 10:30')

    const table = wrapper.get('[data-test="audit-table"]').text()
    expect(table).toContain('收款')
    const payer = DEMO_ACCOUNTS.find((account) => account.cardNumber === 'C33080001')
    expect(table).not.toContain('王五')
    expect(table).not.toContain(payer?.name)
    expect(table).not.toContain(payer?.idNumber)
    expect(table).not.toContain('C33080001')
    expect(table).not.toMatch(/\d{17}[\dX]/)

    // Only one action: the select's value, sent as the service's action name.
    const vm = wrapper.findComponent({ name: 'ElSelect' })
    vm.vm.$emit('update:modelValue', 'operator_created')
    await wrapper.get('[data-test="audit-search"]').trigger('click')
    await until(() =>
      expect(wrapper.findAll('[data-test^="audit-action-"]').map((cell) => cell.text())).toEqual([
        '新增操作员'
      ])
    )
    wrapper.unmount()
  })

  it('sends the time range as UTC and shows only what falls in it', async () => {
    const { wrapper } = await asSupervisor(AuditView, '/audit')
    await until(() => expect(wrapper.findAll('[data-test^="audit-action-"]').length).toBeGreaterThan(0))
    // Everything in this test happens at 10:30 Shanghai time (TEST_NOW); a range an hour later is empty.
    expect(TEST_NOW).toBe('2026-11-22T02:30:00.000Z')
    wrapper
      .findComponent({ name: 'ElDatePicker' })
      .vm.$emit('update:modelValue', ['2026-11-22 11:00:00', '2026-11-22 12:00:00'])
    await wrapper.get('[data-test="audit-search"]').trigger('click')
    await until(() => expect(wrapper.findAll('[data-test^="audit-action-"]')).toHaveLength(0))
    expect(wrapper.get('[data-test="audit-table"]').text()).toContain('没有记录')

    wrapper
      .findComponent({ name: 'ElDatePicker' })
      .vm.$emit('update:modelValue', ['2026-11-22 10:30:00', '2026-11-22 10:31:00'])
    await wrapper.get('[data-test="audit-search"]').trigger('click')
    await until(() => expect(wrapper.findAll('[data-test^="audit-action-"]').length).toBeGreaterThan(0))
    wrapper.unmount()
  })
})

describe('supervisor: rejected sales', () => {
  /** A sale by the demo clerk that "the centre" rejected, as the outbox repository writes it. */
  async function rejectedSale(runtime: CounterRuntime): Promise<string> {
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const result = await commit(
      runtime,
      clerk,
      { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }] },
      'C33080001'
    )
    if (!result.ok) throw new Error(result.error.message)
    const saleId = (result.value as { saleId: string }).saleId
    await runtime.db('sales').where({ id: saleId }).update({
      status: 'rejected',
      settled_at: TEST_NOW,
      result_code: 'BALANCE',
      result_message: '个人账户余额不足'
    })
    return saleId
  }

  it('a follow-up with a note leaves the 未跟进 list, shows under 已跟进 with the note, and the status bar count drops', async () => {
    const bridge = await installRealBridge({ role: 'supervisor' })
    const saleId = await rejectedSale(bridge.runtime)
    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    const sync = useSyncStore()
    sync.start()
    await until(() => expect(sync.status?.rejectedCount).toBe(1))

    const wrapper = await mountAt(RejectionsView, '/rejections')
    await until(() => expect(wrapper.find(`[data-test="rejection-${saleId}"]`).exists()).toBe(true))
    const row = wrapper.get(`[data-test="rejection-${saleId}"]`).element.closest('tr')
    const payer = DEMO_ACCOUNTS.find((account) => account.cardNumber === 'C33080001')
    expect(row?.textContent).toContain('BALANCE')
    expect(row?.textContent).toContain('个人账户余额不足')
    expect(row?.textContent).toContain('1001 张敏')
    expect(row?.textContent).toContain('¥')
    expect(row?.textContent).toMatch(/徐\*/)
    expect(row?.textContent).not.toContain(payer?.name)
    expect(row?.textContent).not.toContain('C33080001')
    // The applicant's mobile, masked in the list.
    expect(row?.textContent).toContain('139****5678')
    expect(row?.textContent).not.toContain('13912345678')
    expect(wrapper.get(`[data-test="rejection-${saleId}"]`).attributes('href')).toContain(
      `/receipt/${saleId}`
    )

    await wrapper.get(`[data-test="follow-up-open-${saleId}"]`).trigger('click')
    await until(() => expect(document.querySelector('textarea[data-test="follow-up-note"]')).not.toBeNull())
    // The whole number only when asked for, so the supervisor can call; the audit log says who asked.
    expect(text('[data-test="follow-up-mobile"]')).toBe('139****5678')
    element('[data-test="follow-up-reveal"]').click()
    await until(() => expect(text('[data-test="follow-up-mobile"]')).toBe('13912345678'))
    expect(
      await bridge.runtime
        .db('audit_log')
        .where({ action: 'applicant_mobile_revealed', subject: saleId })
        .count()
    ).toEqual([{ 'count(*)': 1 }])
    fill('textarea[data-test="follow-up-note"]', '已电话联系参保人，改日重新办理')
    element('[data-test="follow-up-submit"]').click()
    await until(() => expect(wrapper.find(`[data-test="rejection-${saleId}"]`).exists()).toBe(false))
    expect(wrapper.get('[data-test="rejections-table"]').text()).toContain('没有待跟进的被拒交易')
    await until(() => expect(sync.status?.rejectedCount).toBe(0))

    await wrapper.get('[data-test="rejections-done"] input').setValue(true)
    await until(() => expect(wrapper.find(`[data-test="follow-up-${saleId}"]`).exists()).toBe(true))
    const followUp = wrapper.get(`[data-test="follow-up-${saleId}"]`).text()
    expect(followUp).toContain('已电话联系参保人，改日重新办理')
    expect(followUp).toContain('9001 陈芳')
    expect(followUp).toContain('2026-11-22 10:30')
    expect(wrapper.find(`[data-test="follow-up-open-${saleId}"]`).exists()).toBe(false)
    sync.stop()
    wrapper.unmount()
  })

  it('a note too short shows the service’s message and changes nothing', async () => {
    const bridge = await installRealBridge({ role: 'supervisor' })
    const saleId = await rejectedSale(bridge.runtime)
    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    const wrapper = await mountAt(RejectionsView, '/rejections')
    await until(() => expect(wrapper.find(`[data-test="follow-up-open-${saleId}"]`).exists()).toBe(true))
    await wrapper.get(`[data-test="follow-up-open-${saleId}"]`).trigger('click')
    await until(() => expect(document.querySelector('textarea[data-test="follow-up-note"]')).not.toBeNull())
    fill('textarea[data-test="follow-up-note"]', '好')
    element('[data-test="follow-up-submit"]').click()
    await until(() =>
      expect(text('[data-test="follow-up-note-item"] .el-form-item__error')).toBe(
        '请填写跟进说明（至少 2 个字）'
      )
    )
    expect(document.querySelector('[data-test="follow-up-error"]')).toBeNull()
    expect(await bridge.runtime.db('sales').where({ id: saleId }).first()).toMatchObject({
      followed_up_at: null,
      follow_up_note: null
    })
    expect(wrapper.find(`[data-test="follow-up-open-${saleId}"]`).exists()).toBe(true)
    wrapper.unmount()
  })
})

describe('supervisor screens: the router guard', () => {
  it('sends a clerk who opens a supervisor screen to the counter, and lets a supervisor in', async () => {
    // The app's own router (hash history); its lazy screens are only loaded for the supervisor.
    const { router: appRouter } = await import('../../renderer/src/router')
    await installRealBridge()
    expect(await useAuthStore().signIn('1001', '111111')).toBeNull()
    await appRouter.push('/supervisor/operators')
    expect(appRouter.currentRoute.value.name).toBe('counter')

    await useAuthStore().signOut()
    await appRouter.push('/supervisor/audit')
    expect(appRouter.currentRoute.value.name).toBe('sign-in')

    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    await appRouter.push('/supervisor/audit')
    expect(appRouter.currentRoute.value.name).toBe('audit')
  })
})
