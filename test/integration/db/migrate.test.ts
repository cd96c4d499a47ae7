import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { afterEach, describe, expect, it, onTestFinished } from 'vitest'
import { fixedClock } from '../../../core/time'
import { openDatabase } from '../../../db/connection'
import { DatabaseTooNewError, migrateToLatest, MigrationBusyError } from '../../../db/migrate'
import { createMigrations, type NamedMigration } from '../../../db/migrations/index'
import { sealAccount } from '../../../db/sealed-records'
import { tempDir, testCipher } from '../../support/helpers'

const clock = fixedClock('2026-11-22T02:30:00Z')
const cipher = testCipher()
const migrations = createMigrations(cipher)
const open: Knex[] = []

function openAt(file: string): Knex {
  const db = openDatabase(file)
  open.push(db)
  return db
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.destroy()))
})

/** A later migration as a future release would ship it: adds a column with a default. */
const addNote: NamedMigration = {
  name: '9999_add_note',
  up: (db) => db.schema.alterTable('regions', (table) => table.string('note').notNullable().defaultTo('')),
  down: (db) => db.schema.alterTable('regions', (table) => table.dropColumn('note'))
}

describe('opening and migrating the database', () => {
  it('creates a fresh database in WAL mode with foreign keys enforced', async () => {
    const dir = await tempDir()
    const db = openAt(join(dir, 'counter.sqlite3'))
    const outcome = await migrateToLatest(db, { backupDir: join(dir, 'backups'), clock, migrations })

    expect(outcome).toMatchObject({
      createdFresh: true,
      backupFile: null,
      applied: migrations.map((m) => m.name)
    })
    expect(await db.raw('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }])
    expect(await db.raw('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }])
    expect(await db.raw('PRAGMA synchronous')).toEqual([{ synchronous: 2 }])
    await expect(db('accounts').insert(accountRow({ region_code: '999999' }))).rejects.toThrow(/FOREIGN KEY/)
  })

  it('refuses a balance that is not integer fen, or a historical balance above the balance', async () => {
    const dir = await tempDir()
    const db = openAt(join(dir, 'counter.sqlite3'))
    await migrateToLatest(db, { backupDir: join(dir, 'backups'), clock, migrations })
    await db('regions').insert({ code: '330800', name: '衢州市' })

    await expect(db('accounts').insert(accountRow({ balance_fen: 100.5 }))).rejects.toThrow(/CHECK/)
    await expect(db('accounts').insert(accountRow({ historical_balance_fen: 20_001 }))).rejects.toThrow(
      /CHECK/
    )
    await db('accounts').insert(accountRow({}))
    expect(await db('accounts').count({ n: '*' })).toEqual([{ n: 1 }])
  })

  it('copies an existing database before migrating it, and the copy holds the data as it was', async () => {
    const dir = await tempDir()
    const file = join(dir, 'counter.sqlite3')
    const backupDir = join(dir, 'backups')
    const before = openAt(file)
    await migrateToLatest(before, { backupDir, clock, migrations })
    await before('regions').insert({ code: '330800', name: '衢州市' })
    await before.destroy()

    const after = openAt(file)
    const outcome = await migrateToLatest(after, { backupDir, clock, migrations: [...migrations, addNote] })

    expect(outcome.applied).toEqual(['9999_add_note'])
    expect(outcome.backupFile).toBe(join(backupDir, 'counter-20261122T023000Z-before-9999_add_note.sqlite3'))
    expect(await after('regions').select('code', 'note')).toEqual([{ code: '330800', note: '' }])

    const copy = openAt(outcome.backupFile ?? '')
    expect(await copy('regions').select()).toEqual([{ code: '330800', name: '衢州市' }])
  })

  it('takes no copy when nothing is pending', async () => {
    const dir = await tempDir()
    const file = join(dir, 'counter.sqlite3')
    await migrateToLatest(openAt(file), { backupDir: join(dir, 'backups'), clock, migrations })
    const again = await migrateToLatest(openAt(file), { backupDir: join(dir, 'backups'), clock, migrations })
    expect(again).toMatchObject({ applied: [], backupFile: null, createdFresh: false })
  })

  it('keeps only the newest five copies', async () => {
    const dir = await tempDir()
    const file = join(dir, 'counter.sqlite3')
    const backupDir = join(dir, 'backups')
    const list = [...migrations]
    await migrateToLatest(openAt(file), { backupDir, clock, migrations: list })
    for (let i = 1; i <= 7; i++) {
      list.push({ name: `99${String(i).padStart(2, '0')}_step`, up: async () => {}, down: async () => {} })
      await migrateToLatest(openAt(file), {
        backupDir,
        clock: fixedClock(`2026-11-22T02:3${i}:00Z`),
        migrations: list
      })
    }
    const kept = (await readdir(backupDir)).sort()
    expect(kept).toHaveLength(5)
    expect(kept[0]).toContain('before-9903_step')
    expect(kept[4]).toContain('before-9907_step')
  })

  it('a lock left by a process killed while migrating is released; a live one is refused in Chinese', async () => {
    const dir = await tempDir()
    const file = join(dir, 'counter.sqlite3')
    const backupDir = join(dir, 'backups')
    const lockFile = join(dir, 'migrating.pid')
    const first = openAt(file)
    await migrateToLatest(first, { backupDir, clock, migrations, lockFile })
    // As a kill mid-migration leaves it: knex's lock set, the dead process's id beside the file.
    await first('knex_migrations_lock').update({ is_locked: 1 })
    await first.destroy()
    const dead = spawnSync(process.execPath, ['-e', '0']).pid
    await writeFile(lockFile, String(dead))
    const again = openAt(file)
    const outcome = await migrateToLatest(again, {
      backupDir,
      clock,
      migrations: [...migrations, addNote],
      lockFile
    })
    expect(outcome.applied).toEqual(['9999_add_note'])
    expect(await again('knex_migrations_lock').pluck('is_locked')).toEqual([0])
    expect(existsSync(lockFile)).toBe(false)

    // A holder still running, that wrote its file a moment ago: another program is migrating now.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    onTestFinished(() => void holder.kill())
    await again('knex_migrations_lock').update({ is_locked: 1 })
    await writeFile(lockFile, String(holder.pid))
    const step: NamedMigration = { name: '9999_zz_step', up: async () => {}, down: async () => {} }
    await expect(
      migrateToLatest(again, { backupDir, clock, migrations: [...migrations, addNote, step], lockFile })
    ).rejects.toThrow(MigrationBusyError)
    expect(await again('knex_migrations').where({ name: '9999_zz_step' }).count({ n: '*' })).toEqual([
      { n: 0 }
    ])
  })

  it('a migration and its record commit together, even in a batch with a migration that keeps its own transaction', async () => {
    const dir = await tempDir()
    const file = join(dir, 'counter.sqlite3')
    const backupDir = join(dir, 'backups')
    await migrateToLatest(openAt(file), { backupDir, clock, migrations })
    const addTable: NamedMigration = {
      name: '9998_add_table',
      up: async (db) => {
        await db.schema.createTable('notes', (table) => table.increments('id'))
      },
      down: async () => {}
    }
    // Like 0004: outside knex's transaction. With it in the batch knex used to record each
    // migration only after that migration's own transaction had committed.
    const ownTransaction: NamedMigration = {
      name: '9999_own_transaction',
      config: { transaction: false },
      up: async () => {},
      down: async () => {}
    }
    const db = openAt(file)
    // The process dies between the migration and its record: here, the record's insert fails.
    await db.raw(
      "create trigger die_before_record before insert on knex_migrations when new.name = '9998_add_table' begin select raise(abort, 'killed before the record'); end"
    )
    const list = [...migrations, addTable, ownTransaction]
    await expect(migrateToLatest(db, { backupDir, clock, migrations: list })).rejects.toThrow(
      'killed before the record'
    )
    await db.raw('drop trigger die_before_record')
    const outcome = await migrateToLatest(db, { backupDir, clock, migrations: list })
    expect(outcome.applied).toEqual(['9998_add_table', '9999_own_transaction'])
    expect(await db('notes').count({ n: '*' })).toEqual([{ n: 0 }])
  })

  it('a retry after a failed or killed migration keeps the first copy instead of taking another', async () => {
    const dir = await tempDir()
    const file = join(dir, 'counter.sqlite3')
    const backupDir = join(dir, 'backups')
    await migrateToLatest(openAt(file), { backupDir, clock, migrations })
    let fails = true
    const flaky: NamedMigration = {
      name: '9999_flaky',
      up: async (db) => {
        await db.schema.alterTable('regions', (table) => table.string('flag').notNullable().defaultTo(''))
        if (fails) throw new Error('killed here')
      },
      down: async () => {}
    }
    for (let attempt = 0; attempt < 7; attempt++)
      await expect(
        migrateToLatest(openAt(file), { backupDir, clock, migrations: [...migrations, flaky] })
      ).rejects.toThrow('killed here')
    // A copy being written when the process died is no copy, and goes.
    await writeFile(join(backupDir, 'counter-x-before-9999_flaky.sqlite3.partial'), 'half')
    fails = false
    const db = openAt(file)
    const outcome = await migrateToLatest(db, { backupDir, clock, migrations: [...migrations, flaky] })
    expect(outcome.applied).toEqual(['9999_flaky'])
    const copies = await readdir(backupDir)
    expect(copies).toEqual(['counter-20261122T023000Z-before-9999_flaky.sqlite3'])
    expect(outcome.backupFile).toBe(join(backupDir, copies[0]))
    expect(await db('regions').columnInfo()).toHaveProperty('flag')
  })

  it('refuses a database written by a newer release and leaves it untouched', async () => {
    const dir = await tempDir()
    const file = join(dir, 'counter.sqlite3')
    await migrateToLatest(openAt(file), {
      backupDir: join(dir, 'backups'),
      clock,
      migrations: [...migrations, addNote]
    })

    const older = openAt(file)
    await expect(
      migrateToLatest(older, { backupDir: join(dir, 'backups'), clock, migrations })
    ).rejects.toThrow(DatabaseTooNewError)
    await expect(
      migrateToLatest(older, { backupDir: join(dir, 'backups'), clock, migrations })
    ).rejects.toThrow(/安装新版程序/)
    expect(await older('knex_migrations').pluck('name')).toEqual([
      ...migrations.map((m) => m.name),
      '9999_add_note'
    ])
  })
})

/** An account row as 0001–0003 stored it, in plain text. */
function legacyAccountRow(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    card_number: 'C33080009',
    id_number: '11010519491231002X',
    name: '测试',
    region_code: '330800',
    insurance_type: 'employee_active',
    status: 'active',
    balance_fen: 20_000,
    historical_balance_fen: 10_000,
    balance_as_of: '2026-11-22T00:00:00.000Z',
    updated_at: '2026-11-22T00:00:00.000Z',
    ...overrides
  }
}

/** An account row of the current schema: card, ID and name hashed and sealed. */
function accountRow(overrides: Record<string, unknown>): Record<string, unknown> {
  const { card_number: cardNumber, id_number: idNumber, name, ...rest } = legacyAccountRow({})
  return {
    account_no: '33080033080009',
    ...sealAccount(cipher, {
      cardNumber: String(cardNumber),
      idNumber: String(idNumber),
      name: String(name)
    }),
    ...rest,
    ...overrides
  }
}
