import type { Knex } from 'knex'

/**
 * What the upload to the centre needs to remember: when each outbox entry may be tried again and
 * why it last failed, and what the centre decided about each sale and reversal. A rejected sale is
 * kept with the centre's reason; nothing the centre answered is ever deleted.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('outbox', (table) => {
    table.string('next_attempt_at')
    table.string('last_attempt_at')
    table.string('last_error')
    table.string('sent_at')
  })
  await db.schema.alterTable('sales', (table) => {
    // The centre's clock: compared with the snapshot's balances-as-of to know the balance includes it.
    table.string('settled_at')
    table.string('result_code')
    table.string('result_message')
    table.string('reversal_settled_at')
    table.string('reversal_result_code')
    table.string('reversal_result_message')
  })
  await db.schema.alterTable('outbox', (table) => {
    table.index(['state', 'created_at'])
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('outbox', (table) => {
    table.dropIndex(['state', 'created_at'])
  })
  for (const column of [
    'settled_at',
    'result_code',
    'result_message',
    'reversal_settled_at',
    'reversal_result_code',
    'reversal_result_message'
  ]) {
    await db.schema.alterTable('sales', (table) => table.dropColumn(column))
  }
  for (const column of ['next_attempt_at', 'last_attempt_at', 'last_error', 'sent_at']) {
    await db.schema.alterTable('outbox', (table) => table.dropColumn(column))
  }
}
