import { describe, expect, it } from 'vitest'
import { tokenGrantSchema } from '../../../core/sync/protocol'
import { DEMO_REGIONS } from '../../../db/seeds/demo-population'
import { call, openTestHub, register } from '../../support/hub'

describe('hub: registration and tokens', () => {
  it('registers with DEMO-ALL for all six demo regions, and the token opens the other calls', async () => {
    const { url } = await openTestHub()
    const terminal = await register(url, 'T-DEMO0001', 'DEMO-ALL')
    expect(terminal.regionCodes).toEqual(DEMO_REGIONS.map((r) => r.code).sort())
    expect(Date.parse(terminal.tokenExpiresAt) - Date.parse('2026-11-22T02:30:00.000Z')).toBe(12 * 3600_000)
    expect((await call(url, '/v1/rules?region=330800', { token: terminal.token })).status).toBe(200)
    // DEMO-ALL is for demos: any number of terminals may use it.
    expect((await register(url, 'T-DEMO0002', 'DEMO-ALL')).regionCodes).toHaveLength(6)
  })

  it('a one-time code serves its region, binds to the first terminal, and re-registering it re-issues credentials', async () => {
    const { url } = await openTestHub()
    const first = await register(url, 'T-QUZHOU01', 'DEMO-330800')
    expect(first.regionCodes).toEqual(['330800'])

    const other = await call(url, '/v1/terminals', {
      body: {
        enrolmentCode: 'DEMO-330800',
        terminalId: 'T-QUZHOU02',
        territory: '另一台',
        appVersion: '0.1.0',
        publicKeyPem: first.publicKeyPem
      }
    })
    expect(other.status).toBe(403)
    expect(other.error()).toMatchObject({
      code: 'ENROLMENT_REFUSED',
      message: expect.stringContaining('已被其他终端使用')
    })

    // The same terminal again (its first answer lost, or reinstalled): new credentials, the old ones die.
    const again = await register(url, 'T-QUZHOU01', 'DEMO-330800')
    expect(again.token).not.toBe(first.token)
    expect((await call(url, '/v1/rules?region=330800', { token: first.token })).status).toBe(401)
    expect(
      (await call(url, '/v1/terminals/T-QUZHOU01/token', { body: { refreshSecret: first.refreshSecret } }))
        .status
    ).toBe(401)
    expect((await call(url, '/v1/rules?region=330800', { token: again.token })).status).toBe(200)
  })

  it('refuses an unknown code, a body not in the protocol and a key that is not Ed25519, with Chinese reasons', async () => {
    const { url } = await openTestHub()
    const good = await register(url, 'T-GOOD0001')
    const base = {
      enrolmentCode: 'NOPE-1234',
      terminalId: 'T-BAD00001',
      territory: '大厅',
      appVersion: '0.1.0',
      publicKeyPem: good.publicKeyPem
    }

    const unknown = await call(url, '/v1/terminals', { body: base })
    expect(unknown.status).toBe(403)
    expect(unknown.error()).toEqual({
      code: 'ENROLMENT_REFUSED',
      message: expect.stringContaining('注册码无效')
    })

    const missing = await call(url, '/v1/terminals', {
      body: { ...base, enrolmentCode: 'DEMO-ALL', territory: undefined }
    })
    expect(missing.status).toBe(400)
    expect(missing.error()).toEqual({ code: 'BAD_REQUEST', message: expect.stringContaining('territory') })

    const rsa =
      '-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAL7NhJ2dGcWDJ0Tg==\n-----END PUBLIC KEY-----\n'
    const badKey = await call(url, '/v1/terminals', {
      body: { ...base, enrolmentCode: 'DEMO-ALL', publicKeyPem: rsa }
    })
    expect(badKey.status).toBe(400)
    expect(badKey.error().message).toContain('Ed25519')

    const notJson = await call(url, '/v1/terminals', { rawBody: '{"enrolmentCode":' })
    expect(notJson.status).toBe(400)
    expect(notJson.error()).toEqual({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('不是有效的 JSON')
    })
  })

  it('renews the token with the refresh secret; a wrong secret or unknown terminal is 401', async () => {
    const { url, clock } = await openTestHub()
    const terminal = await register(url, 'T-RENEW001')
    clock.advance(3600_000)
    const renewed = await call(url, '/v1/terminals/T-RENEW001/token', {
      body: { refreshSecret: terminal.refreshSecret }
    })
    expect(renewed.status).toBe(200)
    const grant = tokenGrantSchema.parse(renewed.json())
    expect(grant.token).not.toBe(terminal.token)
    expect(grant.tokenExpiresAt).toBe('2026-11-22T15:30:00.000Z')
    expect((await call(url, '/v1/rules?region=210100', { token: grant.token })).status).toBe(200)

    const wrong = await call(url, '/v1/terminals/T-RENEW001/token', {
      body: { refreshSecret: 'x'.repeat(43) }
    })
    expect(wrong.status).toBe(401)
    expect(wrong.error().code).toBe('UNAUTHENTICATED')
    expect(
      (await call(url, '/v1/terminals/T-NOBODY01/token', { body: { refreshSecret: terminal.refreshSecret } }))
        .status
    ).toBe(401)
  })

  it('answers 401 with the error body for no token, an unknown one and an expired one; renewal brings it back', async () => {
    const { url, clock } = await openTestHub()
    const terminal = await register(url, 'T-EXPIRE01')
    for (const token of [undefined, 'not-a-real-token-at-all']) {
      const answer = await call(url, '/v1/snapshot', { token })
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toBe('Bearer')
      expect(answer.error()).toEqual({ code: 'UNAUTHENTICATED', message: expect.stringContaining('令牌') })
    }
    clock.advance(12 * 3600_000)
    const expired = await call(url, '/v1/rules?region=210100', { token: terminal.token })
    expect(expired.status).toBe(401)
    expect(expired.error().code).toBe('UNAUTHENTICATED')
    const renewed = tokenGrantSchema.parse(
      (
        await call(url, '/v1/terminals/T-EXPIRE01/token', { body: { refreshSecret: terminal.refreshSecret } })
      ).json()
    )
    expect((await call(url, '/v1/rules?region=210100', { token: renewed.token })).status).toBe(200)
  })

  it('answers unknown paths with 404 and a wrong method with 405, both with the error body', async () => {
    const { url } = await openTestHub()
    const missing = await call(url, '/v2/everything')
    expect(missing.status).toBe(404)
    expect(missing.error().code).toBe('NOT_FOUND')
    const wrongMethod = await call(url, '/v1/transactions', { method: 'GET' })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('POST')
    expect(wrongMethod.error().code).toBe('METHOD_NOT_ALLOWED')
    expect((await call(url, '/v1/health')).json()).toEqual({ status: 'ok' })
    // The test hooks exist only when asked for.
    expect((await call(url, '/v1/_test/faults', { body: { unavailable: 1 } })).status).toBe(404)
  })
})
