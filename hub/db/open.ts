import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import type { Clock } from '../../core/time'
import { openDatabase, openReader } from '../../db/connection'
import { migrateToLatest } from '../../db/migrate'
import { hubMigrations } from './migrations/index'
import { seedDemo } from './seed'

export const HUB_DB_FILE = 'hub.sqlite3'

/**
 * The centre's database in its data folder: its own file and its own migrations, opened like the
 * terminal's (WAL, synchronous FULL, one writing connection). The demo population is seeded once.
 */
export async function openHubDatabase(
  dataDir: string,
  options: { clock: Clock; demo?: boolean }
): Promise<Knex> {
  await mkdir(dataDir, { recursive: true })
  const db = openDatabase(join(dataDir, HUB_DB_FILE))
  try {
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
