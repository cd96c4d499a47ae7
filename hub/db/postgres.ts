import { userInfo } from 'node:os'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import type { NamedMigration } from '../../db/migrations/index'
import { sourceOf } from '../../db/migrations/index'
import { applyOneByOne, refuseUnknownMigrations } from '../../db/migrate'

/**
 * The centre on a PostgreSQL server (`DATABASE_URL=postgres://…`): a pool per process, several
 * processes on one database. The URL may name a schema with
 * `?options=-c%20search_path%3D<schema>` (tests give each their own).
 */

// count(*) and sum() of integer columns come back as int8, which pg hands over as text. Every
// such figure here (fen, counts) is far below 2^53; one that is not is refused, never rounded.
pg.types.setTypeParser(pg.types.builtins.INT8, (text: string) => {
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new Error(`数据库返回的整数 ${text} 超出可精确表示的范围`)
  return value
})

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url)
}

export function openPostgres(url: string, connections = 10): Knex {
  // As psql does: no user in the URL or PGUSER means the operating-system user (pg would take
  // $USER, which a service manager may leave unset).
  const parsed = new URL(url)
  if (parsed.username === '') parsed.username = encodeURIComponent(process.env.PGUSER || userInfo().username)
  return knexFactory({
    client: 'pg',
    connection: { connectionString: parsed.toString(), application_name: 'yibao-hub' },
    pool: { min: 0, max: connections }
  })
}

/** Any number, the same in every centre process: who holds it is migrating the database. */
const MIGRATION_LOCK = 72_019_018

/**
 * Brings the database to the latest schema, one process at a time: a process that starts while
 * another migrates waits for it, then finds nothing left to do. Each migration commits with its
 * record in one transaction (PostgreSQL's DDL is transactional), so a process killed midway leaves
 * the database at the migration before. Backups are the database server's (pg_dump, WAL archiving).
 */
export async function migratePostgres(db: Knex, migrations: readonly NamedMigration[]): Promise<string[]> {
  const config = { migrationSource: sourceOf(migrations) }
  const connection = await db.client.acquireConnection()
  try {
    const client = connection as pg.Client
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK])
    try {
      await refuseUnknownMigrations(
        db,
        migrations,
        (name) => `数据库由更新版本的中心程序迁移过（含 ${name}），请用新版程序启动，数据未被改动。`
      )
      // Holding the lock, no other process is migrating: a lock flag left by a killed one is stale.
      if (await db.schema.hasTable('knex_migrations_lock')) await db.migrate.forceFreeMigrationsLock(config)
      return await applyOneByOne(db, migrations)
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK])
    }
  } finally {
    await db.client.releaseConnection(connection)
  }
}
