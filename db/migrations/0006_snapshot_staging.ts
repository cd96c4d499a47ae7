import type { Knex } from 'knex'

/**
 * Staging for the account snapshot import (backend/services/sync/snapshot-import.ts): a download
 * is parsed, hashed and sealed into these tables in short transactions while the counter keeps
 * serving swipes, and copied to the live tables in one transaction only once its end line checks
 * out. Nothing reads them but the import; an interrupted import leaves rows here that the next one
 * discards. They hold hashes and sealed records only, like the live tables.
 *
 * No foreign keys and no checks beyond what the import needs to find a bad line: the live tables'
 * constraints judge the rows when they are applied.
 */
export async function up(db: Knex): Promise<void> {
  // The import that owns the staged rows, so two imports (two processes on one file) cannot mix theirs.
  await db.raw(`create table snapshot_staging_owner (
    id integer not null primary key check (id = 1),
    import_id varchar(36) not null,
    started_at varchar(255) not null
  )`)
  // line_no is the rowid: rows keep the snapshot's order, and a failure can name the line.
  await db.raw(`create table snapshot_staging_accounts (
    line_no integer not null primary key,
    account_no varchar(32) not null,
    card_hash blob not null,
    id_hash blob not null,
    pii blob not null,
    region_code varchar(6) not null,
    insurance_type varchar(255) not null,
    status varchar(255) not null,
    balance_fen integer not null,
    historical_balance_fen integer not null,
    spent_this_year_fen integer not null,
    fitness_card_transfers_fen integer not null
  )`)
  // A second line for the same account is refused, not silently merged.
  await db.raw(
    'create unique index snapshot_staging_accounts_account_no_unique on snapshot_staging_accounts (account_no)'
  )
  await db.raw(`create table snapshot_staging_family (
    account_no varchar(32) not null,
    id_hash blob not null,
    pii blob not null,
    relation varchar(255) not null,
    bound_at varchar(255) not null
  )`)
  await db.raw(`create table snapshot_staging_holdings (
    account_no varchar(32) not null,
    id_hash blob not null,
    product_code varchar(40) not null,
    cover_from varchar(255) not null,
    cover_to varchar(255) not null
  )`)
  await db.raw(`create table snapshot_staging_removed (
    line_no integer not null primary key,
    account_no varchar(32) not null
  )`)
  await db.raw(
    'create unique index snapshot_staging_removed_account_no_unique on snapshot_staging_removed (account_no)'
  )
}

export async function down(db: Knex): Promise<void> {
  for (const table of [
    'snapshot_staging_removed',
    'snapshot_staging_holdings',
    'snapshot_staging_family',
    'snapshot_staging_accounts',
    'snapshot_staging_owner'
  ]) {
    await db.schema.dropTable(table)
  }
}
