import type { Knex } from 'knex'

/**
 * A terminal the centre stopped (`npm run hub -- revoke-terminal`): a lost laptop, a closed
 * window. Its tokens go, and it can neither renew one, register again under its number, nor have
 * its files imported or packages made for it.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('terminals', (table) => {
    table.string('revoked_at')
    table.string('revoked_reason', 200)
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('terminals', (table) => {
    table.dropColumn('revoked_at')
    table.dropColumn('revoked_reason')
  })
}
