import type { Knex } from 'knex'

/**
 * The centre's file-encryption keys (X25519): terminals encrypt exported queue files to the newest.
 * Old keys stay, so a file encrypted before a new key was made still opens. In a real centre the
 * private half lives in its key store (an HSM); the reference centre keeps it in its database.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('file_keys', (table) => {
    table.string('key_id').primary()
    table.text('private_key_pem').notNullable()
    /** The public half as terminals receive it: a signed file (CENTRE_FILE_KEY_FORMAT). */
    table.text('signed_public_key').notNullable()
    table.string('created_at').notNullable()
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('file_keys')
}
