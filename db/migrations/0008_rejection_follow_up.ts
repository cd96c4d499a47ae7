import type { Knex } from 'knex'

/**
 * A supervisor follows up each sale the centre rejected (called the customer, sold again, …) and
 * records when, who and how. Until then the status bar counts it; nothing about the rejection itself
 * (the centre's code and message) is changed.
 *
 * Plain ALTER TABLE statements: knex's alterTable rebuilds an SQLite table to add a column with a
 * foreign key, and dropping `sales` fails while sale lines, the ledger and the outbox refer to it.
 * SQLite adds a REFERENCES column in place when its default is NULL.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE sales ADD COLUMN followed_up_at varchar(255)')
  await db.raw('ALTER TABLE sales ADD COLUMN followed_up_by integer REFERENCES operators(id)')
  await db.raw('ALTER TABLE sales ADD COLUMN follow_up_note varchar(255)')
}

export async function down(db: Knex): Promise<void> {
  for (const column of ['follow_up_note', 'followed_up_by', 'followed_up_at']) {
    await db.raw(`ALTER TABLE sales DROP COLUMN ${column}`)
  }
}
