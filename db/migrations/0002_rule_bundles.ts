import type { Knex } from 'knex'

/**
 * Signed rule bundles as received (the whole envelope, so the signature is checked again on every
 * start), and the snapshot's fitness-card transfers (Suzhou counts them against the yearly limit).
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('rule_bundles', (table) => {
    table.increments('id')
    table.string('region_code', 6).notNullable()
    table.integer('version').notNullable()
    table.string('effective_from').notNullable()
    table.string('key_id').notNullable()
    table.text('envelope').notNullable()
    table.string('received_at').notNullable()
    table.unique(['region_code', 'version'])
  })
  await db.schema.alterTable('accounts', (table) => {
    // This settlement year's 阳光健身卡 transfers as of balance_as_of, integer fen.
    table.integer('fitness_card_transfers_fen').notNullable().defaultTo(0)
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('accounts', (table) => table.dropColumn('fitness_card_transfers_fen'))
  await db.schema.dropTable('rule_bundles')
}
