import type { Knex } from 'knex'

/**
 * Cooling-off cancellations (犹豫期退保, #17): each request with its lines, refund, reason, who
 * asked and which supervisor approved, and what the centre answered; a line the centre cancelled
 * carries the time. The outbox takes a third kind of entry, `cancellation`: SQLite cannot change a
 * CHECK in place, so the table is rebuilt with the same rows (inside the migration's transaction;
 * nothing refers to it).
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`create table outbox_new (
    id varchar(36) not null primary key,
    kind varchar(255) not null,
    sale_id varchar(36) not null references sales (id),
    payload_sealed blob not null,
    created_at varchar(255) not null,
    state varchar(255) not null default 'pending',
    attempts integer not null default 0,
    next_attempt_at varchar(255),
    last_attempt_at varchar(255),
    last_error varchar(255),
    sent_at varchar(255),
    check (kind in ('sale', 'reversal', 'cancellation')),
    check (state in ('pending', 'sent', 'cancelled'))
  )`)
  await db.raw(`insert into outbox_new (id, kind, sale_id, payload_sealed, created_at, state, attempts,
      next_attempt_at, last_attempt_at, last_error, sent_at)
    select id, kind, sale_id, payload_sealed, created_at, state, attempts,
      next_attempt_at, last_attempt_at, last_error, sent_at from outbox`)
  await db.raw('drop table outbox')
  await db.raw('alter table outbox_new rename to outbox')
  await db.raw('create index `outbox_state_created_at_index` on `outbox` (`state`, `created_at`)')

  await db.schema.createTable('cancellations', (table) => {
    table.string('id', 36).primary()
    table.string('sale_id', 36).notNullable().references('id').inTable('sales')
    table.text('line_nos_json').notNullable()
    table.integer('refund_fen').notNullable()
    table.string('reason', 200).notNullable()
    table.string('requested_at').notNullable()
    table.integer('operator_id').notNullable().references('id').inTable('operators')
    table.integer('approved_by').notNullable().references('id').inTable('operators')
    table.string('status').notNullable().defaultTo('queued')
    table.string('settled_at')
    table.string('result_code')
    table.string('result_message', 500)
    table.check("status in ('queued', 'accepted', 'rejected')")
    table.check('refund_fen > 0')
    table.index(['sale_id'])
  })
  await db.raw('ALTER TABLE sale_lines ADD COLUMN cancelled_at varchar(30)')
}

export async function down(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE sale_lines DROP COLUMN cancelled_at')
  await db.schema.dropTable('cancellations')
}
