import type { Knex } from 'knex'

/** Each terminal's X25519 public key: sync packages are encrypted to it (#15). Null until it sent one. */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('terminals', (table) => {
    table.text('file_public_key_pem')
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('terminals', (table) => {
    table.dropColumn('file_public_key_pem')
  })
}
