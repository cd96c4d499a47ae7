import { describe, expect, it } from 'vitest'
import type { CardholderView } from '../../../core/cardholder'
import { openDatabase } from '../../../db/connection'
import { createMigrations } from '../../../db/migrations/index'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import { openTestRuntime, recordingLogger, signedIn, testCipher } from '../../support/helpers'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

describe('looking up a cardholder in the local snapshot', () => {
  it('finds a demo card and shows identity masked, balances in fen', async () => {
    const runtime = await openTestRuntime()
    const result = await runtime.dispatch(
      'cardholder.lookup',
      { input: 'B54000001' },
      await signedIn(runtime)
    )
    expect(result).toEqual({
      ok: true,
      value: {
        accountId: expect.any(Number),
        identifiedBy: 'social-security-card',
        cardNumberMasked: 'B****0001',
        nameMasked: '次***',
        idNumberMasked: expect.stringMatching(/^5401\*{10}\d{3}[\dX]$/),
        gender: 'male',
        age: 47,
        region: { code: '540000', name: '西藏自治区' },
        insuranceType: 'employee_active',
        status: 'active',
        balanceFen: 320_000,
        historicalBalanceFen: 200_000,
        balanceAsOf: '2026-11-22T02:30:00.000Z',
        boundFamilyMemberCount: 2,
        holdings: []
      } satisfies CardholderView
    })
  })

  it('finds the same cardholder by resident ID, typed in lower case', async () => {
    const runtime = await openTestRuntime()
    const specimen = DEMO_ACCOUNTS.find((account) => account.idNumber.endsWith('X'))
    expect(specimen, 'the demo population has an ID ending in X').toBeDefined()
    const result = await runtime.dispatch(
      'cardholder.lookup',
      { input: specimen?.idNumber.toLowerCase() },
      await signedIn(runtime)
    )
    expect(result).toMatchObject({
      ok: true,
      value: { identifiedBy: 'resident-id', cardNumberMasked: expect.stringMatching(/^\w\*{4}\d{4}$/) }
    })
  })

  it('answers an unknown card with CARD_NOT_FOUND and a Chinese message', async () => {
    const runtime = await openTestRuntime()
    expect(
      await runtime.dispatch('cardholder.lookup', { input: 'Z99999999' }, await signedIn(runtime))
    ).toEqual({
      ok: false,
      error: { code: 'CARD_NOT_FOUND', message: expect.stringContaining('本机账户数据中没有这张社会保障卡') }
    })
  })

  it('answers malformed input with CARD_MALFORMED saying what is wrong', async () => {
    const runtime = await openTestRuntime()
    expect(await runtime.dispatch('cardholder.lookup', { input: '12345' }, await signedIn(runtime))).toEqual({
      ok: false,
      error: { code: 'CARD_MALFORMED', message: '无法识别：应为 9 位社会保障卡号或 18 位身份证号，读到 5 位' }
    })
  })

  it('changes nothing in the database and logs no identity, whatever is looked up', async () => {
    const log = recordingLogger()
    const runtime = await openTestRuntime({ log })
    const clerk = await signedIn(runtime)
    const before = await snapshotOf(runtime.databaseFile)
    for (const input of ['A53000001', 'Z99999999', '12345', DEMO_ACCOUNTS[3].idNumber]) {
      await runtime.dispatch('cardholder.lookup', { input }, clerk)
    }
    expect(await snapshotOf(runtime.databaseFile)).toEqual(before)
    const logged = log.lines.join('\n')
    for (const account of DEMO_ACCOUNTS) {
      expect(logged).not.toContain(account.cardNumber)
      expect(logged).not.toContain(account.idNumber)
      expect(logged).not.toContain(account.name)
    }
  })

  it('lists what the cardholder and family already hold: the centre’s record and this terminal’s sales, masked, once each', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const holder = DEMO_ACCOUNTS.find((account) => account.cardNumber === 'C33080001')
    const spouse = holder?.family.find((member) => member.relation === 'spouse')
    if (!holder || !spouse) throw new Error('demo family missing')
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const sold = await commit(
      runtime,
      clerk,
      {
        accountId,
        lines: [
          { insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 },
          {
            insured: { relation: 'spouse', idNumber: spouse.idNumber, enrolmentConfirmed: true },
            productCode: 'QZ-HQB-2027',
            units: 1
          }
        ]
      },
      'C33080001'
    )
    if (!sold.ok) throw new Error(sold.error.message)
    const saleId = (sold.value as { saleId: string }).saleId
    const lines = await runtime.db('sale_lines').where({ sale_id: saleId }).orderBy('line_no')
    // The centre's record of the holder's line (after an upload and a snapshot) and of the parent's
    // cover bought at another counter; the child has nothing.
    const parent = holder.family.find((member) => member.relation === 'parent')
    await runtime.db('holdings').insert([
      {
        account_id: accountId,
        id_hash: lines[0].insured_id_hash,
        product_code: 'QZ-HQB-2027',
        cover_from: lines[0].cover_from,
        cover_to: lines[0].cover_to
      },
      {
        account_id: accountId,
        id_hash: runtime.personalData.lookupHash(parent?.idNumber ?? ''),
        product_code: 'QZ-HQB-2027',
        cover_from: lines[0].cover_from,
        cover_to: lines[0].cover_to
      },
      // Over: not listed.
      {
        account_id: accountId,
        id_hash: runtime.personalData.lookupHash(parent?.idNumber ?? ''),
        product_code: 'QZ-HQB-2021',
        cover_from: '2021-01-31T16:00:00.000Z',
        cover_to: '2022-01-31T16:00:00.000Z'
      }
    ])
    const found = await runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, clerk)
    if (!found.ok) throw new Error(found.error.message)
    const holdings = (found.value as CardholderView).holdings
    expect(
      holdings.map((h) => [h.relation, h.insuredNameMasked, h.productName, h.source, h.sale?.status ?? null])
    ).toEqual([
      ['self', '徐**', '惠衢保（2027年度，示例）', 'terminal', 'queued'],
      ['spouse', '周*', '惠衢保（2027年度，示例）', 'terminal', 'queued'],
      ['parent', '徐**', '惠衢保（2027年度，示例）', 'centre', null]
    ])
    expect(JSON.stringify(holdings)).not.toContain(spouse.name)
    expect(JSON.stringify(holdings)).not.toContain(holder.idNumber)

    // Voided: the sale no longer speaks for the holder's or the spouse's cover; the centre's record of the holder stays.
    await runtime.db('sales').where({ id: saleId }).update({ status: 'voided' })
    const after = await runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, clerk)
    if (!after.ok) throw new Error(after.error.message)
    expect((after.value as CardholderView).holdings.map((h) => [h.relation, h.source])).toEqual([
      ['self', 'centre'],
      ['parent', 'centre']
    ])
  })

  it('reports the terminal and its data', async () => {
    const runtime = await openTestRuntime()
    expect(await runtime.dispatch('app.info', {}, await signedIn(runtime))).toEqual({
      ok: true,
      value: {
        version: '0.0.0-test',
        dataDir: runtime.dataDir,
        schemaVersion: createMigrations(testCipher()).at(-1)?.name,
        terminalId: expect.stringMatching(/^T-[0-9A-F]{8}$/),
        demoData: true,
        needsSetUp: false,
        // A demo folder, no installation keys: the demo key only, and the header says so.
        trust: { keyIds: ['DEMO-centre-NOT-FOR-PRODUCTION'], demoKey: true, revoked: [] },
        // Tests have no OS key protection: the key is a file, and the UI warns about it.
        personalDataProtection: 'file',
        recordsIntact: true,
        now: '2026-11-22T02:30:00.000Z',
        // The CLI, tests and the Electron app run on the machine's clock; only browser mode may not.
        demoClock: false
      }
    })
  })
})

/** Every row of every table, read through a second connection. */
async function snapshotOf(file: string): Promise<Record<string, unknown[]>> {
  const db = openDatabase(file)
  try {
    const tables: string[] = await db('sqlite_master')
      .where({ type: 'table' })
      .whereNot('name', 'like', 'sqlite_%')
      .pluck('name')
    const snapshot: Record<string, unknown[]> = {}
    for (const table of tables.sort()) snapshot[table] = await db(table).select()
    return snapshot
  } finally {
    await db.destroy()
  }
}

describe('reader payloads at the lookup', () => {
  it('finds the cardholder from track-2 data', async () => {
    const runtime = await openTestRuntime()
    expect(
      await runtime.dispatch('cardholder.lookup', { input: ';D32050002=3012?' }, await signedIn(runtime))
    ).toMatchObject({
      ok: true,
      value: { region: { name: '苏州市区' } }
    })
  })

  it('explains that an e-voucher needs the centre online', async () => {
    const runtime = await openTestRuntime()
    expect(
      await runtime.dispatch(
        'cardholder.lookup',
        { input: 'EC01hLk3s9QpZ7xWm2Vb5Nq8Rt4Yu6Io0P' },
        await signedIn(runtime)
      )
    ).toEqual({
      ok: false,
      error: { code: 'E_VOUCHER_OFFLINE', message: expect.stringContaining('医保电子凭证须由中心在线核验') }
    })
  })
})
