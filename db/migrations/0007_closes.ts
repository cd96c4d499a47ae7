import type { Knex } from 'knex'

/**
 * Close reports (日结 / 交班): numbered per terminal, never changed once written (triggers refuse
 * UPDATE and DELETE), with the summary frozen as it was at the close. A sale records the day close
 * and the shift close that took it (each at most once): a day close takes every sale of its
 * business date not yet in a day close, a shift close every sale of its shift not yet in a shift
 * close, so sales made after a close belong to the next one.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('close_reports', (table) => {
    table.increments('id')
    table.string('terminal_id').notNullable()
    table.integer('number').notNullable()
    table.string('kind').notNullable()
    // The Shanghai calendar date the close is for, YYYY-MM-DD.
    table.string('business_date', 10).notNullable()
    table.integer('shift_id').references('id').inTable('shifts')
    table.string('closed_at').notNullable()
    table.integer('closed_by').notNullable().references('id').inTable('operators')
    table.boolean('late').notNullable()
    // The frozen report: { summary: DailySummaryView, sales: the transaction list }, no personal data.
    table.text('report_json').notNullable()
    table.integer('sale_count').notNullable()
    table.integer('total_fen').notNullable()
    table.unique(['terminal_id', 'number'])
    table.check("kind in ('shift', 'day')")
    table.check("typeof(number) = 'integer' and number > 0")
    table.check("typeof(total_fen) = 'integer'")
    table.index(['business_date'])
  })
  await db.raw(
    "create trigger close_reports_immutable_update before update on close_reports begin select raise(abort, 'close reports are immutable'); end"
  )
  await db.raw(
    "create trigger close_reports_immutable_delete before delete on close_reports begin select raise(abort, 'close reports are immutable'); end"
  )
  // Plain ADD COLUMN: knex would rebuild the sales table for the foreign key, which the lines,
  // ledger and outbox that reference it refuse.
  for (const column of ['day_close_id', 'shift_close_id']) {
    await db.raw(`alter table sales add column ${column} integer references close_reports (id)`)
  }
}

export async function down(db: Knex): Promise<void> {
  for (const column of ['day_close_id', 'shift_close_id']) {
    await db.schema.alterTable('sales', (table) => table.dropColumn(column))
  }
  await db.raw('drop trigger close_reports_immutable_update')
  await db.raw('drop trigger close_reports_immutable_delete')
  await db.schema.dropTable('close_reports')
}
