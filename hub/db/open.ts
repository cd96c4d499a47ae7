import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import type { Clock } from '../../core/time'
import { openDatabase, openReader } from '../../db/connection'
import { migrateToLatest } from '../../db/migrate'
import { dialectOf } from './dialect'
import { hubMigrations } from './migrations/index'
import { isPostgresUrl, migratePostgres, openPostgres } from './postgres'
import { seedDemo } from './seed'

export const HUB_DB_FILE = 'hub.sqlite3'

/**
 * The centre's database. On SQLite (the default, for demos and tests) its own file in the data
 * folder with its own migrations, opened like the terminal's (WAL, synchronous FULL, one writing
 * connection). On PostgreSQL when `databaseUrl` names one (`DATABASE_URL`): a pool, migrated by
 * one process at a time. The demo population is seeded once, either way.
 */
export async function openHubDatabase(
  dataDir: string,
  options: { clock: Clock; demo?: boolean; databaseUrl?: string; connections?: number }
): Promise<Knex> {
  await mkdir(dataDir, { recursive: true })
  const url = options.databaseUrl ?? ''
  if (url !== '' && !isPostgresUrl(url))
    throw new Error(
      'DATABASE_URL 应为 postgres://用户@主机:端口/数据库 形式；不设则使用数据目录中的 SQLite 文件'
    )
  const db = url !== '' ? openPostgres(url, options.connections) : openDatabase(join(dataDir, HUB_DB_FILE))
  try {
    if (url !== '') await migratePostgres(db, hubMigrations)
    else
      await migrateToLatest(db, {
        backupDir: join(dataDir, 'backups'),
        clock: options.clock,
        migrations: hubMigrations
      })
    if (options.demo ?? true) await seedDemo(db, options.clock)
  } catch (error) {
    await db.destroy()
    throw error
  }
  return db
}

/**
 * Where snapshots are read: on SQLite a few read-only connections of their own (see
 * openSnapshotReader), on PostgreSQL the pool itself (each snapshot reads in a repeatable-read
 * transaction: one fixed view while uploads go on committing). `own`: the caller closes it.
 */
export function snapshotReaderFor(db: Knex): { reader: Knex; own: boolean } {
  return dialectOf(db) === 'postgres'
    ? { reader: db, own: false }
    : { reader: openSnapshotReader(databaseFileOf(db)), own: true }
}

/** The file behind a knex instance opened by openDatabase. */
export function databaseFileOf(db: Knex): string {
  const connection: unknown = (db.client as { config: Knex.Config }).config.connection
  const filename =
    connection && typeof connection === 'object' && 'filename' in connection ? connection.filename : undefined
  if (typeof filename !== 'string' || filename === ':memory:' || filename === '') {
    throw new Error('中心数据库应为文件：快照从独立的只读连接读取')
  }
  return filename
}

/**
 * Read-only connections for snapshots. Each snapshot reads inside one transaction on its own
 * connection: WAL gives it a fixed view of the database while uploads go on committing on the
 * writer, so a long download neither blocks settlement nor mixes two versions.
 */
export function openSnapshotReader(filename: string, connections = 4): Knex {
  return openReader(filename, connections)
}
