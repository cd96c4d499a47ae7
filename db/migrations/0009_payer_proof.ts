import type { Knex } from 'knex'

/**
 * How the payer proved the account is theirs (#14): `payer_proof` is `swiped` (card read and its
 * password), `keyed` (card or ID number typed by hand, approved by the supervisor in
 * `keyed_approved_by`, with the password) or `voucher` (e-voucher confirmed online). Sales from
 * before this migration say `legacy`. `centre_reference`: the centre's settlement number once it
 * accepted the sale, printed on the receipt. The password itself is never stored here: only sealed
 * to the centre inside the sealed outbox payload.
 *
 * Plain ALTER TABLE, as in 0008: a REFERENCES column with a NULL default is added in place.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw("ALTER TABLE sales ADD COLUMN payer_proof varchar(16) NOT NULL DEFAULT 'legacy'")
  await db.raw('ALTER TABLE sales ADD COLUMN keyed_approved_by integer REFERENCES operators(id)')
  await db.raw('ALTER TABLE sales ADD COLUMN centre_reference varchar(40)')
}

export async function down(db: Knex): Promise<void> {
  for (const column of ['centre_reference', 'keyed_approved_by', 'payer_proof']) {
    await db.raw(`ALTER TABLE sales DROP COLUMN ${column}`)
  }
}
