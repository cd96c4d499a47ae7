import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ReceiptView, SaleSummary } from '../../../core/sale'
import type { DecisionView } from '../../../core/eligibility'
import { fixedClock } from '../../../core/time'
import { openDatabase } from '../../../db/connection'
import { DEMO_ACCOUNTS, DEMO_OPERATORS, demoIdNumber } from '../../../db/seeds/demo-population'
import { DATABASE_FILE_NAME } from '../../../backend/runtime'
import { FILE_KEY_FILE } from '../../../backend/services/personal-data-key'
import { openTestRuntime, recordingLogger, signedIn, tempDir, TEST_NOW } from '../../support/helpers'
import {
  buildLegacyDatabase,
  LEGACY_PAYER,
  LEGACY_SALE_ID,
  LEGACY_SPOUSE
} from '../../support/legacy-database'

const clock = fixedClock(TEST_NOW)

/** Every card number, ID number and name of the demo population, as the bytes a file would hold. */
function personalValues(): Array<{ label: string; bytes: Buffer }> {
  const values: string[] = []
  for (const account of DEMO_ACCOUNTS) {
    values.push(account.cardNumber, account.idNumber, account.name)
    for (const member of account.family) values.push(member.idNumber, member.name)
  }
  return values.map((value) => ({ label: value, bytes: Buffer.from(value, 'utf8') }))
}

/** The database file with its WAL and shared-memory files, whichever exist. */
async function databaseBytes(dataDir: string): Promise<Buffer> {
  const names = (await readdir(dataDir)).filter((name) => name.startsWith(DATABASE_FILE_NAME))
  return Buffer.concat(await Promise.all(names.map((name) => readFile(join(dataDir, name)))))
}

describe('migration 0004: personal data sealed at rest', () => {
  it('leaves no card number, ID number or name in plain text in the database file, and the backup holds the old file', async () => {
    const dataDir = await tempDir()
    await buildLegacyDatabase(dataDir, clock)
    const before = await databaseBytes(dataDir)
    // The fixture really is plain text: the test would prove nothing otherwise.
    expect(before.includes(Buffer.from(LEGACY_PAYER.idNumber))).toBe(true)
    expect(before.includes(Buffer.from(LEGACY_SPOUSE.name))).toBe(true)

    const log = recordingLogger()
    const runtime = await openTestRuntime({ dataDir, log })
    expect(
      log.lines.some((line) => line.includes('database_migrated') && line.includes('0004_personal_data'))
    ).toBe(true)
    const backups = await readdir(join(dataDir, 'backups'))
    expect(backups).toEqual([
      expect.stringMatching(/^counter-\d{8}T\d{6}Z-before-0004_personal_data\.sqlite3$/)
    ])
    await runtime.close()

    const after = await databaseBytes(dataDir)
    for (const { label, bytes } of personalValues()) expect(after.includes(bytes), label).toBe(false)
    // The key lies beside the database (no OS protection in tests), not in it.
    expect((await readdir(dataDir)).sort()).toEqual(expect.arrayContaining([FILE_KEY_FILE]))
  })

  it('keeps the schema as it should be: hashes and sealed data, no plain columns, foreign keys intact', async () => {
    const dataDir = await tempDir()
    await buildLegacyDatabase(dataDir, clock)
    const runtime = await openTestRuntime({ dataDir })
    const columns = async (table: string) =>
      ((await runtime.db.raw(`PRAGMA table_info(${table})`)) as Array<{ name: string }>).map((c) => c.name)
    expect(await columns('accounts')).toEqual(
      expect.arrayContaining([
        'account_no',
        'card_hash',
        'id_hash',
        'pii',
        'spent_this_year_fen',
        'removed_at'
      ])
    )
    expect(await columns('accounts')).not.toEqual(expect.arrayContaining(['card_number']))
    for (const plain of ['card_number', 'id_number', 'name'])
      expect(await columns('accounts')).not.toContain(plain)
    for (const plain of ['id_number', 'name']) expect(await columns('family_members')).not.toContain(plain)
    for (const plain of ['insured_id_number', 'insured_name'])
      expect(await columns('sale_lines')).not.toContain(plain)
    expect(await columns('outbox')).not.toContain('payload_json')
    expect(await columns('holdings')).toEqual([
      'id',
      'account_id',
      'id_hash',
      'product_code',
      'cover_from',
      'cover_to',
      // 0011: the insurer's number, not personal data.
      'policy_no',
      // 0013: the policy's first sale line, units and instalments due: no personal data.
      'policy_json'
    ])
    expect(await runtime.db('snapshot_state').select()).toEqual([
      { id: 1, version: 0, full: 0, balances_as_of: null, received_at: null }
    ])
    expect(await runtime.db.raw('PRAGMA foreign_key_check')).toEqual([])
    expect(await runtime.db.raw('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }])
    expect(await runtime.db.raw('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }])
    // Account numbers by the demo rule: region code, then the card number without its letter.
    const payerId = DEMO_ACCOUNTS.indexOf(LEGACY_PAYER) + 1
    const payer = await runtime
      .db('accounts')
      .where({ id: payerId })
      .first<{ account_no: string }>('account_no')
    expect(payer.account_no).toBe(`${LEGACY_PAYER.regionCode}${LEGACY_PAYER.cardNumber.slice(1)}`)
    // Ids did not move: the sale still points at its payer.
    const sale = await runtime
      .db('sales')
      .where({ id: LEGACY_SALE_ID })
      .first<{ account_id: number }>('account_id')
    expect(sale.account_id).toBe(payerId)
    const sealed = await runtime
      .db('outbox')
      .where({ sale_id: LEGACY_SALE_ID })
      .first<{ payload_sealed: Buffer }>('payload_sealed')
    expect(JSON.parse(runtime.personalData.open(sealed.payload_sealed))).toMatchObject({
      saleId: LEGACY_SALE_ID,
      payer: { cardNumber: LEGACY_PAYER.cardNumber, idNumber: LEGACY_PAYER.idNumber },
      lines: [{ insuredName: LEGACY_PAYER.name }, { insuredName: LEGACY_SPOUSE.name }]
    })
  })

  it('still finds the sale, prints its receipt, lists it in history, counts its cover, and voids it', async () => {
    const dataDir = await tempDir()
    await buildLegacyDatabase(dataDir, clock)
    const log = recordingLogger()
    const runtime = await openTestRuntime({ dataDir, log })
    const clerk = await signedIn(runtime)

    const found = await runtime.dispatch('cardholder.lookup', { input: LEGACY_PAYER.cardNumber }, clerk)
    expect(found).toMatchObject({ ok: true, value: { nameMasked: '徐**', boundFamilyMemberCount: 3 } })
    const byId = await runtime.dispatch('cardholder.lookup', { input: LEGACY_PAYER.idNumber }, clerk)
    expect(byId).toMatchObject({
      ok: true,
      value: { identifiedBy: 'resident-id', cardNumberMasked: 'C****0001' }
    })

    const receipt = (await runtime.dispatch('sale.receipt', { saleId: LEGACY_SALE_ID }, clerk)) as {
      ok: true
      value: ReceiptView
    }
    expect(receipt).toMatchObject({
      ok: true,
      value: {
        saleId: LEGACY_SALE_ID,
        status: 'queued',
        totalFen: 20_000,
        payer: { nameMasked: '徐**', region: { code: '330800' } },
        lines: [
          { lineNo: 1, relation: 'self', insuredNameMasked: '徐**', productCode: 'QZ-HQB-2027' },
          { lineNo: 2, relation: 'spouse', insuredNameMasked: '周*', productCode: 'QZ-HQB-2027' }
        ]
      }
    })
    expect(receipt.value.lines[1].insuredIdMasked.slice(0, 4)).toBe(LEGACY_SPOUSE.idNumber.slice(0, 4))

    const history = (await runtime.dispatch(
      'sale.search',
      { query: LEGACY_PAYER.cardNumber, scope: 'all' },
      clerk
    )) as { ok: true; value: SaleSummary[] }
    expect(history.value.map((sale) => sale.saleId)).toEqual([LEGACY_SALE_ID])
    expect(history.value[0]).toMatchObject({ payerNameMasked: '徐**', lineCount: 2 })

    // The spouse holds 惠衢保 2027 through the migrated line: found by the hash of her ID number.
    const accountId = (found as { value: { accountId: number } }).value.accountId
    const check = (await runtime.dispatch(
      'eligibility.check',
      {
        payer: { accountId },
        insured: { relation: 'spouse', idNumber: LEGACY_SPOUSE.idNumber },
        productCode: 'QZ-HQB-2027',
        units: 1
      },
      clerk
    )) as { ok: true; value: DecisionView }
    expect(check.ok).toBe(true)
    expect(check.value.eligible).toBe(false)
    expect(check.value.checks.some((c) => !c.passed && /已|保障期/.test(c.text))).toBe(true)

    const supervisor = DEMO_OPERATORS.find((o) => o.role === 'supervisor')
    const voided = await runtime.dispatch(
      'sale.void',
      {
        saleId: LEGACY_SALE_ID,
        reason: '客户取消',
        supervisorCode: supervisor?.code ?? '',
        supervisorPin: supervisor?.pin ?? ''
      },
      clerk
    )
    expect(voided).toMatchObject({ ok: true, value: { status: 'voided' } })

    const logged = log.lines.join('\n')
    for (const { label, bytes } of personalValues())
      expect(logged.includes(bytes.toString('utf8')), label).toBe(false)
  })

  it('upgrades cards that differ only in their letter, in one region, without losing either', async () => {
    const dataDir = await tempDir()
    await buildLegacyDatabase(dataDir, clock)
    const legacy = openDatabase(join(dataDir, DATABASE_FILE_NAME))
    const twin = {
      ...LEGACY_PAYER,
      cardNumber: 'X33080001',
      idNumber: demoIdNumber('330802', '19800101', '055')
    }
    await legacy('accounts').insert({
      card_number: twin.cardNumber,
      id_number: twin.idNumber,
      name: '徐卫国',
      region_code: twin.regionCode,
      insurance_type: twin.insuranceType,
      status: twin.status,
      balance_fen: 50_000,
      historical_balance_fen: 0,
      fitness_card_transfers_fen: 0,
      balance_as_of: TEST_NOW,
      updated_at: TEST_NOW
    })
    await legacy.destroy()
    const runtime = await openTestRuntime({ dataDir })
    const clerk = await signedIn(runtime)
    for (const [card, balanceFen] of [
      ['C33080001', LEGACY_PAYER.balanceFen],
      ['X33080001', 50_000]
    ] as const) {
      const found = await runtime.dispatch('cardholder.lookup', { input: card }, clerk)
      expect(found, card).toMatchObject({ ok: true, value: { balanceFen } })
    }
    expect(
      (await runtime.db('accounts').where('account_no', 'like', '%33080001').pluck('account_no')).sort()
    ).toEqual(['33080033080001', '330800X33080001'])
  })

  it('seals what a sale writes now, and a later start with the same key reads it', async () => {
    const dataDir = await tempDir()
    await buildLegacyDatabase(dataDir, clock)
    const first = await openTestRuntime({ dataDir })
    await first.close()
    const again = await openTestRuntime({ dataDir })
    const clerk = await signedIn(again)
    expect(await again.dispatch('sale.receipt', { saleId: LEGACY_SALE_ID }, clerk)).toMatchObject({
      ok: true,
      value: { payer: { nameMasked: '徐**' } }
    })
    expect(await again.db('knex_migrations').pluck('name')).toContain('0004_personal_data')
  })

  it('reads a database file as a second connection would: no plain text in any table', async () => {
    const dataDir = await tempDir()
    await buildLegacyDatabase(dataDir, clock)
    await (await openTestRuntime({ dataDir })).close()
    const db = openDatabase(join(dataDir, DATABASE_FILE_NAME))
    try {
      const tables: string[] = await db('sqlite_master').where({ type: 'table' }).pluck('name')
      const dump = JSON.stringify(await Promise.all(tables.map((table) => db(table).select())))
      for (const { label } of personalValues()) expect(dump.includes(label), label).toBe(false)
    } finally {
      await db.destroy()
    }
  })
})
