import type { Knex } from 'knex'
import { wholeAtLeast } from '../dialect'

/**
 * What the centre keeps of every sale it decided (accepted or refused) for the office report:
 * the sale's non-personal fields and its lines' relation, product and premium. No payer, no
 * insured person, no card or ID number. Sales decided before this migration were not kept
 * (only a digest of each item was): they are not in an office report.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('received_sales', (table) => {
    table.string('sale_id', 36).primary()
    /** The terminal that uploaded it (or whose queue file brought it). */
    table.string('terminal_id').notNullable()
    table.string('operator_code', 16).notNullable()
    /** The terminal's time of sale, UTC. */
    table.string('created_at').notNullable()
    table.string('region_code', 6).notNullable()
    table.string('rules_region_code', 6).notNullable()
    table.integer('rules_version').notNullable()
    table.integer('total_fen').notNullable()
    table.check(wholeAtLeast(db, 'total_fen', 1))
    table.index(['terminal_id', 'created_at'])
  })
  await db.schema.createTable('received_sale_lines', (table) => {
    table
      .string('sale_id', 36)
      .notNullable()
      .references('sale_id')
      .inTable('received_sales')
      .onDelete('CASCADE')
    table.integer('line_no').notNullable()
    table.string('relation').notNullable()
    table.string('product_code').notNullable()
    table.integer('premium_fen').notNullable()
    table.primary(['sale_id', 'line_no'])
    table.check(wholeAtLeast(db, 'premium_fen', 1))
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('received_sale_lines')
  await db.schema.dropTable('received_sales')
}
