import { describe, expect, it } from 'vitest'
import type { Clock } from '../../../core/time'
import { openTestRuntime, recordingLogger } from '../../support/helpers'
import { createAuthService } from '../../../backend/services/auth'
import { createOperatorsRepository } from '../../../db/repositories/operators'
import { createDispatcher } from '../../../backend/api/dispatch'
import type { Handlers } from '../../../core/api/contract'
import { idleMinutesFrom } from '../../../backend/runtime'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

const anonymous = { transport: 'test' } as const

function movableClock(iso: string): Clock & { advance(ms: number): void } {
  let at = Date.parse(iso)
  return { now: () => new Date(at), advance: (ms) => (at += ms) }
}

describe('operators signing in at the counter', () => {
  it('signs a demo clerk in, with no shift open yet, and keeps only a scrypt hash of the PIN', async () => {
    const runtime = await openTestRuntime()
    const result = await runtime.dispatch('auth.signIn', { operatorCode: '1001', pin: '111111' }, anonymous)
    expect(result).toMatchObject({
      ok: true,
      value: {
        token: expect.stringMatching(/^[0-9a-f]{48}$/),
        operator: { code: '1001', name: '张敏', role: 'clerk' },
        shift: null
      }
    })
    const hashes: string[] = await runtime.db('operators').pluck('pin_hash')
    expect(hashes.every((hash) => hash.startsWith('scrypt$16384$8$1$'))).toBe(true)
    expect(hashes.join()).not.toContain('111111')
  })

  it('refuses a wrong PIN and an unknown code with the same words', async () => {
    const runtime = await openTestRuntime()
    const wrongPin = await runtime.dispatch('auth.signIn', { operatorCode: '1001', pin: '123456' }, anonymous)
    const unknown = await runtime.dispatch('auth.signIn', { operatorCode: '7777', pin: '111111' }, anonymous)
    expect(wrongPin).toEqual({ ok: false, error: { code: 'AUTH_FAILED', message: '工号或密码不正确' } })
    expect(unknown).toEqual(wrongPin)
    expect(
      await runtime.dispatch('auth.signIn', { operatorCode: '1001', pin: 'abc' }, anonymous)
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('密码应为 6–12 位数字') }
    })
  })

  it('locks a code for five minutes after five wrong PINs, even against the right one', async () => {
    const clock = movableClock('2026-11-22T02:30:00Z')
    const runtime = await openTestRuntime({ clock })
    for (let i = 0; i < 5; i++)
      await runtime.dispatch('auth.signIn', { operatorCode: '1001', pin: '000000' }, anonymous)
    expect(
      await runtime.dispatch('auth.signIn', { operatorCode: '1001', pin: '111111' }, anonymous)
    ).toMatchObject({
      ok: false,
      error: { code: 'AUTH_LOCKED', message: expect.stringContaining('5 分钟') }
    })
    clock.advance(5 * 60 * 1000 + 1)
    expect(
      await runtime.dispatch('auth.signIn', { operatorCode: '1001', pin: '111111' }, anonymous)
    ).toMatchObject({ ok: true })
  })

  it('locks after five wrong PINs however many are sent at once, the right PIN among them included', async () => {
    const runtime = await openTestRuntime({ clock: movableClock('2026-11-22T02:30:00Z') })
    const tries = Array.from({ length: 60 }, (_, i) =>
      runtime.dispatch(
        'auth.signIn',
        { operatorCode: '1001', pin: i === 30 ? '111111' : '000000' },
        anonymous
      )
    )
    const answers = await Promise.all(tries)
    const codes = answers.map((answer) => (answer.ok ? 'OK' : answer.error.code))
    // The checks run one after another: five fail, the rest are refused as locked, unchecked.
    expect(codes.filter((code) => code === 'AUTH_FAILED')).toHaveLength(5)
    expect(codes.filter((code) => code === 'AUTH_LOCKED')).toHaveLength(55)
    expect(
      await runtime
        .db('audit_log')
        .where({ action: 'sign_in_failed' })
        .count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: 5 }])
  })

  it('a wrong supervisor PIN at an approval is audited as a failed approval, not a failed sign-in', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const order = {
      accountId: await accountIdOf(runtime, clerk, 'C33080001'),
      lines: [{ insured: { relation: 'self' as const }, productCode: 'QZ-HQB-2027', units: 1 }]
    }
    const sold = await commit(runtime, clerk, order, 'C33080001')
    if (!sold.ok) throw new Error(sold.error.message)
    const voided = await runtime.dispatch(
      'sale.void',
      {
        saleId: (sold.value as { saleId: string }).saleId,
        reason: '测试',
        supervisorCode: '9001',
        supervisorPin: '000000'
      },
      clerk
    )
    expect(voided).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } })
    const actions = await runtime
      .db('audit_log')
      .whereIn('action', ['approval_failed', 'sign_in_failed'])
      .pluck('action')
    expect(actions).toEqual(['approval_failed'])
  })

  it('ends a session nobody used for the idle time, and says why at the next call', async () => {
    const runtime = await openTestRuntime()
    let elapsed = 0
    const auth = createAuthService({
      operators: createOperatorsRepository(runtime.db, runtime.personalData),
      clock: movableClock('2026-11-22T02:30:00Z'),
      terminalId: 'T-TEST0001',
      log: recordingLogger(),
      idleMs: 15 * 60_000,
      elapsedMs: () => elapsed
    })
    const { token } = await auth.signIn('1001', '111111')
    elapsed += 14 * 60_000
    expect(auth.session(token)).toMatchObject({ operatorCode: '1001' })
    // Used at 14 minutes: the idle time counts from there.
    elapsed += 14 * 60_000
    expect(auth.session(token)).not.toBeNull()
    // The status bar's poll every 15 s is not someone at the counter.
    for (let poll = 0; poll < 60; poll++) {
      elapsed += 15_000
      expect(auth.session(token, { activity: false })).not.toBeNull()
    }
    elapsed += 1
    expect(auth.session(token, { activity: false })).toBeNull()
    expect(auth.endedForIdleness(token)).toBe(true)
    const asked: Array<[string, boolean]> = []
    const dispatch = createDispatcher(
      {} as Handlers,
      recordingLogger(),
      (t, activity) => {
        asked.push([t ?? '', activity])
        return auth.session(t, { activity })
      },
      (t) => (auth.endedForIdleness(t) ? '长时间未操作，已自动退出：请重新登录' : null)
    )
    expect(await dispatch('auth.session', {}, { transport: 'test', sessionToken: token })).toEqual({
      ok: false,
      error: { code: 'UNAUTHENTICATED', message: '长时间未操作，已自动退出：请重新登录' }
    })
    await dispatch('sync.status', {}, { transport: 'test', sessionToken: token })
    expect(asked).toEqual([
      [token, true],
      [token, false]
    ])
    expect(idleMinutesFrom({ COUNTER_IDLE_MINUTES: '5' })).toBe(5)
    for (const odd of ['0', '500', 'x', undefined])
      expect(idleMinutesFrom({ COUNTER_IDLE_MINUTES: odd })).toBe(15)
  })

  it('opens one shift per operator on this terminal, writes the audit log, and signs out', async () => {
    const log = recordingLogger()
    const runtime = await openTestRuntime({ log })
    const signIn = await runtime.dispatch('auth.signIn', { operatorCode: '2001', pin: '222222' }, anonymous)
    const context = {
      transport: 'test' as const,
      sessionToken: signIn.ok ? (signIn.value as { token: string }).token : ''
    }
    const first = await runtime.dispatch('auth.openShift', {}, context)
    expect(first).toMatchObject({ ok: true, value: { id: expect.any(Number), operatorCode: '2001' } })
    expect(await runtime.dispatch('auth.openShift', {}, context)).toEqual(first)
    expect(await runtime.dispatch('auth.session', {}, context)).toMatchObject({
      ok: true,
      value: { shift: first.ok ? first.value : null }
    })
    expect(await runtime.db('audit_log').orderBy('id').pluck('action')).toEqual(['sign_in', 'shift_open'])

    expect(await runtime.dispatch('auth.signOut', {}, context)).toEqual({
      ok: true,
      value: { signedOut: true }
    })
    expect(await runtime.dispatch('auth.session', {}, context)).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' }
    })
    expect(log.lines.join()).not.toContain('222222')
  })
})
