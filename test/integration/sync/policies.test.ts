import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { CardholderView } from '../../../core/cardholder'
import type { QuoteView, ReceiptView } from '../../../core/sale'
import type { RejectionView } from '../../../core/supervision'
import { DATABASE_FILE_NAME } from '../../../backend/runtime'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import { accountIdOf, APPLICANT_MOBILE, commit, onShift, saleTables } from '../../support/sale-fixtures'
import { ok, registerTerminal } from '../../support/sync'

/**
 * The applicant and the policy (#17) through the terminal: the mobile checked, sealed, masked and
 * sent; the insurer's policy number brought by a later sync to history, receipt and cardholder
 * panel; and a terminal facing a centre of protocol 1 still sells.
 */

async function online(options: { policyDelayMs?: number; protocol?: 1 | 2 } = {}) {
  const centre = await openTestHub(options)
  const runtime = await openTestRuntime({
    clock: centre.clock,
    syncTuning: { timeoutMs: 5_000, random: () => 0.5 }
  })
  await registerTerminal(runtime, centre.url)
  const clerk = await onShift(runtime)
  return { centre, runtime, clerk }
}

const yunnanOrder = (accountId: number, applicantMobile?: string) => ({
  accountId,
  lines: [{ insured: { relation: 'self' as const }, productCode: 'YN-JRAK', units: 1 }],
  ...(applicantMobile === undefined ? {} : { applicantMobile })
})

describe('the applicant’s mobile', () => {
  it('is required where the rules say, checked as typed, sealed at rest, masked on the receipt, and sent to the centre', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'A53000001')
    const quote = async (mobile?: string) =>
      (await ok<QuoteView>(runtime.dispatch('sale.quote', yunnanOrder(accountId, mobile), clerk))).applicant
    expect(await quote()).toEqual({
      mobileRequired: true,
      mobileMasked: null,
      problem: '请填写投保人手机号（本地区规则要求登记）'
    })
    expect((await quote('1391234567')).problem).toBe('投保人手机号应为 11 位数字（现为 10 位）')
    expect((await quote('12912345678')).problem).toBe('投保人不是手机号：手机号以 13–19 开头')
    expect(await quote('+86 139-1234-5678')).toEqual({
      mobileRequired: true,
      mobileMasked: '139****5678',
      problem: null
    })

    // Refused without it, and nothing written.
    const before = await saleTables(runtime)
    const refused = await commit(runtime, clerk, yunnanOrder(accountId, ''), 'A53000001')
    expect(refused).toMatchObject({ ok: false, error: { code: 'SALE_REFUSED' } })
    expect(!refused.ok && refused.error.message).toContain('投保人手机号')
    expect(await saleTables(runtime)).toEqual(before)

    const sold = await ok<ReceiptView>(
      commit(runtime, clerk, yunnanOrder(accountId, '+86 139-1234-5678'), 'A53000001')
    )
    expect(sold.applicantMobileMasked).toBe('139****5678')
    const outbox = await runtime.db('outbox').where({ sale_id: sold.saleId }).first('payload_sealed')
    expect(JSON.parse(runtime.personalData.open(outbox.payload_sealed))).toMatchObject({
      applicant: { mobile: APPLICANT_MOBILE }
    })
    // Sealed like names: the digits are in no column of the database file.
    await runtime.db.raw('pragma wal_checkpoint(truncate)')
    const file = await readFile(join(runtime.dataDir, DATABASE_FILE_NAME))
    expect(file.includes(APPLICANT_MOBILE)).toBe(false)

    // Where the rules do not require it, a sale goes without.
    const quzhou = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: await accountIdOf(runtime, clerk, 'C33080001'),
          lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }],
          applicantMobile: ''
        },
        'C33080001'
      )
    )
    expect(quzhou.applicantMobileMasked).toBeNull()
  })

  it('a rejected sale’s follow-up shows it masked; the whole number only on request, and the audit log says who asked', async () => {
    const { runtime, clerk } = await online()
    // The centre refuses the wrong password: the sale is kept as rejected.
    const refused = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        yunnanOrder(await accountIdOf(runtime, clerk, 'A53000001'), APPLICANT_MOBILE),
        'A53000001',
        {
          pin: '000000'
        }
      )
    )
    expect(refused.status).toBe('rejected')
    await runtime
      .db('sales')
      .where({ id: refused.saleId })
      .update({ followed_up_at: null, followed_up_by: null })
    const supervisor = await signedIn(runtime, 'supervisor')
    const [listed] = await ok<RejectionView[]>(runtime.dispatch('rejections.list', {}, supervisor))
    expect(listed).toMatchObject({ saleId: refused.saleId, applicantMobileMasked: '139****5678' })
    expect(JSON.stringify(listed)).not.toContain(APPLICANT_MOBILE)
    expect(
      await runtime.dispatch('rejections.revealMobile', { saleId: refused.saleId }, clerk)
    ).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    expect(
      await ok(runtime.dispatch('rejections.revealMobile', { saleId: refused.saleId }, supervisor))
    ).toEqual({ mobile: APPLICANT_MOBILE })
    const audit = await runtime
      .db('audit_log')
      .where({ action: 'applicant_mobile_revealed', subject: refused.saleId })
      .count<Array<{ n: number }>>({ n: '*' })
    expect(audit[0].n).toBe(1)
  })
})

describe('the policy number, from the insurer through the centre', () => {
  it('comes with a later sync once the insurer issued it, to the receipt, the history and the cardholder panel', async () => {
    const { centre, runtime, clerk } = await online({ policyDelayMs: 10 * 60_000 })
    const accountId = await accountIdOf(runtime, clerk, 'A53000001')
    const sold = await ok<ReceiptView>(commit(runtime, clerk, yunnanOrder(accountId), 'A53000001'))
    expect(sold.status).toBe('accepted')
    expect(sold.lines[0].policy).toBeNull()

    await ok(runtime.dispatch('sync.now', {}, clerk))
    const receipt = () => ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: sold.saleId }, clerk))
    expect((await receipt()).lines[0].policy).toBeNull()

    centre.clock.advance(10 * 60_000)
    await ok(runtime.dispatch('sync.now', {}, clerk))
    const policy = (await receipt()).lines[0].policy
    expect(policy).toEqual({
      policyNo: expect.stringMatching(/^BD539900\d{16}$/),
      issuedAt: centre.clock.now().toISOString()
    })
    const issued = await centre.db('policies').where({ sale_id: sold.saleId }).first('policy_no')
    expect(policy?.policyNo).toBe(issued.policy_no)

    const holder = await ok<CardholderView>(
      runtime.dispatch('cardholder.lookup', { input: 'A53000001' }, clerk)
    )
    expect(holder.holdings.find((h) => h.productCode === 'YN-JRAK')?.policyNo).toBe(policy?.policyNo)
    // Another sync brings nothing twice and changes nothing.
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect((await receipt()).lines[0].policy).toEqual(policy)
  })

  it('a centre of protocol 1: the terminal sends what it reads (no mobile), the sale is accepted, no policies are asked for', async () => {
    const { centre, runtime, clerk } = await online({ protocol: 1 })
    const sold = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: await accountIdOf(runtime, clerk, 'C33080001'),
          lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }]
        },
        'C33080001'
      )
    )
    expect(sold.status).toBe('accepted')
    // Kept here for the counter, not sent to a centre that would refuse the field.
    expect(sold.applicantMobileMasked).toBe('139****5678')
    expect(await centre.db('sale_applicants').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 0 }])
    expect(await runtime.db('settings').where({ key: 'sync.centre_protocol' }).first('value')).toEqual({
      value: '1'
    })
  })
})
