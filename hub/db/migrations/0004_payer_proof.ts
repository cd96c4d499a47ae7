import type { Knex } from 'knex'
import { dialectOf } from '../dialect'

/**
 * The payer's proof. `card_pins`: the centre's verifier of each card's password (a slow hash, never
 * the password) and its wrong tries; an account without a row still has the initial password
 * (社保卡初始密码). `vouchers`: e-voucher codes the centre issued to an account's phone.
 * `item_results.reference`: the centre's number for each settlement, printed on the receipt.
 * `hub_policy`: the centre's switches (whether sales with a typed card number are taken).
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('card_pins', (table) => {
    table.integer('account_id').primary().references('accounts.id').onDelete('CASCADE')
    table.string('verifier').notNullable()
    table.integer('failed_tries').notNullable().defaultTo(0)
    table.string('locked_at')
    table.string('updated_at').notNullable()
  })
  await db.schema.createTable('vouchers', (table) => {
    table.string('code', 64).primary()
    table.integer('account_id').notNullable().references('accounts.id').onDelete('CASCADE')
    table.string('issued_at').notNullable()
    table.string('expires_at').notNullable()
  })
  await db.schema.alterTable('item_results', (table) => {
    table.string('reference', 40)
  })
  // The numbers in the references: SQLite takes the result's rowid; PostgreSQL a sequence, which
  // concurrent settlements draw from without waiting for each other (hub/db/dialect.ts).
  if (dialectOf(db) === 'postgres') await db.raw('create sequence settlement_numbers')
  await db.schema.createTable('hub_policy', (table) => {
    table.string('key').primary()
    table.string('value').notNullable()
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('hub_policy')
  if (dialectOf(db) === 'postgres') await db.raw('drop sequence settlement_numbers')
  await db.schema.alterTable('item_results', (table) => {
    table.dropColumn('reference')
  })
  await db.schema.dropTable('vouchers')
  await db.schema.dropTable('card_pins')
}
