import { describe, expect, it } from 'vitest'
import { PROTOCOL_HEADER, policiesResponseSchema, rulesResponseSchema } from '../../../core/sync/protocol'
import { DEMO_TRUSTED_KEYS } from '../../../backend/services/rules/keys'
import { verifyBundle } from '../../../backend/services/rules/load'
import * as v1 from '../../support/protocol-v1'
import { accountAtCentre, call, DEMO_MOBILE, openTestHub, register, saleFor, upload } from '../../support/hub'

/**
 * Protocol version 2 (#17) beside version 1, over real HTTP: a terminal built before #17 sends no
 * version header and parses with the strict schemas of version 1 (test/support/protocol-v1.ts,
 * as shipped); it must get nothing it would refuse. A terminal of version 2 gets the new fields.
 */

/** Every line of a snapshot as a terminal of version 1 parses it: strict, so an unknown field throws. */
function parseAsVersion1(text: string) {
  const lines = text.trimEnd().split('\n')
  const header = v1.snapshotHeaderSchema.parse(JSON.parse(lines[0]))
  const accounts = lines.slice(1, -1).map((line) => v1.accountLineSchema.parse(JSON.parse(line)))
  v1.snapshotEndSchema.parse(JSON.parse(lines.at(-1) ?? ''))
  return { header, accounts }
}

describe('protocol versions 1 and 2 at one centre', () => {
  it('a terminal of version 1 gets format-1 rules, a snapshot it can parse and answers without the new fields', async () => {
    const { url, clock } = await openTestHub({ policyDelayMs: 0 })
    const terminal = await register(url, 'T-OLD00001')
    const asOld = { token: terminal.token, protocol: 1 as const }

    const rules = await call(url, '/v1/rules?region=539900', asOld)
    expect(rules.headers.get('etag')).toBe('"539900-v1"')
    const verified = verifyBundle(rulesResponseSchema.parse(rules.json()).envelope, DEMO_TRUSTED_KEYS)
    expect(verified.ok && verified.value.bundle.format).toBe('yibao-rule-bundle/1')

    // A sale under the format-1 rules, without the applicant's mobile: settled as before.
    const sale = {
      ...saleFor('A53000001', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], { mobile: null })
    }
    const old = { ...sale, rules: { ...sale.rules, version: 1 }, terminalId: terminal.terminalId }
    const answer = await call(url, '/v1/transactions', {
      ...asOld,
      body: { terminalId: terminal.terminalId, items: [old] }
    })
    expect(answer.status).toBe(200)
    expect(v1.uploadResponseSchema.parse(answer.json()).results[0].outcome).toBe('accepted')

    // The insurer has issued the policy; the version-1 snapshot still carries no policy number.
    clock.advance(60_000)
    const snapshot = await call(url, '/v1/snapshot', asOld)
    const parsed = parseAsVersion1(snapshot.text)
    expect(parsed.header.protocol).toBe(1)
    const holder = parsed.accounts.find((a) => a.cardNumber === 'A53000001')
    expect(holder?.holdings.map((h) => h.productCode)).toContain('YN-JRAK')
    expect(snapshot.text).not.toContain('policyNo')

    // Its calls do not exist for version 1, and its fields are refused whole, as version 1 refused them.
    expect((await call(url, '/v1/policies?after=0', asOld)).status).toBe(404)
    const withMobile = saleFor('A53000002', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }])
    const refused = await call(url, '/v1/transactions', {
      ...asOld,
      body: { terminalId: terminal.terminalId, items: [{ ...withMobile, terminalId: terminal.terminalId }] }
    })
    expect(refused.status).toBe(400)
    expect(refused.error().message).toContain('applicant')
    // Nor an instalment, which a version-1 centre would settle as a new policy.
    const renewal = saleFor('A53000001', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], { mobile: null })
    const instalment = {
      ...renewal,
      terminalId: terminal.terminalId,
      lines: renewal.lines.map((l) => ({
        ...l,
        instalment: { saleId: renewal.saleId, lineNo: 1, sequence: 2 }
      }))
    }
    const refusedInstalment = await call(url, '/v1/transactions', {
      ...asOld,
      body: { terminalId: terminal.terminalId, items: [instalment] }
    })
    expect(refusedInstalment.status).toBe(400)
    expect(refusedInstalment.error().message).toContain('续期')
  })

  it('a terminal of version 2: the centre names its version, requires the mobile where the rules do, and issues policies after its delay', async () => {
    const { url, clock, db } = await openTestHub({ policyDelayMs: 3_600_000 })
    const terminal = await register(url, 'T-NEW00001')
    const health = await call(url, '/v1/health')
    expect(health.headers.get(PROTOCOL_HEADER)).toBe('2')
    expect((await call(url, '/v1/rules?region=539900', { token: terminal.token })).headers.get('etag')).toBe(
      '"539900-v2"'
    )
    const id = terminal.terminalId
    const line = [{ productCode: 'YN-JRAK', premiumFen: 50_000 }]
    const [missing] = await upload(url, terminal.token, id, [
      saleFor('A53000001', line, { terminalId: id, mobile: null })
    ])
    expect(missing).toMatchObject({ outcome: 'rejected', code: 'INVALID_ITEM' })
    expect(missing.outcome === 'rejected' && missing.message).toContain('投保人手机号')

    const sale = saleFor('A53000001', line, { terminalId: id })
    expect((await upload(url, terminal.token, id, [sale]))[0].outcome).toBe('accepted')
    expect(await db('sale_applicants').where({ sale_id: sale.saleId }).first('mobile')).toEqual({
      mobile: DEMO_MOBILE
    })

    const policies = async (after: number) =>
      policiesResponseSchema.parse(
        (await call(url, `/v1/policies?after=${after}`, { token: terminal.token })).json()
      )
    // Accepted, but the insurer has not issued yet.
    expect(await policies(0)).toEqual({ policies: [], cursor: 0, more: false })
    expect(
      (await accountAtCentre(url, terminal.token, 'A53000001')).holdings.find(
        (h) => h.productCode === 'YN-JRAK'
      )
    ).not.toHaveProperty('policyNo')

    clock.advance(3_600_000)
    const issued = await policies(0)
    expect(issued.policies).toEqual([
      {
        saleId: sale.saleId,
        lineNo: 1,
        policyNo: expect.stringMatching(/^BD539900\d{8}\d{8}$/),
        coverFrom: sale.lines[0].coverFrom,
        coverTo: sale.lines[0].coverTo,
        issuedAt: clock.now().toISOString()
      }
    ])
    expect(issued.cursor).toBeGreaterThan(0)
    // Asked again from the cursor: nothing new. The snapshot's holding carries the number too.
    expect((await policies(issued.cursor)).policies).toEqual([])
    const holding = (await accountAtCentre(url, terminal.token, 'A53000001')).holdings.find(
      (h) => h.productCode === 'YN-JRAK'
    )
    expect(holding?.policyNo).toBe(issued.policies[0].policyNo)
    // A product paid yearly: the policy's first line, its units, and the second instalment due when the cover ends.
    expect(holding).toMatchObject({
      policyRef: { saleId: sale.saleId, lineNo: 1 },
      units: 1,
      instalments: {
        paid: 1,
        years: 10,
        nextDueAt: sale.lines[0].coverTo,
        graceEndsAt: new Date(Date.parse(sale.lines[0].coverTo) + 60 * 86_400_000).toISOString()
      }
    })
    // Another terminal sees none of this terminal's policies.
    const other = await register(url, 'T-NEW00002')
    expect(
      policiesResponseSchema.parse((await call(url, '/v1/policies?after=0', { token: other.token })).json())
        .policies
    ).toEqual([])
  })

  it('a centre playing version 1 names no version and refuses version 2 fields', async () => {
    const { url } = await openTestHub({ protocol: 1 })
    const terminal = await register(url, 'T-NEW00003')
    expect((await call(url, '/v1/health')).headers.get(PROTOCOL_HEADER)).toBeNull()
    // Even a terminal announcing version 2 is answered in version 1.
    expect((await call(url, '/v1/rules?region=539900', { token: terminal.token })).headers.get('etag')).toBe(
      '"539900-v1"'
    )
    expect((await call(url, '/v1/policies?after=0', { token: terminal.token })).status).toBe(404)
    const refused = await call(url, '/v1/transactions', {
      token: terminal.token,
      body: {
        terminalId: terminal.terminalId,
        items: [
          saleFor('A53000001', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
            terminalId: terminal.terminalId
          })
        ]
      }
    })
    expect(refused.status).toBe(400)
  })
})
