import type { Knex } from 'knex'
import { dialectOf } from '../dialect'

/**
 * Cooling-off cancellations (#17): how much of each sale has been refunded (and how much of that
 * went back to the historical balance it was taken from), and when each policy was cancelled. A
 * result may now be a cancellation's: SQLite cannot change a CHECK in place, so item_results is
 * rebuilt with the same rows and the same rowids (the settlement numbers are made from them);
 * PostgreSQL changes the CHECK in place (its numbers come from a sequence).
 */
export async function up(db: Knex): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await db.raw('alter table item_results drop constraint item_results_type_check')
    await db.raw(
      "alter table item_results add constraint item_results_type_check check (type in ('sale', 'reversal', 'cancellation'))"
    )
  } else await rebuildItemResults(db)
  await db.schema.alterTable('hub_sales', (table) => {
    table.integer('refunded_fen').notNullable().defaultTo(0)
    table.integer('refunded_historical_fen').notNullable().defaultTo(0)
  })
  await db.schema.alterTable('policies', (table) => {
    table.string('cancelled_at')
    table.string('cancellation_id', 36)
  })
}

async function rebuildItemResults(db: Knex): Promise<void> {
  await db.raw(`create table item_results_new (
    item_id varchar(36), terminal_id varchar(255) not null, type varchar(255) not null,
    outcome varchar(255) not null, code varchar(255), message varchar(255),
    settled_at varchar(255) not null, content_sha256 varchar(64) not null, reference varchar(40),
    primary key (item_id),
    check (type in ('sale', 'reversal', 'cancellation')),
    check (outcome in ('accepted', 'rejected'))
  )`)
  await db.raw(`insert into item_results_new (rowid, item_id, terminal_id, type, outcome, code, message,
      settled_at, content_sha256, reference)
    select rowid, item_id, terminal_id, type, outcome, code, message, settled_at, content_sha256, reference
      from item_results`)
  await db.raw('drop table item_results')
  await db.raw('alter table item_results_new rename to item_results')
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('policies', (table) => {
    table.dropColumn('cancelled_at')
    table.dropColumn('cancellation_id')
  })
  await db.schema.alterTable('hub_sales', (table) => {
    table.dropColumn('refunded_fen')
    table.dropColumn('refunded_historical_fen')
  })
}
