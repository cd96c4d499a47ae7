import type { Knex } from 'knex'

/**
 * Yearly instalments (续期缴费, #17). The snapshot's holdings carry what the centre says of the
 * policy (the sale line it began with, units, instalments due) as one JSON text: the terminal only
 * reads it per account, never searches it. A sale line that begins a policy paid yearly, or pays
 * one of its instalments, keeps which instalment it is, of how many, the contract's grace days and
 * (for an instalment) the policy's first line. Plain ALTER TABLE, as in 0011.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE holdings ADD COLUMN policy_json text')
  await db.raw('ALTER TABLE snapshot_staging_holdings ADD COLUMN policy_json text')
  await db.raw('ALTER TABLE sale_lines ADD COLUMN instalment_no integer')
  await db.raw('ALTER TABLE sale_lines ADD COLUMN instalment_years integer')
  await db.raw('ALTER TABLE sale_lines ADD COLUMN instalment_grace_days integer')
  await db.raw('ALTER TABLE sale_lines ADD COLUMN policy_sale_id varchar(36)')
  await db.raw('ALTER TABLE sale_lines ADD COLUMN policy_line_no integer')
}

export async function down(db: Knex): Promise<void> {
  for (const column of [
    'policy_line_no',
    'policy_sale_id',
    'instalment_grace_days',
    'instalment_years',
    'instalment_no'
  ])
    await db.raw(`ALTER TABLE sale_lines DROP COLUMN ${column}`)
  await db.raw('ALTER TABLE snapshot_staging_holdings DROP COLUMN policy_json')
  await db.raw('ALTER TABLE holdings DROP COLUMN policy_json')
}
