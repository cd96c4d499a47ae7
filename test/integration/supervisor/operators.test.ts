import { describe, expect, it } from 'vitest'
import type { CallName } from '../../../core/api/contract'
import type { AuditEntryView, OperatorAdminView } from '../../../core/supervision'
import type { CounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, signedIn } from '../../support/helpers'

type Answer = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }

async function value<T>(answer: Promise<Answer>): Promise<T> {
  const result = await answer
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value as T
}

const signIn = (runtime: CounterRuntime, operatorCode: string, pin: string) =>
  runtime.dispatch('auth.signIn', { operatorCode, pin }, { transport: 'test' })

/** A new operator's first sign-in: the PIN the supervisor chose is changed before anything else. */
async function firstSignIn(runtime: CounterRuntime, operatorCode: string, pin: string) {
  const { token } = await value<{ token: string }>(signIn(runtime, operatorCode, pin))
  const context = { transport: 'test' as const, sessionToken: token }
  await value(runtime.dispatch('auth.changePin', { currentPin: pin, newPin: '818283' }, context))
  return context
}

/** Every supervisor call of issue #7, with arguments that would pass validation. */
const SUPERVISOR_CALLS: ReadonlyArray<readonly [CallName, unknown]> = [
  ['operators.list', {}],
  ['operators.create', { code: '3001', name: '王五', role: 'clerk', pin: '358024' }],
  ['operators.setActive', { code: '1001', active: false }],
  ['operators.resetPin', { code: '1001', pin: '470913' }],
  ['audit.list', { limit: 10 }],
  ['rejections.list', {}],
  ['rejections.followUp', { saleId: '019a0000-0000-7000-8000-000000000000', note: '已电话联系' }]
]

describe('supervisor: operators and the audit log', () => {
  it('refuses a clerk and an agent on every supervisor call, and anyone not signed in', async () => {
    const runtime = await openTestRuntime()
    for (const role of ['clerk', 'agent'] as const) {
      const context = await signedIn(runtime, role)
      for (const [call, args] of SUPERVISOR_CALLS) {
        expect(await runtime.dispatch(call, args, context), `${role} ${call}`).toMatchObject({
          ok: false,
          error: { code: 'FORBIDDEN' }
        })
      }
    }
    for (const [call, args] of SUPERVISOR_CALLS) {
      expect(await runtime.dispatch(call, args, { transport: 'test' }), call).toMatchObject({
        ok: false,
        error: { code: 'UNAUTHENTICATED' }
      })
    }
    // Nothing changed: the clerk still signs in with the old PIN, no operator was added.
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({ ok: true })
    expect(await runtime.db('operators').where({ code: '3001' }).first()).toBeUndefined()
  })

  it('creates an operator who can then sign in; lists operators without PINs', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    const created = await value<OperatorAdminView>(
      runtime.dispatch(
        'operators.create',
        { code: '3001', name: '王五', role: 'agent', pin: '358024' },
        supervisor
      )
    )
    expect(created).toMatchObject({
      code: '3001',
      name: '王五',
      role: 'agent',
      active: true,
      lockedUntil: null
    })
    expect(await signIn(runtime, '3001', '358024')).toMatchObject({
      ok: true,
      value: { operator: { code: '3001', role: 'agent' } }
    })
    expect(
      await runtime.dispatch(
        'operators.create',
        { code: '3001', name: '王五', role: 'agent', pin: '358024' },
        supervisor
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: '工号 3001 已存在' }
    })
    const list = await value<OperatorAdminView[]>(runtime.dispatch('operators.list', {}, supervisor))
    expect(list.map((o) => o.code)).toEqual(['1001', '2001', '3001', '9001'])
    const json = JSON.stringify(list)
    expect(json).not.toMatch(/pin|scrypt|358024/i)
  })

  it('refuses a PIN anyone would try first, for a new operator and at a reset, changing nothing', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    for (const pin of ['000000', '123456', '654321', '777777', '0123456789', '98765432']) {
      expect(
        await runtime.dispatch(
          'operators.create',
          { code: '3001', name: '王五', role: 'clerk', pin },
          supervisor
        ),
        pin
      ).toMatchObject({
        ok: false,
        error: {
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining('过于简单'),
          field: { path: 'pin' }
        }
      })
      expect(
        await runtime.dispatch('operators.resetPin', { code: '1001', pin }, supervisor),
        pin
      ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    }
    expect(await runtime.db('operators').where({ code: '3001' }).count({ n: '*' })).toEqual([{ n: 0 }])
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({ ok: true })
  })

  it('writes a new operator and its audit line together: when the audit line fails, no operator is left', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    // As if the process died between the two writes: the audit insert fails after the operator's.
    await runtime.db.raw(
      `CREATE TRIGGER refuse_created BEFORE INSERT ON audit_log WHEN NEW.action = 'operator_created' BEGIN SELECT RAISE(ABORT, 'audit write failed'); END`
    )
    expect(
      await runtime.dispatch(
        'operators.create',
        { code: '3001', name: '王五', role: 'clerk', pin: '358024' },
        supervisor
      )
    ).toMatchObject({ ok: false })
    expect(await runtime.db('operators').where({ code: '3001' }).first()).toBeUndefined()
    expect(await signIn(runtime, '3001', '358024')).toMatchObject({ ok: false })

    await runtime.db.raw('DROP TRIGGER refuse_created')
    await value(
      runtime.dispatch(
        'operators.create',
        { code: '3001', name: '王五', role: 'clerk', pin: '358024' },
        supervisor
      )
    )
    expect(
      await runtime
        .db('audit_log')
        .where({ action: 'operator_created', subject: '3001' })
        .count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: 1 }])
  })

  it('disabling ends the open session and refuses sign-in; enabling lets them back', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    const clerk = await signedIn(runtime, 'clerk')
    expect(await runtime.dispatch('auth.session', {}, clerk)).toMatchObject({ ok: true })

    expect(
      await value<OperatorAdminView>(
        runtime.dispatch('operators.setActive', { code: '1001', active: false }, supervisor)
      )
    ).toMatchObject({ active: false })
    expect(await runtime.dispatch('auth.session', {}, clerk)).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' }
    })
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({
      ok: false,
      error: { code: 'AUTH_FAILED' }
    })

    await value(runtime.dispatch('operators.setActive', { code: '1001', active: true }, supervisor))
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({ ok: true })
  })

  it('a supervisor cannot disable themselves or the last active supervisor', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    expect(
      await runtime.dispatch('operators.setActive', { code: '9001', active: false }, supervisor)
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: '不能停用自己的工号' }
    })
    // A second supervisor may not disable the only other one once it would leave none.
    await value(
      runtime.dispatch(
        'operators.create',
        { code: '9002', name: '周七', role: 'supervisor', pin: '909090' },
        supervisor
      )
    )
    const second = await firstSignIn(runtime, '9002', '909090')
    await value(runtime.dispatch('operators.setActive', { code: '9001', active: false }, second))
    // 9001 was signed out by that; 9002 is now the last active supervisor and cannot be disabled (by itself, here).
    expect(await runtime.dispatch('operators.list', {}, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' }
    })
    expect(
      await runtime.dispatch('operators.setActive', { code: '9002', active: false }, second)
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(
      await runtime
        .db('operators')
        .where({ role: 'supervisor', active: true })
        .count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: 1 }])
  })

  it('refuses the last active supervisor even when the caller is not them', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    await value(
      runtime.dispatch(
        'operators.create',
        { code: '9002', name: '周七', role: 'supervisor', pin: '909090' },
        supervisor
      )
    )
    await value(runtime.dispatch('operators.setActive', { code: '9002', active: false }, supervisor))
    // 9001 is now the only active supervisor. An active supervisor disabling another one always leaves
    // themselves, so the rule only bites for a session whose operator was deactivated behind the
    // service's back (here: straight in the database); it still holds.
    await runtime.db('operators').where({ code: '9002' }).update({ active: true })
    const second = await firstSignIn(runtime, '9002', '909090')
    await runtime.db('operators').where({ code: '9002' }).update({ active: false })
    expect(
      await runtime.dispatch('operators.setActive', { code: '9001', active: false }, second)
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: '不能停用最后一名在用的主管' }
    })
  })

  it('resets a PIN: the old one stops working, the new one works, and a lockout is lifted', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    for (let i = 0; i < 5; i++) await signIn(runtime, '1001', '000000')
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({
      ok: false,
      error: { code: 'AUTH_LOCKED' }
    })
    const locked = await value<OperatorAdminView[]>(runtime.dispatch('operators.list', {}, supervisor))
    expect(locked.find((o) => o.code === '1001')?.lockedUntil).not.toBeNull()

    expect(
      await value<OperatorAdminView>(
        runtime.dispatch('operators.resetPin', { code: '1001', pin: '246810' }, supervisor)
      )
    ).toMatchObject({ lockedUntil: null })
    expect(await signIn(runtime, '1001', '111111')).toMatchObject({
      ok: false,
      error: { code: 'AUTH_FAILED' }
    })
    expect(await signIn(runtime, '1001', '246810')).toMatchObject({ ok: true })
    expect(
      await runtime.dispatch('operators.resetPin', { code: '7777', pin: '246810' }, supervisor)
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
  })

  it('the audit log shows who did what, when, with Chinese labels, and never a PIN or a name', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    await value(
      runtime.dispatch(
        'operators.create',
        { code: '3001', name: '王五', role: 'clerk', pin: '135790' },
        supervisor
      )
    )
    await value(runtime.dispatch('operators.resetPin', { code: '3001', pin: '975310' }, supervisor))
    await value(runtime.dispatch('operators.setActive', { code: '3001', active: false }, supervisor))

    const log = await value<AuditEntryView[]>(
      runtime.dispatch('audit.list', { operatorCode: '9001', limit: 10 }, supervisor)
    )
    expect(log.map((e) => [e.action, e.actionLabel, e.subject, e.operatorCode, e.operatorName])).toEqual([
      ['operator_disabled', '停用操作员', '3001', '9001', '陈芳'],
      ['operator_pin_reset', '重置操作员密码', '3001', '9001', '陈芳'],
      ['operator_created', '新增操作员', '3001', '9001', '陈芳'],
      ['sign_in', '登录', expect.any(String), '9001', '陈芳']
    ])
    expect(log[2].details).toEqual({ role: 'clerk' })
    expect(log.every((e) => e.at === '2026-11-22T02:30:00.000Z')).toBe(true)
    const json = JSON.stringify(await value(runtime.dispatch('audit.list', { limit: 1000 }, supervisor)))
    expect(json).not.toMatch(/135790|975310|王五|scrypt/)

    const onlyCreated = await value<AuditEntryView[]>(
      runtime.dispatch('audit.list', { action: 'operator_created', limit: 10 }, supervisor)
    )
    expect(onlyCreated).toHaveLength(1)
    expect(
      await value<AuditEntryView[]>(
        runtime.dispatch('audit.list', { from: '2026-11-22T10:31:00+08:00', limit: 10 }, supervisor)
      )
    ).toEqual([])
    expect(
      await value<AuditEntryView[]>(
        runtime.dispatch(
          'audit.list',
          { from: '2026-11-22T10:30:00+08:00', to: '2026-11-22T10:31:00+08:00', limit: 2 },
          supervisor
        )
      )
    ).toHaveLength(2)
  })
})
