import type { Knex } from 'knex'

/**
 * Where each terminal's audit log and close reports ended at its last report (`record_heads`),
 * and every report that came back shorter or rewritten (`record_alarms`): rows removed at the
 * terminal, which its own chain cannot show once the tail is cut.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('record_heads', (table) => {
    table.string('terminal_id').notNullable().references('terminals.id')
    table.string('chain', 16).notNullable()
    table.integer('length').notNullable()
    table.string('head', 64).notNullable()
    table.string('reported_at').notNullable()
    table.primary(['terminal_id', 'chain'])
  })
  await db.schema.createTable('record_alarms', (table) => {
    table.increments('id')
    table.string('terminal_id').notNullable().references('terminals.id')
    table.string('chain', 16).notNullable()
    table.string('at').notNullable()
    table.integer('held_length').notNullable()
    table.integer('reported_length').notNullable()
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('record_alarms')
  await db.schema.dropTable('record_heads')
}
