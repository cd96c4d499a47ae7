import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, describe, expect, it } from 'vitest'
import { i18n } from '../../renderer/src/i18n'
import { useAuthStore } from '../../renderer/src/stores/auth'
import { useCounterStore } from '../../renderer/src/stores/counter'
import { useSaleStore } from '../../renderer/src/stores/sale'
import { setSessionToken } from '../../renderer/src/api/client'
import SignInView from '../../renderer/src/views/SignInView.vue'
import AuditView from '../../renderer/src/views/supervisor/AuditView.vue'
import { blankRouter, installRealBridge } from './bridge'
import { signedIn } from '../support/helpers'
import { until } from '../support/wait'

afterEach(() => {
  document.body.innerHTML = ''
})

function fill(selector: string, value: string): void {
  // Element Plus puts the attribute on the input itself.
  const field = document.querySelector<HTMLInputElement>(`input${selector}`)
  if (!field) throw new Error(`no field ${selector}`)
  field.value = value
  field.dispatchEvent(new Event('input'))
}

const click = (selector: string) => document.querySelector<HTMLElement>(selector)?.click()

describe('the sign-in screen', () => {
  it('asks a new operator for their own PIN before anything else, and goes on with it', async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    const bridge = await installRealBridge({ role: 'supervisor' })
    const runtime = bridge.runtime
    const created = await runtime.dispatch(
      'operators.create',
      { code: '3001', name: '王五', role: 'clerk', pin: '358024' },
      await signedIn(runtime, 'supervisor')
    )
    expect(created.ok).toBe(true)
    setSessionToken(undefined)
    const router = blankRouter(['/sign-in', '/counter'])
    await router.push('/sign-in')
    mount(SignInView, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })

    fill('[data-test="operator-code"]', '3001')
    fill('[data-test="operator-pin"]', '358024')
    click('[data-test="sign-in"]')
    await until(() =>
      expect(
        document.querySelector('[data-test="change-pin"]'),
        document.body.textContent ?? ''
      ).not.toBeNull()
    )
    expect(router.currentRoute.value.path).toBe('/sign-in')
    expect(document.body.textContent).toContain('您的密码由主管设置或重置')

    fill('[data-test="new-pin"]', '470913')
    fill('[data-test="new-pin-again"]', '470914')
    click('[data-test="change-pin-submit"]')
    await until(() =>
      expect(document.querySelector('[data-test="sign-in-error"]')?.textContent).toContain(
        '两次输入的新密码不一致'
      )
    )
    fill('[data-test="new-pin-again"]', '470913')
    click('[data-test="change-pin-submit"]')
    await until(() => expect(router.currentRoute.value.path).toBe('/counter'))
    expect(useAuthStore().session?.pinChangeRequired).toBe(false)
    expect(
      await runtime.dispatch('auth.signIn', { operatorCode: '3001', pin: '470913' }, { transport: 'test' })
    ).toMatchObject({ ok: true, value: { pinChangeRequired: false } })
    await bridge.idle()
  })
})

describe('the sign-in keys', () => {
  it('Enter in 工号 moves to the PIN: the digits typed next never land in the code field', async () => {
    setActivePinia(createPinia())
    await installRealBridge()
    setSessionToken(undefined)
    const router = blankRouter(['/sign-in', '/counter'])
    await router.push('/sign-in')
    mount(SignInView, { global: { plugins: [i18n, router] }, attachTo: document.body })
    await flushPromises()
    expect(document.activeElement?.getAttribute('data-test')).toBe('operator-code')
    fill('[data-test="operator-code"]', '1001')
    document
      .querySelector<HTMLInputElement>('input[data-test="operator-code"]')
      ?.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
    await flushPromises()
    expect(document.activeElement?.getAttribute('data-test')).toBe('operator-pin')
    expect(router.currentRoute.value.path).toBe('/sign-in')
  })
})

describe('an idle counter taken over', () => {
  it('keeps the customer for the same operator, and clears it for another', async () => {
    setActivePinia(createPinia())
    await installRealBridge({ role: 'clerk' })
    const auth = useAuthStore()
    const counter = useCounterStore()
    expect(await auth.signIn('1001', '111111')).toBeNull()
    expect(await counter.lookup('C33080001')).toBe(true)
    const holder = counter.cardholder
    if (!holder) throw new Error('no cardholder after the lookup')
    expect(await useSaleStore().start(holder)).toBe(true)

    // The session ends for idleness; the same clerk comes back: everything is where it was.
    auth.ended()
    expect(await auth.signIn('1001', '111111')).toBeNull()
    expect(auth.resumable).toBe(true)
    expect(counter.cardholder?.cardNumberMasked).toBeTruthy()
    expect(useSaleStore().cardholder).not.toBeNull()

    // Ends again; another operator signs in at this counter: nothing of that customer is left.
    auth.ended()
    expect(await auth.signIn('2001', '222222')).toBeNull()
    expect(auth.resumable).toBe(false)
    expect(counter.cardholder).toBeNull()
    expect(useSaleStore().cardholder).toBeNull()
  })
})

describe('the audit screen', () => {
  it('says the records are whole, and says plainly when a row was changed behind its back', async () => {
    setActivePinia(createPinia())
    const bridge = await installRealBridge({ role: 'supervisor' })
    const router = blankRouter(['/audit'])
    await router.push('/audit')
    let wrapper = mount(AuditView, { global: { plugins: [i18n, router] }, attachTo: document.body })
    await until(() => expect(wrapper.get('[data-test="records-check"]').text()).toContain('记录完整'))
    wrapper.unmount()

    await bridge.runtime.db.raw('drop trigger audit_log_immutable_update')
    await bridge.runtime.db('audit_log').where({ action: 'sign_in' }).update({ subject: 'T-00000000' })
    wrapper = mount(AuditView, { global: { plugins: [i18n, router] }, attachTo: document.body })
    await until(() => expect(wrapper.find('[data-test="records-tampered"]').exists()).toBe(true))
    const shown = wrapper.get('[data-test="records-tampered"]').text()
    expect(shown).toContain('记录校验未通过')
    expect(shown).toContain('审计日志自第 1 条')
    expect(shown).toContain('报告中心核查')
    await flushPromises()
    await bridge.idle()
  })
})
