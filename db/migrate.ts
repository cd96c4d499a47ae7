import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import type { Clock } from '../core/time'
import { sourceOf, type NamedMigration } from './migrations/index'

export interface MigrationOutcome {
  /** Migrations applied by this call, in order. */
  readonly applied: readonly string[]
  /** The copy taken before migrating an existing database, or null when none was needed. */
  readonly backupFile: string | null
  /** The database had no tables before this call. */
  readonly createdFresh: boolean
  readonly schemaVersion: string
}

const KEEP_BACKUPS = 5

/** The file was written by a newer release; opening it with this one could corrupt it. */
export class DatabaseTooNewError extends Error {
  override readonly name = 'DatabaseTooNewError'
}

async function hasUserTables(db: Knex): Promise<boolean> {
  const rows: Array<{ n: number }> = await db.raw(
    "select count(*) as n from sqlite_master where type = 'table' and name not like 'sqlite_%'"
  )
  return rows[0].n > 0
}

async function appliedNames(db: Knex): Promise<string[]> {
  if (!(await db.schema.hasTable('knex_migrations'))) return []
  return db('knex_migrations').orderBy('id').pluck('name')
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

/** Old copies beyond the newest few are removed, so backups cannot fill a laptop's disk. */
async function pruneBackups(backupDir: string): Promise<void> {
  const files = (await readdir(backupDir)).filter((name) => name.endsWith('.sqlite3')).sort()
  for (const old of files.slice(0, Math.max(files.length - KEEP_BACKUPS, 0))) await rm(join(backupDir, old))
}

/**
 * Brings the database to the latest schema. An existing database is first copied with
 * `VACUUM INTO` (a consistent copy, WAL included), so a failed or faulty migration can be undone
 * by hand.
 */
export async function migrateToLatest(
  db: Knex,
  /** `migrations`: createMigrations(cipher), or in tests a list cut short or lengthened. */
  options: { backupDir: string; clock: Clock; migrations: readonly NamedMigration[] }
): Promise<MigrationOutcome> {
  const { migrations } = options
  const config = { migrationSource: sourceOf(migrations) }
  const createdFresh = !(await hasUserTables(db))
  // Checked before knex looks, which would only say its "migration directory is corrupt".
  const known = new Set(migrations.map((migration) => migration.name))
  const unknown = (await appliedNames(db)).filter((name) => !known.has(name))
  if (unknown.length > 0) {
    throw new DatabaseTooNewError(
      `数据库由更新版本的程序创建（含 ${unknown[0]}），请安装新版程序后再打开，数据未被改动。`
    )
  }
  const [, pending] = (await db.migrate.list(config)) as [unknown, Array<{ name: string }>]
  let backupFile: string | null = null
  if (pending.length > 0 && !createdFresh) {
    await mkdir(options.backupDir, { recursive: true })
    backupFile = join(
      options.backupDir,
      `counter-${stamp(options.clock.now())}-before-${pending[0].name}.sqlite3`
    )
    await db.raw('VACUUM INTO ?', [backupFile])
    await pruneBackups(options.backupDir)
  }
  const [, applied] = (await db.migrate.latest(config)) as [number, string[]]
  return { applied, backupFile, createdFresh, schemaVersion: migrations[migrations.length - 1].name }
}
