import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import type { SessionView } from '../../../core/operators'
import type { CounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'
import { ok } from '../../support/sync'

/**
 * A PIN someone else chose (a new operator's, a reset one) is known to two people: the operator
 * must change it at the first sign-in, and until then can do nothing else (#15).
 */

const signIn = (runtime: CounterRuntime, operatorCode: string, pin: string) =>
  runtime.dispatch('auth.signIn', { operatorCode, pin }, { transport: 'test' })

const contextOf = (session: SessionView): CallContext => ({ transport: 'test', sessionToken: session.token })

describe('a new or reset PIN is changed at first sign-in', () => {
  it('a new operator can do nothing but change the PIN, and then works with the new one only', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    await ok(
      runtime.dispatch(
        'operators.create',
        { code: '3001', name: '王五', role: 'clerk', pin: '358024' },
        supervisor
      )
    )

    const session = await ok<SessionView>(signIn(runtime, '3001', '358024'))
    expect(session.pinChangeRequired).toBe(true)
    const as = contextOf(session)
    for (const [call, args] of [
      ['auth.openShift', {}],
      ['cardholder.lookup', { input: 'C33080001' }],
      ['sale.search', { scope: 'all', date: '2026-11-22' }]
    ] as const)
      expect(await runtime.dispatch(call, args, as), call).toMatchObject({
        ok: false,
        error: { code: 'PIN_CHANGE_REQUIRED' }
      })
    expect(await runtime.dispatch('auth.session', {}, as)).toMatchObject({
      ok: true,
      value: { pinChangeRequired: true }
    })

    // The same PIN again, a trivial one, or a wrong current one: refused, nothing changes.
    expect(
      await runtime.dispatch('auth.changePin', { currentPin: '358024', newPin: '358024' }, as)
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: '新密码不能与原密码相同' } })
    expect(
      await runtime.dispatch('auth.changePin', { currentPin: '358024', newPin: '123456' }, as)
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(
      await runtime.dispatch('auth.changePin', { currentPin: '000000', newPin: '470913' }, as)
    ).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } })
    expect(await ok<SessionView>(signIn(runtime, '3001', '358024'))).toMatchObject({
      pinChangeRequired: true
    })

    expect(
      await ok<SessionView>(
        runtime.dispatch('auth.changePin', { currentPin: '358024', newPin: '470913' }, as)
      )
    ).toMatchObject({ pinChangeRequired: false })
    expect(await runtime.dispatch('auth.openShift', {}, as)).toMatchObject({ ok: true })
    expect(await signIn(runtime, '3001', '358024')).toMatchObject({
      ok: false,
      error: { code: 'AUTH_FAILED' }
    })
    expect(await ok<SessionView>(signIn(runtime, '3001', '470913'))).toMatchObject({
      pinChangeRequired: false
    })
    const audit = await runtime.db('audit_log').where({ subject: '3001' }).orderBy('id').pluck('action')
    expect(audit).toEqual(['operator_created', 'pin_change_failed', 'pin_changed', 'sign_in_failed'])
  })

  it('wrong current PINs at the change count towards the lockout', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    await ok(
      runtime.dispatch(
        'operators.create',
        { code: '3001', name: '王五', role: 'clerk', pin: '358024' },
        supervisor
      )
    )
    const as = contextOf(await ok<SessionView>(signIn(runtime, '3001', '358024')))
    const tries = await Promise.all(
      Array.from({ length: 20 }, () =>
        runtime.dispatch('auth.changePin', { currentPin: '000000', newPin: '470913' }, as)
      )
    )
    expect(tries.filter((t) => !t.ok && t.error.code === 'AUTH_FAILED')).toHaveLength(5)
    expect(tries.filter((t) => !t.ok && t.error.code === 'AUTH_LOCKED')).toHaveLength(15)
  })

  it('a reset PIN must be changed too, and a supervisor’s reset PIN approves no void until then', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    await ok(
      runtime.dispatch(
        'operators.create',
        { code: '9002', name: '周七', role: 'supervisor', pin: '909091' },
        supervisor
      )
    )
    // A supervisor resetting their own PIN chose it themselves: nothing to change.
    await ok(runtime.dispatch('operators.resetPin', { code: '9001', pin: '864209' }, supervisor))
    expect(await ok<SessionView>(signIn(runtime, '9001', '864209'))).toMatchObject({
      pinChangeRequired: false
    })

    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const sale = await ok<{ saleId: string }>(
      commit(
        runtime,
        clerk,
        { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }] },
        'C33080001'
      )
    )
    const voidWith = (supervisorPin: string) =>
      runtime.dispatch(
        'sale.void',
        { saleId: sale.saleId, reason: '客户改变主意', supervisorCode: '9002', supervisorPin },
        clerk
      )
    expect(await voidWith('909091')).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN', message: expect.stringContaining('须先登录修改密码') }
    })
    const second = contextOf(await ok<SessionView>(signIn(runtime, '9002', '909091')))
    await ok(runtime.dispatch('auth.changePin', { currentPin: '909091', newPin: '717273' }, second))
    expect(await voidWith('717273')).toMatchObject({ ok: true })
  })
})
