import type { Knex } from 'knex'

/**
 * The policy's life after the sale (#17): the applicant's mobile (投保人手机号), sealed with the
 * personal-data key like names, and each line's policy number and time of issue once the centre
 * passes the insurer's on, also on the snapshot's holdings. Plain ALTER TABLE, as in 0008 and 0009.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE sales ADD COLUMN applicant_mobile_sealed blob')
  await db.raw('ALTER TABLE sale_lines ADD COLUMN policy_no varchar(40)')
  await db.raw('ALTER TABLE sale_lines ADD COLUMN policy_issued_at varchar(30)')
  // The snapshot's holdings carry the insurer's number from a centre of protocol 2.
  await db.raw('ALTER TABLE holdings ADD COLUMN policy_no varchar(40)')
  await db.raw('ALTER TABLE snapshot_staging_holdings ADD COLUMN policy_no varchar(40)')
}

export async function down(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE snapshot_staging_holdings DROP COLUMN policy_no')
  await db.raw('ALTER TABLE holdings DROP COLUMN policy_no')
  await db.raw('ALTER TABLE sale_lines DROP COLUMN policy_issued_at')
  await db.raw('ALTER TABLE sale_lines DROP COLUMN policy_no')
  await db.raw('ALTER TABLE sales DROP COLUMN applicant_mobile_sealed')
}
