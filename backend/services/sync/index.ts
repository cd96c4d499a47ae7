import type { Knex } from 'knex'
import type { Logger } from '../../../core/log'
import type { OfficeReportRequest, OfficeReportResponse } from '../../../core/sync/protocol'
import type { SyncStatusView } from '../../../core/sync/status'
import type { Clock } from '../../../core/time'
import type { PersonalDataCipher } from '../../../db/personal-data'
import { createOutboxRepository } from '../../../db/repositories/outbox'
import { createSalesRepository } from '../../../db/repositories/sales'
import { createSyncStateRepository } from '../../../db/repositories/sync-state'
import type { ActiveRules } from '../rule-store'
import type { TrustedKeys } from '../rules/keys'
import type { CentreClient } from './centre-client'
import { createCentreConnection } from './connection'
import { createDownloader, type SnapshotProgress } from './download'
import { exportQueue, importPackage, type PackageImport, type QueueExport } from './files/transport'
import { officeReport } from './office-report'
import { createRegistration } from './registration'
import { createSyncScheduler, type SyncSchedulerDeps } from './scheduler'
import { createSnapshotStore, type SnapshotStore } from './snapshot/import'
import { createSyncStatus } from './status'
import { createUploader } from './upload'
import { fetchPolicies } from './policies'

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
  /**
   * The committed sale authorized by the centre while the customer waits (at most the configured
   * time), then the rest of the queue uploaded in the background. Never throws: a registered terminal
   * that gets no answer keeps the sale queued; an unregistered one only queues it.
   */
  authorize(saleId: string): Promise<void>
  register(request: { centreUrl: string; enrolmentCode: string; territory: string }): Promise<SyncStatusView>
  /** The sales the centre received from this terminal's office (网点); read-only. */
  officeReport(range: OfficeReportRequest): Promise<OfficeReportResponse>
  /** Whether the centre answered recently: offline amount limits apply only when it did not. */
  centreReachable(): boolean
  /** Registered with a centre (an address and a refresh secret held). */
  registered(): Promise<boolean>
  /** The centre's file key this terminal holds (signed, checked), or null before it has one. */
  centreFileKey(): Promise<{ keyId: string; publicKeyPem: string } | null>
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
  /** Reports the record chains' heads to the centre with each sync (see RecordsService). */
  readonly reportRecords?: SyncSchedulerDeps['reportRecords']
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
    /** How long a sale at the counter waits for the centre's authorization (default 3 s). */
    authorizationTimeoutMs?: number
    random?: () => number
    fetch?: typeof fetch
  }
}

const DEFAULT_INTERVAL_MS = 5 * 60_000
const DEFAULT_BATCH = 100
export const DEFAULT_AUTHORIZATION_TIMEOUT_MS = 3_000

export function createSync(options: SyncOptions): Sync {
  const { db, cipher, clock, log, terminalId, trustedKeys } = options
  const tuning = options.tuning ?? {}
  const intervalMs = tuning.intervalMs ?? DEFAULT_INTERVAL_MS
  const random = tuning.random ?? Math.random
  const seal = (text: string) => cipher.seal(text).toString('base64')
  const open = (sealed: string) => cipher.open(Buffer.from(sealed, 'base64'))

  const state = createSyncStateRepository(db)
  const outbox = createOutboxRepository(db, cipher)
  const sales = createSalesRepository(db, cipher)
  const applyPolicies = (issues: Parameters<typeof sales.applyPolicies>[0]) => sales.applyPolicies(issues)
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
  const snapshotProgress: { current: SnapshotProgress | null } = { current: null }
  const download = createDownloader({
    progress: snapshotProgress,
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
    afterSync: options.afterSync,
    reportRecords: options.reportRecords,
    fetchPolicies: (centre) => fetchPolicies({ connection, state, applyPolicies, log }, centre),
    sendFileKey: (centre) =>
      registration.sendFileKey((pem) =>
        connection.authorized(centre, (token) => centre.setFileKey(token, terminalId, pem))
      )
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
    heldRegions: options.heldRegions,
    snapshotProgress: () => snapshotProgress.current
  })

  /**
   * The status bar asks every few seconds; at most every five seconds, and never during a sync, the
   * centre is asked whether it is there, so 在线 / 离线 follows it within seconds. Back after an
   * outage: the queue goes up at once.
   */
  let lastProbe = 0
  function probeNow(): void {
    const at = Date.now()
    if (at - lastProbe < 5_000 || scheduler.busy()) return
    lastProbe = at
    const before = connection.reachable()
    void connection.probe().then((reachable) => {
      if (reachable && !before) void scheduler.uploadSoon().catch(() => undefined)
    })
  }

  return {
    async status() {
      probeNow()
      return status()
    },
    async syncNow() {
      await scheduler.syncOnce(true)
      return status()
    },
    uploadNow: () => scheduler.uploadSoon(),
    async authorize(saleId) {
      const timeoutMs = tuning.authorizationTimeoutMs ?? DEFAULT_AUTHORIZATION_TIMEOUT_MS
      const uploadRest = () => void scheduler.uploadSoon().catch(() => undefined)
      let centre: CentreClient
      try {
        centre = await connection.client()
      } catch {
        // Not registered (demo, or before the first sync): the sale waits in the queue.
        return
      }
      const attempt = (async () => {
        try {
          if (await upload.authorize(centre, saleId, timeoutMs)) await connection.answered()
        } catch (error) {
          await connection.failed(error, '联机授权').catch(() => undefined)
        }
      })()
      // A token renewal counts against the same wait: the customer is not held longer than configured.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        attempt,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs + 500)))
      ])
      clearTimeout(timer)
      void attempt.then(uploadRest)
    },
    async register(request) {
      await registration.register(request)
      // Registered: the centre's rules and accounts at once, not at the next scheduled sync.
      void scheduler.syncOnce(true).catch(() => undefined)
      return status()
    },
    officeReport: (range) => officeReport({ connection, log }, range),
    centreReachable: () => connection.reachable(),
    centreFileKey: () => registration.centreFileKey(),
    async registered() {
      const held = await state.read()
      return held.centreUrl !== null && held.refreshSecretSealed !== null
    },
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
    async exportQueue(file) {
      const exported = await exportQueue(
        {
          signingKeyPem: () => registration.signingKeyPem(),
          centreFileKey: () => registration.centreFileKey(),
          pendingItems: async () => upload.pendingItems((await state.read()).centreProtocol ?? 1),
          clock,
          terminalId
        },
        file
      )
      await state.write({ lastFileExchange: { at: clock.now().toISOString(), kind: 'export' } })
      return exported
    },
    async importPackage(file) {
      // A package's snapshot shows its progress as a download's does (no count: lines only).
      const withProgress: SnapshotStore = {
        ...snapshots,
        async importSnapshot(source, importOptions) {
          const progress: SnapshotProgress = {
            phase: 'receiving',
            lines: 0,
            expectedLines: null,
            startedAt: clock.now().toISOString()
          }
          snapshotProgress.current = progress
          try {
            return await snapshots.importSnapshot(source, {
              ...importOptions,
              onProgress: (reached) => Object.assign(progress, reached)
            })
          } finally {
            snapshotProgress.current = null
          }
        }
      }
      const imported = await importPackage(
        {
          rules: options.rules,
          snapshots: withProgress,
          trustedKeys,
          terminalId,
          filePrivateKeyPem: () => registration.filePrivateKeyPem(),
          applyResults: (results) => upload.applyResults(results),
          applyPolicies
        },
        file
      )
      await state.write({ lastFileExchange: { at: clock.now().toISOString(), kind: 'import' } })
      return imported
    },
    snapshots
  }
}
