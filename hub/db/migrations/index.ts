import type { NamedMigration } from '../../../db/migrations/index'
import * as m0001 from './0001_hub'
import * as m0002 from './0002_received_sales'
import * as m0003 from './0003_file_keys'
import * as m0004 from './0004_payer_proof'
import * as m0005 from './0005_record_heads'
import * as m0006 from './0006_terminal_file_keys'
import * as m0007 from './0007_after_sale'
import * as m0008 from './0008_cancellations'
import * as m0009 from './0009_instalments'
import * as m0010 from './0010_terminal_revocation'
import * as m0011 from './0011_snapshot_paging'
import * as m0012 from './0012_pending_stamps'

/**
 * The reference centre's migrations: its own list and its own database file, never the
 * terminal's. Static for the same reason as the terminal's; append only.
 */
export const hubMigrations: readonly NamedMigration[] = [
  { name: 'hub_0001', up: m0001.up, down: m0001.down },
  { name: 'hub_0002_received_sales', up: m0002.up, down: m0002.down },
  { name: 'hub_0003_file_keys', up: m0003.up, down: m0003.down },
  { name: 'hub_0004_payer_proof', up: m0004.up, down: m0004.down },
  { name: 'hub_0005_record_heads', up: m0005.up, down: m0005.down },
  { name: 'hub_0006_terminal_file_keys', up: m0006.up, down: m0006.down },
  { name: 'hub_0007_after_sale', up: m0007.up, down: m0007.down },
  { name: 'hub_0008_cancellations', up: m0008.up, down: m0008.down },
  { name: 'hub_0009_instalments', up: m0009.up, down: m0009.down },
  { name: 'hub_0010_terminal_revocation', up: m0010.up, down: m0010.down },
  { name: 'hub_0011_snapshot_paging', up: m0011.up, down: m0011.down },
  { name: 'hub_0012_pending_stamps', up: m0012.up, down: m0012.down }
]
