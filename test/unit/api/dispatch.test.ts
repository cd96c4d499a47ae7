import { describe, expect, it } from 'vitest'
import { contract, type Caller, type Handlers } from '../../../core/api/contract'
import { AppError } from '../../../core/errors'
import { createDispatcher } from '../../../backend/api/dispatch'
import { recordingLogger } from '../../support/helpers'

const context = { transport: 'test', sessionToken: 'clerk-token' } as const
const clerk: Caller = {
  token: 'clerk-token',
  operatorId: 1,
  operatorCode: '1001',
  role: 'clerk',
  pinChangeRequired: false
}
const authenticate = (token: string | undefined) => (token === clerk.token ? clerk : null)

/** Every call of the contract unused by a test, then the one under test. */
function handlersWith(lookup: Handlers['cardholder.lookup']): Handlers {
  const unused = Object.fromEntries(
    Object.keys(contract).map((name) => [
      name,
      async () => {
        throw new Error(`${name} is not used by this test`)
      }
    ])
  ) as unknown as Handlers
  return { ...unused, 'cardholder.lookup': lookup }
}

describe('the dispatcher both transports share', () => {
  it('refuses a call the contract does not list, before any service runs', async () => {
    let ran = false
    const dispatch = createDispatcher(
      handlersWith(async () => {
        ran = true
        throw new Error('unreachable')
      }),
      recordingLogger(),
      authenticate
    )
    expect(await dispatch('accounts.deleteAll', {}, context)).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_CALL', message: '程序不支持此操作（accounts.deleteAll）' }
    })
    expect(await dispatch('__proto__', {}, context)).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_CALL' }
    })
    expect(ran).toBe(false)
  })

  it('refuses arguments that do not fit the schema, naming the field in Chinese', async () => {
    let ran = false
    const dispatch = createDispatcher(
      handlersWith(async () => {
        ran = true
        throw new Error('unreachable')
      }),
      recordingLogger(),
      authenticate
    )
    const wrongType = await dispatch('cardholder.lookup', { input: 42 }, context)
    expect(wrongType).toEqual({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        // In the operator's words: the field's Chinese name, never `input`.
        message: expect.stringMatching(/^卡号或身份证号不正确：.*(字符串|string)/),
        // The field by its name, apart from the words: a form puts them under that field.
        field: { path: 'input', message: expect.stringMatching(/字符串|string/) }
      }
    })
    // A nested argument is named by its whole path.
    const nested = await dispatch(
      'sale.quote',
      { accountId: 1, lines: [{ insured: { relation: 'self' }, productCode: 'X', units: 0 }] },
      context
    )
    expect(nested).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^份数不正确：/),
        field: { path: 'lines.0.units' }
      }
    })
    const extraKey = await dispatch(
      'cardholder.lookup',
      { input: 'A53000001', sql: 'drop table accounts' },
      context
    )
    expect(extraKey).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('sql') }
    })
    const tooLong = await dispatch('cardholder.lookup', { input: 'x'.repeat(257) }, context)
    expect(tooLong).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(ran).toBe(false)
  })

  it('passes an expected refusal through with its code and message', async () => {
    const dispatch = createDispatcher(
      handlersWith(async () => {
        throw new AppError('CARD_NOT_FOUND', '没有这张卡')
      }),
      recordingLogger(),
      authenticate
    )
    expect(await dispatch('cardholder.lookup', { input: 'A53000001' }, context)).toEqual({
      ok: false,
      error: { code: 'CARD_NOT_FOUND', message: '没有这张卡' }
    })
  })

  it('answers a crash with a generic message and logs the call name, never the arguments or the error text', async () => {
    const log = recordingLogger()
    const dispatch = createDispatcher(
      handlersWith(async ({ input }) => {
        throw new TypeError(`cannot read ${input}`)
      }),
      log,
      authenticate
    )
    const result = await dispatch('cardholder.lookup', { input: '11010519491231002X' }, context)
    expect(result).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: expect.stringContaining('系统内部错误') }
    })
    expect(JSON.stringify(result)).not.toContain('11010519491231002X')
    expect(log.lines).toHaveLength(1)
    expect(JSON.parse(log.lines[0])).toMatchObject({
      level: 'error',
      event: 'call_failed',
      call: 'cardholder.lookup',
      error: 'TypeError'
    })
    expect(log.lines[0]).not.toContain('11010519491231002X')
  })

  it('refuses an operator call without a session, and a supervisor call from a clerk', async () => {
    const dispatch = createDispatcher(
      handlersWith(async () => {
        throw new Error('unreachable')
      }),
      recordingLogger(),
      authenticate
    )
    expect(await dispatch('cardholder.lookup', { input: 'A53000001' }, { transport: 'http' })).toEqual({
      ok: false,
      error: { code: 'UNAUTHENTICATED', message: '请先登录' }
    })
    expect(
      await dispatch(
        'cardholder.lookup',
        { input: 'A53000001' },
        { transport: 'http', sessionToken: 'forged' }
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' }
    })
    expect(await dispatch('rules.import', { envelope: '{}' }, context)).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: '只有主管可以使用此功能' }
    })
  })

  it('gives every call of the contract a summary in Chinese', () => {
    for (const [name, spec] of Object.entries(contract)) expect(spec.summary, name).toMatch(/[\u4e00-\u9fff]/)
  })
})
