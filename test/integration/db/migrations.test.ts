import { join } from 'node:path'
import type { Knex } from 'knex'
import { afterEach, describe, expect, it } from 'vitest'
import { fixedClock } from '../../../core/time'
import { openDatabase } from '../../../db/connection'
import { migrateToLatest } from '../../../db/migrate'
import { checkChain } from '../../../db/record-chain'
import { createMigrations } from '../../../db/migrations/index'
import { DATABASE_FILE_NAME } from '../../../backend/runtime'
import { tempDir, testCipher } from '../../support/helpers'
import { buildLegacyDatabase, LEGACY_SALE_ID, LEGACY_TERMINAL_ID } from '../../support/legacy-database'

/**
 * One test per migration, as db/migrations/README.md asks: a database at version N−1 holding the
 * data a terminal would have then, migrated to N, and checked that the data is all there and the
 * new shape takes what the release writes. From 0005 on the data is release 0003's database
 * (test/support/legacy-database.ts: the demo population, operators and one queued sale). 0004,
 * which seals personal data, has its own file: personal-data-migration.test.ts.
 */

const clock = fixedClock('2026-11-22T02:30:00Z')
const migrations = createMigrations(testCipher())
const open: Knex[] = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.destroy()))
})

/** Migrates the database in `dir` to version `n` (the first n migrations); returns it open. */
async function at(dir: string, n: number): Promise<Knex> {
  const db = openDatabase(join(dir, DATABASE_FILE_NAME))
  open.push(db)
  const outcome = await migrateToLatest(db, {
    backupDir: join(dir, 'backups'),
    clock,
    migrations: migrations.slice(0, n)
  })
  expect(outcome.applied.at(-1) ?? migrations[n - 1].name).toBe(migrations[n - 1].name)
  return db
}

/** Closes `db` and opens the same file migrated one version on. */
async function next(db: Knex, dir: string, n: number): Promise<Knex> {
  open.splice(open.indexOf(db), 1)
  await db.destroy()
  return at(dir, n)
}

/** Release 0003's database, migrated on to version `n`. */
async function legacyAt(n: number): Promise<{ dir: string; db: Knex }> {
  const dir = await tempDir()
  await buildLegacyDatabase(dir, clock)
  return { dir, db: await at(dir, n) }
}

const count = async (db: Knex, table: string) =>
  (await db(table).count<Array<{ n: number }>>({ n: '*' }))[0].n

/** One account as releases 0001–0003 wrote it: the card, ID and name in plain text. */
async function insertAccount(db: Knex): Promise<void> {
  await db('regions').insert({ code: '330800', name: '衢州市' })
  await db('accounts').insert({
    card_number: 'C33080009',
    id_number: '330802198001010011',
    name: '测试',
    region_code: '330800',
    insurance_type: 'employee_active',
    status: 'active',
    balance_fen: 20_000,
    historical_balance_fen: 10_000,
    balance_as_of: clock.now().toISOString(),
    updated_at: clock.now().toISOString()
  })
}

describe('each migration keeps the data before it', () => {
  it('0001_snapshot: a new database gets regions, accounts, family and holdings, refusing money that is not whole fen', async () => {
    const db = await at(await tempDir(), 1)
    await db('regions').insert({ code: '330800', name: '衢州市' })
    const account = {
      card_number: 'C33080009',
      id_number: '330802198001010011',
      name: '测试',
      region_code: '330800',
      insurance_type: 'employee_active',
      status: 'active',
      historical_balance_fen: 10_000,
      balance_as_of: clock.now().toISOString(),
      updated_at: clock.now().toISOString()
    }
    await db('accounts').insert({ ...account, balance_fen: 20_000 })
    await expect(
      db('accounts').insert({ ...account, card_number: 'C33080010', balance_fen: 1.5 })
    ).rejects.toThrow(/CHECK constraint failed/)
    expect(await count(db, 'accounts')).toBe(1)
  })

  it('0002_rule_bundles: accounts keep their data, gain no fitness-card transfers, and bundles can be stored', async () => {
    const dir = await tempDir()
    const older = await at(dir, 1)
    await insertAccount(older)
    const db = await next(older, dir, 2)
    expect(await db('accounts').select('card_number', 'balance_fen', 'fitness_card_transfers_fen')).toEqual([
      { card_number: 'C33080009', balance_fen: 20_000, fitness_card_transfers_fen: 0 }
    ])
    expect(await count(db, 'rule_bundles')).toBe(0)
  })

  it('0003_sales: the snapshot and bundles stay; operators, shifts, sales, lines, ledger and outbox arrive empty', async () => {
    const dir = await tempDir()
    const older = await at(dir, 2)
    await insertAccount(older)
    const db = await next(older, dir, 3)
    expect(await count(db, 'accounts')).toBe(1)
    for (const table of ['operators', 'shifts', 'sales', 'sale_lines', 'ledger', 'outbox']) {
      expect(await count(db, table), table).toBe(0)
    }
  })

  it('0005_sync: the queued sale stays queued, its outbox entry pending and due now, with no centre answer yet', async () => {
    const { dir, db: older } = await legacyAt(4)
    const before = await older('sales').where({ id: LEGACY_SALE_ID }).first('status', 'total_fen')
    const db = await next(older, dir, 5)
    expect(
      await db('sales')
        .where({ id: LEGACY_SALE_ID })
        .first('status', 'total_fen', 'settled_at', 'result_code')
    ).toEqual({
      ...before,
      settled_at: null,
      result_code: null
    })
    expect(
      await db('outbox').where({ sale_id: LEGACY_SALE_ID }).select('kind', 'state', 'next_attempt_at')
    ).toEqual([{ kind: 'sale', state: 'pending', next_attempt_at: null }])
    // What the upload writes now fits.
    await db('sales')
      .where({ id: LEGACY_SALE_ID })
      .update({ status: 'accepted', settled_at: clock.now().toISOString() })
  })

  it('0006_snapshot_staging: the live accounts stay as they were; the staging tables arrive empty', async () => {
    const { dir, db: older } = await legacyAt(5)
    const accounts = await older('accounts').orderBy('id').select('id', 'account_no', 'balance_fen')
    const db = await next(older, dir, 6)
    expect(await db('accounts').orderBy('id').select('id', 'account_no', 'balance_fen')).toEqual(accounts)
    for (const table of ['snapshot_staging_owner', 'snapshot_staging_accounts', 'snapshot_staging_removed']) {
      expect(await count(db, table), table).toBe(0)
    }
  })

  it('0007_closes: the sale belongs to no close yet; a close can take it, and is never changed afterwards', async () => {
    const { dir, db: older } = await legacyAt(6)
    const db = await next(older, dir, 7)
    expect(await db('sales').where({ id: LEGACY_SALE_ID }).first('day_close_id', 'shift_close_id')).toEqual({
      day_close_id: null,
      shift_close_id: null
    })
    const supervisor = await db('operators').where({ code: '9001' }).first<{ id: number }>('id')
    const [{ id }] = await db('close_reports')
      .insert({
        terminal_id: LEGACY_TERMINAL_ID,
        number: 1,
        kind: 'day',
        business_date: '2026-11-22',
        closed_at: clock.now().toISOString(),
        closed_by: supervisor.id,
        late: false,
        report_json: '{}',
        sale_count: 1,
        total_fen: 20_000
      })
      .returning<Array<{ id: number }>>('id')
    await db('sales').where({ id: LEGACY_SALE_ID }).update({ day_close_id: id })
    await expect(db('close_reports').where({ id }).update({ total_fen: 0 })).rejects.toThrow(/immutable/)
    await expect(db('close_reports').where({ id }).delete()).rejects.toThrow(/immutable/)
  })

  it('0008_rejection_follow_up: the sale keeps its status and the centre’s answer, with no follow-up yet', async () => {
    const { dir, db: older } = await legacyAt(7)
    await older('sales').where({ id: LEGACY_SALE_ID }).update({
      status: 'rejected',
      settled_at: clock.now().toISOString(),
      result_code: 'ACCOUNT_SUSPENDED',
      result_message: '账户暂停参保'
    })
    const db = await next(older, dir, 8)
    expect(
      await db('sales')
        .where({ id: LEGACY_SALE_ID })
        .first('status', 'result_code', 'followed_up_at', 'followed_up_by', 'follow_up_note')
    ).toEqual({
      status: 'rejected',
      result_code: 'ACCOUNT_SUSPENDED',
      followed_up_at: null,
      followed_up_by: null,
      follow_up_note: null
    })
    const supervisor = await db('operators').where({ code: '9001' }).first<{ id: number }>('id')
    await db('sales').where({ id: LEGACY_SALE_ID }).update({
      followed_up_at: clock.now().toISOString(),
      followed_up_by: supervisor.id,
      follow_up_note: '已电话告知'
    })
  })

  it('0009_payer_proof: a sale from before says its payer proof is unknown (legacy), with no approver or reference', async () => {
    const { dir, db: older } = await legacyAt(8)
    const db = await next(older, dir, 9)
    expect(
      await db('sales')
        .where({ id: LEGACY_SALE_ID })
        .first('status', 'payer_proof', 'keyed_approved_by', 'centre_reference')
    ).toEqual({ status: 'queued', payer_proof: 'legacy', keyed_approved_by: null, centre_reference: null })
    const supervisor = await db('operators').where({ code: '9001' }).first<{ id: number }>('id')
    await db('sales').where({ id: LEGACY_SALE_ID }).update({
      payer_proof: 'keyed',
      keyed_approved_by: supervisor.id,
      centre_reference: 'ZX2026112200000001'
    })
    await expect(
      db('sales').where({ id: LEGACY_SALE_ID }).update({ keyed_approved_by: 999_999 })
    ).rejects.toThrow(/FOREIGN KEY/)
  })

  it('0010_record_chains: the audit lines and close reports already there are linked, and stay as they were', async () => {
    const { dir, db: older } = await legacyAt(9)
    const supervisor = await older('operators').where({ code: '9001' }).first<{ id: number }>('id')
    for (const number of [1, 2])
      await older('close_reports').insert({
        terminal_id: LEGACY_TERMINAL_ID,
        number,
        kind: 'day',
        business_date: `2026-11-2${number}`,
        closed_at: clock.now().toISOString(),
        closed_by: supervisor.id,
        late: false,
        report_json: '{}',
        sale_count: 1,
        total_fen: 20_000 * number
      })
    const auditBefore = await older('audit_log').orderBy('id').select('id', 'at', 'action', 'subject')
    expect(auditBefore.length).toBeGreaterThan(0)
    const db = await next(older, dir, 10)
    expect(await db('audit_log').orderBy('id').select('id', 'at', 'action', 'subject')).toEqual(auditBefore)
    const cipher = testCipher()
    expect(await checkChain(db, cipher, 'audit')).toMatchObject({
      length: auditBefore.length,
      brokenAt: null
    })
    expect(await checkChain(db, cipher, 'closes')).toMatchObject({ length: 2, brokenAt: null })
    // Close reports are immutable again, and audit lines now too.
    await expect(db('close_reports').where({ number: 2 }).update({ total_fen: 0 })).rejects.toThrow(
      /immutable/
    )
    await expect(db('audit_log').update({ at: '2020-01-01T00:00:00.000Z' })).rejects.toThrow(/append-only/)
    await expect(db('audit_log').delete()).rejects.toThrow(/append-only/)
    expect(
      await db('operators').where({ pin_change_required: true }).count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: 0 }])
  })

  it('0011_policies: a sale from before has no mobile and no policy numbers; the new columns take them', async () => {
    const { dir, db: older } = await legacyAt(10)
    const linesBefore = await older('sale_lines')
      .where({ sale_id: LEGACY_SALE_ID })
      .orderBy('line_no')
      .select()
    const db = await next(older, dir, 11)
    expect(await db('sales').where({ id: LEGACY_SALE_ID }).first('applicant_mobile_sealed')).toEqual({
      applicant_mobile_sealed: null
    })
    const lines = await db('sale_lines').where({ sale_id: LEGACY_SALE_ID }).orderBy('line_no').select()
    expect(lines.map(({ policy_no, policy_issued_at, ...rest }) => rest)).toEqual(linesBefore)
    expect(lines.every((line) => line.policy_no === null && line.policy_issued_at === null)).toBe(true)
    await db('sale_lines')
      .where({ sale_id: LEGACY_SALE_ID, line_no: 1 })
      .update({ policy_no: 'BD33080020261122000001', policy_issued_at: clock.now().toISOString() })
    await db('sales')
      .where({ id: LEGACY_SALE_ID })
      .update({ applicant_mobile_sealed: testCipher().seal('13912345678') })
    expect(await db('holdings').columnInfo()).toHaveProperty('policy_no')
    expect(await db('snapshot_staging_holdings').columnInfo()).toHaveProperty('policy_no')
  })

  it('0012_cancellations: the outbox keeps every entry through its rebuild and takes cancellations', async () => {
    const { dir, db: older } = await legacyAt(11)
    const outboxBefore = await older('outbox').orderBy('id').select()
    expect(outboxBefore.length).toBeGreaterThan(0)
    const db = await next(older, dir, 12)
    expect(await db('outbox').orderBy('id').select()).toEqual(outboxBefore)
    const supervisor = await db('operators').where({ code: '9001' }).first<{ id: number }>('id')
    await db('cancellations').insert({
      id: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4aa',
      sale_id: LEGACY_SALE_ID,
      line_nos_json: '[1]',
      refund_fen: 10_000,
      reason: '客户改变主意',
      requested_at: clock.now().toISOString(),
      operator_id: supervisor.id,
      approved_by: supervisor.id
    })
    await db('outbox').insert({
      id: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4ab',
      kind: 'cancellation',
      sale_id: LEGACY_SALE_ID,
      payload_sealed: Buffer.from('x'),
      created_at: clock.now().toISOString()
    })
    await expect(
      db('outbox').insert({
        id: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4ac',
        kind: 'refund',
        sale_id: LEGACY_SALE_ID,
        payload_sealed: Buffer.from('x'),
        created_at: clock.now().toISOString()
      })
    ).rejects.toThrow(/CHECK/)
    await db('sale_lines')
      .where({ sale_id: LEGACY_SALE_ID, line_no: 1 })
      .update({ cancelled_at: clock.now().toISOString() })
  })

  it('0013_instalments: sale lines and holdings from before are no instalments; the new columns take them', async () => {
    const { dir, db: older } = await legacyAt(12)
    const linesBefore = await older('sale_lines')
      .where({ sale_id: LEGACY_SALE_ID })
      .orderBy('line_no')
      .select()
    const db = await next(older, dir, 13)
    const lines = await db('sale_lines').where({ sale_id: LEGACY_SALE_ID }).orderBy('line_no').select()
    const added = [
      'instalment_no',
      'instalment_years',
      'instalment_grace_days',
      'policy_sale_id',
      'policy_line_no'
    ] as const
    expect(
      lines.map((line) =>
        Object.fromEntries(Object.entries(line).filter(([k]) => !added.includes(k as never)))
      )
    ).toEqual(linesBefore)
    expect(lines.every((line) => added.every((column) => line[column] === null))).toBe(true)
    await db('sale_lines').where({ sale_id: LEGACY_SALE_ID, line_no: 1 }).update({
      instalment_no: 2,
      instalment_years: 10,
      instalment_grace_days: 60,
      policy_sale_id: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4aa',
      policy_line_no: 1
    })
    expect(await db('holdings').columnInfo()).toHaveProperty('policy_json')
    expect(await db('snapshot_staging_holdings').columnInfo()).toHaveProperty('policy_json')
  })

  it('has a test above for every migration in the list', () => {
    // A migration added without its test fails here: name it in a test title above.
    const titled = [
      '0001_snapshot',
      '0002_rule_bundles',
      '0003_sales',
      '0005_sync',
      '0006_snapshot_staging',
      '0007_closes',
      '0008_rejection_follow_up',
      '0009_payer_proof',
      '0010_record_chains',
      '0011_policies',
      '0012_cancellations',
      '0013_instalments'
    ]
    expect(migrations.map((m) => m.name).filter((name) => name !== '0004_personal_data')).toEqual(titled)
  })
})
