import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
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
/** The longest a migration lock file is taken for a live migration (a million accounts migrate in minutes). */
const BUSY_FOR_AT_MOST_MS = 10 * 60_000

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
 * The copy taken before `firstPending`, made once: an attempt killed midway left it (complete,
 * since a copy is written under a temporary name and renamed), and the retry keeps it instead of
 * taking another, which would push the pre-upgrade copy out of the few that are kept.
 */
async function backupBefore(db: Knex, backupDir: string, firstPending: string, now: Date): Promise<string> {
  await mkdir(backupDir, { recursive: true })
  const names = await readdir(backupDir)
  // A copy interrupted while being written is no copy.
  for (const partial of names.filter((name) => name.endsWith('.partial'))) await rm(join(backupDir, partial))
  const suffix = `-before-${firstPending}.sqlite3`
  const existing = names.filter((name) => name.endsWith(suffix)).sort()
  if (existing.length > 0) return join(backupDir, existing[0])
  const file = join(backupDir, `counter-${stamp(now)}${suffix}`)
  await db.raw('VACUUM INTO ?', [`${file}.partial`])
  await rename(`${file}.partial`, file)
  await pruneBackups(backupDir)
  return file
}

/**
 * The migration lock knex keeps in the database stays set when a process is killed while
 * migrating, and every later start would refuse ("Migration table is already locked"). Who holds
 * it is written beside the database (`lockFile`: the process id); a lock whose holder is no longer
 * running is stale and is released. A holder still running (another process on the same folder)
 * is refused in Chinese, and nothing changes.
 */
async function releaseStaleLock(db: Knex, lockFile: string, now: Date): Promise<void> {
  const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim())
  const written = (await stat(lockFile).catch(() => null))?.mtimeMs ?? 0
  // A running holder that wrote the file lately; after a while a running process of that id is
  // taken for another one that reused the id (a restart since the kill), never for ever refusing.
  if (
    Number.isInteger(holder) &&
    holder > 0 &&
    holder !== process.pid &&
    isRunning(holder) &&
    now.getTime() - written < BUSY_FOR_AT_MOST_MS
  )
    throw new MigrationBusyError(
      `另一个柜台程序（进程 ${holder}）正在升级本机数据库，请关闭它或等它完成后再打开；十分钟后仍如此请重启电脑。`
    )
  if (!(await db.schema.hasTable('knex_migrations_lock'))) return
  const [row] = (await db('knex_migrations_lock').select('is_locked')) as Array<{ is_locked: number }>
  if (row?.is_locked) await db.migrate.forceFreeMigrationsLock()
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return error instanceof Error && 'code' in error && error.code === 'EPERM'
  }
}

/** Another process is migrating the same database now. */
export class MigrationBusyError extends Error {
  override readonly name = 'MigrationBusyError'
}

/**
 * Refuses a database a newer release migrated (`tooNew` says so, in the caller's words). Checked
 * before knex looks, which would only say its "migration directory is corrupt".
 */
export async function refuseUnknownMigrations(
  db: Knex,
  migrations: readonly NamedMigration[],
  tooNew: (name: string) => string
): Promise<void> {
  const known = new Set(migrations.map((migration) => migration.name))
  const unknown = (await appliedNames(db)).filter((name) => !known.has(name))
  if (unknown.length > 0) throw new DatabaseTooNewError(tooNew(unknown[0]))
}

/**
 * Applies what is pending, one migration at a time; answers the names applied. knex's `latest`
 * runs a batch holding a non-transactional migration (0004) without a transaction and records each
 * migration after its own transaction committed, so a kill in between left a migration applied but
 * unrecorded, and every later start failed on it ("table already exists"). `up` commits a
 * migration with its record in one transaction; 0004 keeps its own and recognises its finished work.
 */
export async function applyOneByOne(db: Knex, migrations: readonly NamedMigration[]): Promise<string[]> {
  const config = { migrationSource: sourceOf(migrations) }
  const applied: string[] = []
  for (;;) {
    const [, waiting] = (await db.migrate.list(config)) as [unknown, unknown[]]
    if (waiting.length === 0) return applied
    const [, names] = (await db.migrate.up(config)) as [number, string[]]
    applied.push(...names)
  }
}

/**
 * Brings the database to the latest schema. An existing database is first copied with
 * `VACUUM INTO` (a consistent copy, WAL included), so a failed or faulty migration can be undone
 * by hand.
 */
export async function migrateToLatest(
  db: Knex,
  /** `migrations`: createMigrations(cipher), or in tests a list cut short or lengthened. */
  options: {
    backupDir: string
    clock: Clock
    migrations: readonly NamedMigration[]
    /** Where this process says it is migrating (next to the database); a stale knex lock is released by it. */
    lockFile?: string
  }
): Promise<MigrationOutcome> {
  const { migrations } = options
  const lockFile = options.lockFile ?? join(options.backupDir, '..', 'migrating.pid')
  const config = { migrationSource: sourceOf(migrations) }
  const createdFresh = !(await hasUserTables(db))
  await refuseUnknownMigrations(
    db,
    migrations,
    (name) => `数据库由更新版本的程序创建（含 ${name}），请安装新版程序后再打开，数据未被改动。`
  )
  const [, pending] = (await db.migrate.list(config)) as [unknown, Array<{ name: string }>]
  if (pending.length === 0)
    return {
      applied: [],
      backupFile: null,
      createdFresh,
      schemaVersion: migrations[migrations.length - 1].name
    }
  await releaseStaleLock(db, lockFile, new Date())
  await writeFile(lockFile, String(process.pid))
  try {
    const backupFile = createdFresh
      ? null
      : await backupBefore(db, options.backupDir, pending[0].name, options.clock.now())
    const applied = await applyOneByOne(db, migrations)
    return { applied, backupFile, createdFresh, schemaVersion: migrations[migrations.length - 1].name }
  } finally {
    await rm(lockFile, { force: true })
  }
}
