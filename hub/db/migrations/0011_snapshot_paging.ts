import type { Knex } from 'knex'
import { dialectOf } from '../dialect'

/**
 * Snapshots page through a region in (version, id) order. SQLite's index on (region_code, version)
 * carries the rowid, which is the id, so each page is one index range; PostgreSQL's does not, and
 * every page re-read and re-sorted the whole region (50 ms a page at 120,000 accounts, a full
 * snapshot of a province never ending). There the index names id too.
 */
export async function up(db: Knex): Promise<void> {
  if (dialectOf(db) !== 'postgres') return
  await db.raw('create index accounts_region_version_id on accounts (region_code, version, id)')
  await db.raw('drop index accounts_region_version')
}

export async function down(db: Knex): Promise<void> {
  if (dialectOf(db) !== 'postgres') return
  await db.raw('create index accounts_region_version on accounts (region_code, version)')
  await db.raw('drop index accounts_region_version_id')
}
