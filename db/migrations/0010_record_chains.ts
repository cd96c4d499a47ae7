import type { Knex } from 'knex'
import type { PersonalDataCipher } from '../personal-data'
import { linkUnchained } from '../record-chain'

/**
 * Tamper-evident records (#15): `chain_mac` links each audit line and each close report to the one
 * before (db/record-chain.ts); the rows already there are linked now, in id order. Audit lines
 * become immutable like close reports (a trigger refuses UPDATE and DELETE; dropping it is caught
 * by the chain). `pin_change_required`: a new or reset PIN must be changed at first sign-in.
 */
export async function up(db: Knex, cipher: PersonalDataCipher): Promise<void> {
  await db.raw('ALTER TABLE audit_log ADD COLUMN chain_mac varchar(64)')
  await db.raw('ALTER TABLE close_reports ADD COLUMN chain_mac varchar(64)')
  await db.raw('ALTER TABLE operators ADD COLUMN pin_change_required boolean NOT NULL DEFAULT 0')
  await linkUnchained(db, cipher, 'audit')
  // The close reports' own trigger refuses the update that links them: lifted for this step only.
  await db.raw('DROP TRIGGER close_reports_immutable_update')
  await linkUnchained(db, cipher, 'closes')
  await db.raw(
    "CREATE TRIGGER close_reports_immutable_update BEFORE UPDATE ON close_reports BEGIN SELECT raise(abort, 'close reports are immutable'); END"
  )
  for (const change of ['update', 'delete'])
    await db.raw(
      `CREATE TRIGGER audit_log_immutable_${change} BEFORE ${change.toUpperCase()} ON audit_log BEGIN SELECT raise(abort, 'the audit log is append-only'); END`
    )
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP TRIGGER audit_log_immutable_update')
  await db.raw('DROP TRIGGER audit_log_immutable_delete')
  await db.raw('ALTER TABLE operators DROP COLUMN pin_change_required')
  await db.raw('ALTER TABLE close_reports DROP COLUMN chain_mac')
  await db.raw('ALTER TABLE audit_log DROP COLUMN chain_mac')
}
