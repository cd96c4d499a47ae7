import type { NamedMigration } from '../../../db/migrations/index'
import * as m0001 from './0001_hub'

/**
 * The reference centre's migrations: its own list and its own database file, never the
 * terminal's. Static for the same reason as the terminal's; append only.
 */
export const hubMigrations: readonly NamedMigration[] = [{ name: 'hub_0001', up: m0001.up, down: m0001.down }]
