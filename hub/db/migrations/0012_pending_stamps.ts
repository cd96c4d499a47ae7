import type { Knex } from 'knex'

/**
 * Accounts a settlement changed, waiting for their snapshot version (hub/db/state.ts, noteChanged
 * and stampPending). PostgreSQL only writes here: its settlements no longer queue for the version
 * counter's row. SQLite stamps at once and leaves the table empty.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('pending_stamps', (table) => {
    table.integer('account_id').notNullable()
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('pending_stamps')
}
