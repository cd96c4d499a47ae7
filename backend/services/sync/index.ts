import type { Knex } from 'knex'
import type { Logger } from '../../../core/log'
import type { OfficeReportRequest, OfficeReportResponse } from '../../../core/sync/protocol'
import type { SyncStatusView } from '../../../core/sync/status'
import type { Clock } from '../../../core/time'
import type { PersonalDataCipher } from '../../../db/personal-data'
import { createOutboxRepository } from '../../../db/repositories/outbox'
import { createSyncStateRepository } from '../../../db/repositories/sync-state'
import type { ActiveRules } from '../rule-store'
import type { TrustedKeys } from '../rules/keys'
import { createCentreConnection } from './connection'
import { createDownloader } from './download'
import { exportQueue, importPackage, type PackageImport, type QueueExport } from './files/transport'
import { officeReport } from './office-report'
import { createRegistration } from './registration'
import { createSyncScheduler } from './scheduler'
import { createSnapshotStore, type SnapshotStore } from './snapshot/import'
import { createSyncStatus } from './status'
import { createUploader } from './upload'

/**
 * Sync with the centre as the rest of the terminal sees it (README in this folder): the status
 * bar's view, 立即同步, the upload after a sale, registration, the office report, the schedule,
 * and the file transport for agents out of reach. Wired once for every shell (Electron, browser
 * mode, the CLI, tests).
 */
export interface Sync {
  status(): Promise<SyncStatusView>
  /** Uploads, then rules and snapshot. One at a time: a second call joins the one running. */
  syncNow(): Promise<SyncStatusView>
  /** Only the upload: after a sale, so the centre hears of it within seconds when online. */
  uploadNow(): Promise<void>
  register(request: { centreUrl: string; enrolmentCode: string; territory: string }): Promise<SyncStatusView>
  /** The sales the centre received from this terminal's office (网点); read-only. */
  officeReport(range: OfficeReportRequest): Promise<OfficeReportResponse>
  /** Whether the centre answered recently: offline amount limits apply only when it did not. */
  centreReachable(): boolean
  /** Sync now and then every few minutes; sooner after a failure, with backoff. */
  start(): void
  stop(): Promise<void>
  /** The file transport (CLI only: files are chosen by whoever runs the command). */
  exportQueue(file: string): Promise<QueueExport>
  importPackage(file: string): Promise<PackageImport>
  readonly snapshots: SnapshotStore
}

export interface SyncOptions {
  readonly db: Knex
  readonly cipher: PersonalDataCipher
  /** The key the cipher was made from: the snapshot import's worker threads make their own cipher with it. */
  readonly personalDataKey: Uint8Array
  readonly clock: Clock
  readonly log: Logger
  readonly rules: ActiveRules
  /** The centre keys trusted for rules: they also vouch for the centre's file-encryption key. */
  readonly trustedKeys: TrustedKeys
  readonly terminalId: string
  readonly appVersion: string
  /** The regions this terminal holds rules for, when not registered yet (demo). */
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

const DEFAULT_INTERVAL_MS = 5 * 60_000
const DEFAULT_BATCH = 100

export function createSync(options: SyncOptions): Sync {
  const { db, cipher, clock, log, terminalId, trustedKeys } = options
  const tuning = options.tuning ?? {}
  const intervalMs = tuning.intervalMs ?? DEFAULT_INTERVAL_MS
  const random = tuning.random ?? Math.random
  const seal = (text: string) => cipher.seal(text).toString('base64')
  const open = (sealed: string) => cipher.open(Buffer.from(sealed, 'base64'))

  const state = createSyncStateRepository(db)
  const outbox = createOutboxRepository(db, cipher)
  const snapshots = createSnapshotStore({ db, cipher, clock, log, personalDataKey: options.personalDataKey })
  const connection = createCentreConnection({
    state,
    clock,
    log,
    terminalId,
    open,
    fetch: tuning.fetch,
    timeoutMs: tuning.timeoutMs
  })
  const upload = createUploader({
    outbox,
    connection,
    clock,
    log,
    terminalId,
    random,
    batchSize: tuning.batchSize ?? DEFAULT_BATCH
  })
  const download = createDownloader({
    state,
    rules: options.rules,
    snapshots,
    connection,
    trustedKeys,
    clock,
    log
  })
  const registration = createRegistration({
    state,
    connection,
    trustedKeys,
    log,
    terminalId,
    appVersion: options.appVersion,
    seal,
    open
  })
  const scheduler = createSyncScheduler({
    connection,
    upload,
    download,
    state,
    clock,
    log,
    intervalMs,
    random,
    afterSync: options.afterSync
  })
  const status = createSyncStatus({
    state,
    outbox,
    snapshots,
    rules: options.rules,
    connection,
    scheduler,
    clock,
    terminalId,
    intervalMs,
    heldRegions: options.heldRegions
  })

  return {
    status,
    async syncNow() {
      await scheduler.syncOnce(true)
      return status()
    },
    uploadNow: () => scheduler.uploadSoon(),
    async register(request) {
      await registration.register(request)
      return status()
    },
    officeReport: (range) => officeReport({ connection, log }, range),
    centreReachable: () => connection.reachable(),
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
    exportQueue: (file) =>
      exportQueue(
        {
          signingKeyPem: () => registration.signingKeyPem(),
          centreFileKey: () => registration.centreFileKey(),
          pendingItems: () => upload.pendingItems(),
          clock,
          terminalId
        },
        file
      ),
    importPackage: (file) =>
      importPackage(
        {
          rules: options.rules,
          snapshots,
          trustedKeys,
          terminalId,
          applyResults: (results) => upload.applyResults(results)
        },
        file
      ),
    snapshots
  }
}
