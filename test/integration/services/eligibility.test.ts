import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { EligibilityView } from '../../../core/eligibility'
import { fixedClock } from '../../../core/time'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import type { CounterRuntime } from '../../../backend/runtime'
import { DEMO_KEY_ID, signPayload } from '../../../backend/shared'
import { openTestRuntime, recordingLogger, signedIn } from '../../support/helpers'

const bundlesDir = join(import.meta.dirname, '../../../bundles')

async function accountIdOf(runtime: CounterRuntime, card: string): Promise<number> {
  const result = await runtime.dispatch('cardholder.lookup', { input: card }, await signedIn(runtime))
  if (!result.ok) throw new Error(result.error.message)
  return (result.value as { accountId: number }).accountId
}

async function offersFor(runtime: CounterRuntime, card: string): Promise<EligibilityView> {
  const result = await runtime.dispatch(
    'eligibility.offers',
    { accountId: await accountIdOf(runtime, card) },
    await signedIn(runtime)
  )
  if (!result.ok) throw new Error(result.error.message)
  return result.value as EligibilityView
}

const offer = (view: EligibilityView, code: string) => view.offers.find((o) => o.code === code)

describe('what the counter shows after a swipe, from the signed demo bundles', () => {
  it('Yunnan, 1,800.00: only the part above 1,000 may be spent, one adult unit of 500', async () => {
    const view = await offersFor(await openTestRuntime(), 'A53000001')
    expect(view.rules).toMatchObject({ regionCode: '539900', version: 2 })
    expect(view.maxSpendFen).toBe(80_000)
    expect(offer(view, 'YN-JRAK')).toMatchObject({
      available: true,
      allowed: { units: { min: 1, max: 1 }, unitPriceFen: 50_000 }
    })
    // The minors' product is not for an adult cardholder buying for themselves.
    expect(offer(view, 'YN-BBAK')?.available).toBe(false)
  })

  it('Yunnan, exactly 1,000.00: "超过" excludes the number, so nothing may be spent', async () => {
    const view = await offersFor(await openTestRuntime(), 'A53000002')
    expect(view.maxSpendFen).toBe(0)
    expect(view.offers.every((o) => !o.available)).toBe(true)
    expect(
      offer(view, 'YN-JRAK')
        ?.reasons.map((r) => r.text)
        .join('\n')
    ).toMatch(/1,000\.00/)
  })

  it('Tibet, 2,999.99: one fen below the threshold, refused with the numbers', async () => {
    const view = await offersFor(await openTestRuntime(), 'B54000002')
    expect(view.offers.every((o) => !o.available)).toBe(true)
    expect(view.offers[0].reasons.map((r) => r.text).join('\n')).toContain('2,999.99')
  })

  it('Suzhou: this year’s fitness-card transfer of 500.00 counts against the 1,000.00 limit', async () => {
    const view = await offersFor(await openTestRuntime(), 'D32050002')
    expect(offer(view, 'SZ-HEALTH-DEMO')).toMatchObject({
      available: true,
      allowed: { amountsFen: [50_000] }
    })
  })

  it('Shenyang, 6,500.00: 4,500 above the threshold, capped at 4,000 a year', async () => {
    const view = await offersFor(await openTestRuntime(), 'E21010002')
    expect(view.maxSpendFen).toBe(400_000)
  })

  it('a resident-insurance card has no personal account to spend', async () => {
    const view = await offersFor(await openTestRuntime(), 'F31000002')
    expect(view.offers.every((o) => !o.available)).toBe(true)
  })
})

describe('a full decision, rule by rule', () => {
  const tibet = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'B54000001')
  const spouse = tibet?.family.find((m) => m.relation === 'spouse')
  const son = tibet?.family.find((m) => m.relation === 'child')

  it('lets a bound spouse have the women-only product, and refuses it for a son', async () => {
    const runtime = await openTestRuntime()
    const forSpouse = await runtime.dispatch(
      'eligibility.check',
      {
        payer: { card: 'B54000001' },
        insured: { relation: 'spouse', idNumber: spouse?.idNumber },
        productCode: 'XZ-FEMALE-SD',
        units: 1
      },
      await signedIn(runtime)
    )
    expect(forSpouse).toMatchObject({
      ok: true,
      value: {
        eligible: true,
        insured: { boundToAccount: true, gender: 'female' },
        allowed: { premiumFen: 12_000 }
      }
    })
    const forSon = await runtime.dispatch(
      'eligibility.check',
      {
        payer: { card: 'B54000001' },
        insured: { relation: 'child', idNumber: son?.idNumber },
        productCode: 'XZ-FEMALE-SD',
        units: 1
      },
      await signedIn(runtime)
    )
    expect(forSon).toMatchObject({ ok: true, value: { eligible: false } })
  })

  it('refuses a relative not bound to the account in Tibet, saying why', async () => {
    const runtime = await openTestRuntime()
    const stranger = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'B54000002')?.idNumber
    const result = await runtime.dispatch(
      'eligibility.check',
      {
        payer: { card: 'B54000001' },
        insured: { relation: 'sibling', idNumber: stranger },
        productCode: 'XZ-CARE',
        units: 1
      },
      await signedIn(runtime)
    )
    expect(result).toMatchObject({ ok: true, value: { eligible: false, insured: { boundToAccount: false } } })
    const failed = result.ok
      ? (result.value as { checks: Array<{ passed: boolean; text: string }> }).checks.filter((c) => !c.passed)
      : []
    expect(failed.map((c) => c.text).join('\n')).toContain('绑定')
  })

  it('sells the illustrative 2027 Quzhou policy now, refuses the 2021 one (enrolment closed), and has no rules for 2021', async () => {
    const runtime = await openTestRuntime()
    const request = { payer: { card: 'C33080001' }, insured: { relation: 'self' as const }, units: 1 }
    expect(
      await runtime.dispatch(
        'eligibility.check',
        { ...request, productCode: 'QZ-HQB-2027' },
        await signedIn(runtime)
      )
    ).toMatchObject({
      ok: true,
      value: { eligible: true, allowed: { premiumFen: 10_000 } }
    })
    const closed = await runtime.dispatch(
      'eligibility.check',
      { ...request, productCode: 'QZ-HQB-2021' },
      await signedIn(runtime)
    )
    expect(closed).toMatchObject({ ok: true, value: { eligible: false } })
    // Decided as at a past time, with the clock of that time: the bundle was not in force then.
    expect(
      await runtime.dispatch(
        'eligibility.check',
        { ...request, productCode: 'QZ-HQB-2021', at: '2021-01-15T10:00:00+08:00' },
        await signedIn(runtime)
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'RULES_UNAVAILABLE', message: expect.stringContaining('尚未生效') }
    })
  })

  it('refuses an unknown product and a malformed insured ID in Chinese', async () => {
    const runtime = await openTestRuntime()
    expect(
      await runtime.dispatch(
        'eligibility.check',
        { payer: { card: 'B54000001' }, insured: { relation: 'self' }, productCode: 'NOPE' },
        await signedIn(runtime)
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: '西藏自治区规则包中没有产品 NOPE' }
    })
    expect(
      await runtime.dispatch(
        'eligibility.check',
        {
          payer: { card: 'B54000001' },
          insured: { relation: 'spouse', idNumber: '12345' },
          productCode: 'XZ-CARE'
        },
        await signedIn(runtime)
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'CARD_MALFORMED', message: expect.stringContaining('被保险人') }
    })
  })
})

describe('rule bundles held by the terminal', () => {
  it('imports the six demo bundles into a fresh data folder', async () => {
    const runtime = await openTestRuntime()
    expect(await runtime.db('rule_bundles').orderBy('region_code').pluck('region_code')).toEqual([
      '210100',
      '310000',
      '320500',
      '330800',
      '539900',
      '540000'
    ])
  })

  it('takes the same bundle again as unchanged, and refuses an altered one, keeping the last good', async () => {
    const runtime = await openTestRuntime()
    const envelope = await readFile(join(bundlesDir, 'signed', '540000-v2.bundle.json'), 'utf8')
    const supervisor = await signedIn(runtime, 'supervisor')
    expect(await runtime.dispatch('rules.import', { envelope }, supervisor)).toEqual({
      ok: true,
      value: { regionCode: '540000', regionName: '西藏自治区', version: 2, status: 'unchanged' }
    })
    const altered = envelope.replace('150000', '950000')
    expect(altered).not.toBe(envelope)
    expect(await runtime.dispatch('rules.import', { envelope: altered }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'RULES_REFUSED' }
    })
    expect(await offersFor(runtime, 'B54000001')).toMatchObject({ maxSpendFen: 150_000 })
  })

  it('refuses a genuine bundle for a region the terminal does not serve, through the supervisor’s import', async () => {
    const runtime = await openTestRuntime()
    const supervisor = await signedIn(runtime, 'supervisor')
    const source = JSON.parse(await readFile(join(bundlesDir, 'sources', '330800-quzhou.json'), 'utf8')) as {
      region: { code: string; name: string }
    }
    const key = await readFile(join(bundlesDir, 'keys', `${DEMO_KEY_ID}.private.pem`), 'utf8')
    // Signed with a trusted key and valid in every other way: only the region is not this terminal's.
    const beijing = signPayload(
      JSON.stringify({ ...source, region: { code: '110000', name: '北京市' } }),
      key,
      DEMO_KEY_ID
    )
    expect(await runtime.dispatch('rules.import', { envelope: beijing }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'RULES_REFUSED', message: expect.stringContaining('本终端不办理该地区业务') }
    })
    expect(await runtime.db('rule_bundles').where({ region_code: '110000' }).count({ n: '*' })).toEqual([
      { n: 0 }
    ])

    // Registered for Quzhou alone: Tibet's genuine bundle is not taken either.
    await runtime.db('settings').insert({ key: 'sync.region_codes', value: JSON.stringify(['330800']) })
    const tibetV2 = signPayload(
      JSON.stringify({
        ...JSON.parse(await readFile(join(bundlesDir, 'sources', '540000-tibet.json'), 'utf8')),
        version: 2
      }),
      key,
      DEMO_KEY_ID
    )
    expect(await runtime.dispatch('rules.import', { envelope: tibetV2 }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'RULES_REFUSED', message: expect.stringContaining('540000') }
    })
  })

  it('refuses a bundle row edited in the database, and says so in the log', async () => {
    const log = recordingLogger()
    const runtime = await openTestRuntime({ log })
    const row = await runtime
      .db('rule_bundles')
      .where({ region_code: '210100' })
      .first<{ envelope: string }>()
    await runtime
      .db('rule_bundles')
      .where({ region_code: '210100' })
      .update({ envelope: row.envelope.replace('400000', '900000') })
    const reopened = await openTestRuntime({
      log,
      dataDir: runtime.dataDir,
      clock: fixedClock('2026-11-22T03:00:00Z')
    })
    const view = await offersFor(reopened, 'E21010002')
    expect(view.rules).toBeNull()
    expect(view.unavailableReason).toContain('没有已生效的规则包')
    expect(
      log.lines.some((line) => line.includes('rule_bundle_refused_at_load') && line.includes('BAD_SIGNATURE'))
    ).toBe(true)
  })
})

describe('what may be spent, on screen', () => {
  it('is nothing while the account fails an account rule (Tibet, 2,999.99), whatever the yearly cap', async () => {
    const view = await offersFor(await openTestRuntime(), 'B54000002')
    expect(view.maxSpendFen).toBe(0)
  })
})
