import type { Knex } from 'knex'

/**
 * Yearly instalments (续期缴费, #17): a policy keeps its units and, for a product paid yearly,
 * how many instalments are paid of how many, when the next falls due and the grace days of its
 * contract; each instalment paid is a row of its own (a reversal puts the policy back); every
 * holding row names its policy, so a number issued later reaches every year's row.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('policies', (table) => {
    table.integer('units')
    table.integer('instalment_years')
    table.integer('instalments_paid').notNullable().defaultTo(1)
    table.string('next_due_at')
    table.integer('grace_days')
    table.index(['next_due_at'])
  })
  await db.schema.alterTable('holdings', (table) => {
    table.integer('policy_id')
    table.index(['policy_id'])
  })
  await db.schema.createTable('instalment_payments', (table) => {
    table.string('sale_id', 36).notNullable()
    table.integer('line_no').notNullable()
    table.integer('policy_id').notNullable()
    table.integer('sequence').notNullable()
    table.string('cover_from').notNullable()
    table.string('cover_to').notNullable()
    table.primary(['sale_id', 'line_no'])
    table.unique(['policy_id', 'sequence'])
  })
  await db.schema.alterTable('received_sale_lines', (table) => {
    /** Null: a new policy (新单); otherwise which yearly instalment the line paid (续期). */
    table.integer('instalment_no')
  })
  await db.raw(
    `update holdings set policy_id =
       (select p.id from policies p where p.sale_id = holdings.sale_id and p.line_no = holdings.line_no)
     where line_no is not null`
  )
  // Policies accepted before this centre knew instalments keep none: the demo bundle that first
  // stated them did not yet state their amount, so their terms cannot be read back.
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('received_sale_lines', (table) => {
    table.dropColumn('instalment_no')
  })
  await db.schema.dropTable('instalment_payments')
  await db.schema.alterTable('holdings', (table) => {
    table.dropIndex(['policy_id'])
    table.dropColumn('policy_id')
  })
  await db.schema.alterTable('policies', (table) => {
    table.dropIndex(['next_due_at'])
    for (const column of ['units', 'instalment_years', 'instalments_paid', 'next_due_at', 'grace_days'])
      table.dropColumn(column)
  })
}
