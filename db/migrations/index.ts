import type { Knex } from 'knex'
import type { PersonalDataCipher } from '../personal-data'
import * as m0001 from './0001_snapshot'
import * as m0002 from './0002_rule_bundles'
import * as m0003 from './0003_sales'
import * as m0004 from './0004_personal_data'
import * as m0005 from './0005_sync'
import * as m0006 from './0006_snapshot_staging'
import * as m0007 from './0007_closes'
import * as m0008 from './0008_rejection_follow_up'
import * as m0009 from './0009_payer_proof'
import * as m0010 from './0010_record_chains'
import * as m0011 from './0011_policies'
import * as m0012 from './0012_cancellations'
import * as m0013 from './0013_instalments'

export interface NamedMigration extends Knex.Migration {
  readonly name: string
  /** `transaction: false` runs the migration outside knex's transaction (it then keeps its own). */
  readonly config?: { readonly transaction?: boolean }
}

/**
 * Migrations as a static list: knex's folder loader cannot find .ts files once the main process
 * is bundled. Append only; never rename or edit a migration that has shipped. A factory, because
 * from 0004 on existing personal data is sealed with the terminal's key while migrating.
 */
export function createMigrations(cipher: PersonalDataCipher): readonly NamedMigration[] {
  return [
    { name: '0001_snapshot', up: m0001.up, down: m0001.down },
    { name: '0002_rule_bundles', up: m0002.up, down: m0002.down },
    { name: '0003_sales', up: m0003.up, down: m0003.down },
    {
      name: '0004_personal_data',
      config: { transaction: false },
      up: (db) => m0004.up(db, cipher),
      down: m0004.down
    },
    { name: '0005_sync', up: m0005.up, down: m0005.down },
    { name: '0006_snapshot_staging', up: m0006.up, down: m0006.down },
    { name: '0007_closes', up: m0007.up, down: m0007.down },
    { name: '0008_rejection_follow_up', up: m0008.up, down: m0008.down },
    { name: '0009_payer_proof', up: m0009.up, down: m0009.down },
    { name: '0010_record_chains', up: (db) => m0010.up(db, cipher), down: m0010.down },
    { name: '0011_policies', up: m0011.up, down: m0011.down },
    { name: '0012_cancellations', up: m0012.up, down: m0012.down },
    { name: '0013_instalments', up: m0013.up, down: m0013.down }
  ]
}

/** Tests pass a shorter list to migrate a database to version N, add a fixture, then go on to N+1. */
export function sourceOf(list: readonly NamedMigration[]): Knex.MigrationSource<NamedMigration> {
  return {
    getMigrations: async () => [...list],
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => migration
  }
}
