import type { Knex } from 'knex'

/**
 * Operators and their shifts; the sale with its lines; the ledger that reserves money against the
 * payer's account; the outbox of what must reach the centre; and the audit log. A sale, its lines,
 * its ledger entry and its outbox entry are always written in one transaction.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('operators', (table) => {
    table.increments('id')
    table.string('code').notNullable().unique()
    table.string('name').notNullable()
    table.string('role').notNullable()
    // scrypt$N$r$p$salt$hash: the PIN itself is never stored.
    table.string('pin_hash').notNullable()
    table.boolean('active').notNullable().defaultTo(true)
    table.string('created_at').notNullable()
    table.check("role in ('clerk', 'agent', 'supervisor')")
  })

  await db.schema.createTable('shifts', (table) => {
    table.increments('id')
    table.string('terminal_id').notNullable()
    table.integer('operator_id').notNullable().references('id').inTable('operators')
    table.string('opened_at').notNullable()
    table.string('closed_at')
  })

  await db.schema.createTable('sales', (table) => {
    table.string('id', 36).primary()
    table.string('terminal_id').notNullable()
    table.integer('shift_id').notNullable().references('id').inTable('shifts')
    table.integer('operator_id').notNullable().references('id').inTable('operators')
    table.integer('account_id').notNullable().references('id').inTable('accounts')
    table.string('region_code', 6).notNullable()
    table.integer('rules_version').notNullable()
    table.integer('total_fen').notNullable()
    table.string('status').notNullable()
    table.string('created_at').notNullable()
    table.string('terms_acknowledged_at').notNullable()
    table.text('signature_svg').notNullable()
    table.string('voided_at')
    table.string('void_reason')
    table.integer('voided_by').references('id').inTable('operators')
    table.integer('void_approved_by').references('id').inTable('operators')
    table.string('reversal_queued_at')
    table.check("typeof(total_fen) = 'integer' and total_fen > 0")
    table.check("status in ('queued', 'uploaded', 'accepted', 'rejected', 'voided')")
    table.index(['account_id'])
    table.index(['created_at'])
  })

  await db.schema.createTable('sale_lines', (table) => {
    table.increments('id')
    table.string('sale_id', 36).notNullable().references('id').inTable('sales')
    table.integer('line_no').notNullable()
    table.string('insured_relation').notNullable()
    table.string('insured_id_number', 18).notNullable()
    table.string('insured_name').notNullable()
    table.string('product_code').notNullable()
    table.string('product_name').notNullable()
    table.integer('units')
    table.integer('premium_fen').notNullable()
    table.string('cover_from').notNullable()
    table.string('cover_to').notNullable()
    table.boolean('proof_seen').notNullable()
    // The decision as the rules explained it when sold: every check with its numbers.
    table.text('decision_json').notNullable()
    table.unique(['sale_id', 'line_no'])
    table.check("typeof(premium_fen) = 'integer' and premium_fen > 0")
    table.index(['insured_id_number', 'product_code'])
  })

  await db.schema.createTable('ledger', (table) => {
    table.increments('id')
    table.integer('account_id').notNullable().references('id').inTable('accounts')
    table.string('sale_id', 36).notNullable().references('id').inTable('sales')
    table.string('kind').notNullable()
    // Negative reserves money against the account; positive gives it back (a void).
    table.integer('amount_fen').notNullable()
    table.string('at').notNullable()
    table.check("kind in ('reserve', 'release')")
    table.check("typeof(amount_fen) = 'integer' and amount_fen <> 0")
    table.index(['account_id'])
  })

  await db.schema.createTable('outbox', (table) => {
    table.string('id', 36).primary()
    table.string('kind').notNullable()
    table.string('sale_id', 36).notNullable().references('id').inTable('sales')
    table.text('payload_json').notNullable()
    table.string('created_at').notNullable()
    table.string('state').notNullable().defaultTo('pending')
    table.integer('attempts').notNullable().defaultTo(0)
    table.check("kind in ('sale', 'reversal')")
    table.check("state in ('pending', 'sent', 'cancelled')")
  })

  await db.schema.createTable('audit_log', (table) => {
    table.increments('id')
    table.string('at').notNullable()
    table.integer('operator_id').references('id').inTable('operators')
    table.string('action').notNullable()
    table.string('subject')
    table.text('details_json')
  })
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['audit_log', 'outbox', 'ledger', 'sale_lines', 'sales', 'shifts', 'operators']) {
    await db.schema.dropTable(table)
  }
}
