import type { Knex } from 'knex'
import type { Clock } from '../../../core/time'
import type { PersonalDataCipher } from '../../../db/personal-data'
import { createOutboxRepository } from '../../../db/repositories/outbox'
import { createSyncStateRepository } from '../../../db/repositories/sync-state'
import type { Logger } from '../log'
import type { ActiveRules } from '../rule-store'
import type { TrustedKeys } from '../rules/keys'
import { exportQueue, importPackage, type PackageImport, type QueueExport } from './files'
import { createSyncService, type SnapshotStore, type SyncService } from './service'
import { currentSnapshot, importSnapshot } from './snapshot-import'

export interface SyncStack {
  readonly sync: SyncService
  readonly snapshots: SnapshotStore
  /** The file transport (CLI only: files are chosen by whoever runs the command). */
  exportQueue(file: string): Promise<QueueExport>
  importPackage(file: string): Promise<PackageImport>
}

export interface SyncStackOptions {
  readonly db: Knex
  readonly cipher: PersonalDataCipher
  /** The key the cipher was made from: the snapshot import's worker threads make their own cipher with it. */
  readonly personalDataKey: Uint8Array
  readonly clock: Clock
  readonly log: Logger
  readonly rules: ActiveRules
  readonly trustedKeys: TrustedKeys
  readonly terminalId: string
  readonly appVersion: string
  readonly heldRegions: () => Promise<string[]>
  /** After each sync that went through (uploads and downloads). */
  readonly afterSync?: () => Promise<void>
  /** Tests shorten the interval and the timeouts, fix the jitter, and may slow the network down. */
  readonly tuning?: {
    intervalMs?: number
    timeoutMs?: number
    batchSize?: number
    random?: () => number
    fetch?: typeof fetch
  }
}

/** The sync service with the stores it works on, wired once for every shell (Electron, browser mode, CLI, tests). */
export function createSyncStack(options: SyncStackOptions): SyncStack {
  const { db, cipher, clock, log } = options
  const snapshots: SnapshotStore = {
    importSnapshot: (source, importOptions) =>
      importSnapshot(
        { db, cipher, clock, log, personalDataKey: options.personalDataKey },
        source,
        importOptions
      ),
    current: () => currentSnapshot(db),
    async oldestBalanceAsOf() {
      const row = await db('accounts')
        .whereNull('removed_at')
        .min<{ oldest: string | null }>({ oldest: 'balance_as_of' })
        .first()
      return row?.oldest ?? null
    }
  }
  const sync = createSyncService({
    state: createSyncStateRepository(db),
    outbox: createOutboxRepository(db, cipher),
    rules: options.rules,
    snapshots,
    cipher,
    clock,
    log,
    terminalId: options.terminalId,
    appVersion: options.appVersion,
    heldRegions: options.heldRegions,
    trustedKeys: options.trustedKeys,
    afterSync: options.afterSync,
    ...options.tuning
  })
  return {
    sync,
    snapshots,
    exportQueue: (file) => exportQueue({ sync, clock, terminalId: options.terminalId }, file),
    importPackage: (file) =>
      importPackage(
        {
          sync,
          rules: options.rules,
          snapshots,
          trustedKeys: options.trustedKeys,
          terminalId: options.terminalId
        },
        file
      )
  }
}
