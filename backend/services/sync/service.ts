import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { AppError } from '../../../core/errors'
import {
  itemIdOf,
  uploadItemSchema,
  type ItemResult,
  type OfficeReportRequest,
  type OfficeReportResponse,
  type UploadItem
} from '../../../core/sync/protocol'
import { offlineLimits, retryDelayMs, type LimitInputs, type SyncStatusView } from '../../../core/sync/status'
import type { Clock } from '../../../core/time'
import type { PersonalDataCipher } from '../../../db/personal-data'
import type { AnsweredEntry, OutboxRepository, PendingEntry } from '../../../db/repositories/outbox'
import type { SyncStateRepository } from '../../../db/repositories/sync-state'
import type { Logger } from '../log'
import type { ActiveRules } from '../rule-store'
import type { TrustedKeys } from '../rules/keys'
import { CentreCallError, createCentreClient, rulesTag, type CentreClient } from './centre-client'
import { readCentreFileKey } from './files'

/** What the snapshot importer offers the sync: apply a stream, and say which version is held. */
export interface SnapshotStore {
  importSnapshot(
    source: AsyncIterable<Uint8Array | string>,
    options?: { expectedSha256?: string }
  ): Promise<{ snapshotVersion: number; accounts: number; removed: number }>
  current(): Promise<{ version: number; balancesAsOf: string | null }>
  /** Balances-as-of of the oldest account, when no snapshot was ever downloaded (demo data). */
  oldestBalanceAsOf(): Promise<string | null>
}

export interface SyncService {
  status(): Promise<SyncStatusView>
  /** Uploads, then rules and snapshot. One at a time: a second call joins the one running. */
  syncNow(): Promise<SyncStatusView>
  /** Only the upload: after a sale, so the centre hears of it within seconds when online. */
  uploadNow(): Promise<void>
  register(request: { centreUrl: string; enrolmentCode: string; territory: string }): Promise<SyncStatusView>
  /** The items an exported queue file carries, and the result lines a sync package brings back. */
  pendingItems(): Promise<UploadItem[]>
  applyResults(results: readonly ItemResult[]): Promise<number>
  /** The terminal's signing key (PEM), made at registration. */
  signingKeyPem(): Promise<string | null>
  /** The centre's file-encryption key (X25519, checked), from registration or the next sync; null until then. */
  centreFileKey(): Promise<{ keyId: string; publicKeyPem: string } | null>
  /**
   * The sales the centre received from this terminal's office (网点), read-only: nothing is written
   * locally, not even the contact time. NOT_REGISTERED before registration; SYNC_FAILED when the
   * centre cannot be reached; the centre's refusal (a bad range) as INVALID_ARGUMENT.
   */
  officeReport(range: OfficeReportRequest): Promise<OfficeReportResponse>
  /** Whether the centre answered recently: offline amount limits apply only when it did not. */
  centreReachable(): boolean
  /** Sync now and then every `intervalMs`; sooner after a failure, with backoff. */
  start(): void
  stop(): Promise<void>
}

export interface SyncDeps {
  readonly state: SyncStateRepository
  readonly outbox: OutboxRepository
  readonly rules: ActiveRules
  readonly snapshots: SnapshotStore
  readonly cipher: PersonalDataCipher
  readonly clock: Clock
  readonly log: Logger
  readonly terminalId: string
  readonly appVersion: string
  /** The regions this terminal holds rules for, when not registered yet (demo). */
  readonly heldRegions: () => Promise<string[]>
  /** The centre keys trusted for rules: they also vouch for the centre's file-encryption key. */
  readonly trustedKeys: TrustedKeys
  /** After a cycle that went through; its failure is logged and changes nothing of the sync. */
  readonly afterSync?: () => Promise<void>
  readonly fetch?: typeof fetch
  readonly random?: () => number
  /** Between automatic syncs while online. */
  readonly intervalMs?: number
  readonly batchSize?: number
  readonly timeoutMs?: number
}

const DEFAULT_INTERVAL_MS = 5 * 60_000
const DEFAULT_BATCH = 100

export function createSyncService(deps: SyncDeps): SyncService {
  const random = deps.random ?? Math.random
  const intervalMs = deps.intervalMs ?? DEFAULT_INTERVAL_MS
  const batchSize = deps.batchSize ?? DEFAULT_BATCH
  const now = () => deps.clock.now().toISOString()
  const later = (ms: number) => new Date(deps.clock.now().getTime() + ms).toISOString()
  const seal = (text: string) => deps.cipher.seal(text).toString('base64')
  const open = (sealed: string) => deps.cipher.open(Buffer.from(sealed, 'base64'))

  let token: { value: string; expiresAt: number } | null = null
  let running: Promise<void> | null = null
  let uploading: Promise<void> | null = null
  let timer: NodeJS.Timeout | null = null
  let stopped = true
  let failuresInARow = 0
  let nextSyncAt: string | null = null
  let reachable = false

  async function client(): Promise<{ centre: CentreClient; centreUrl: string }> {
    const state = await deps.state.read()
    if (!state.centreUrl || !state.refreshSecretSealed)
      throw new AppError('NOT_REGISTERED', '本终端尚未向中心注册：请主管在“设置”中填写中心地址与注册码')
    return {
      centre: createCentreClient({ baseUrl: state.centreUrl, fetch: deps.fetch, timeoutMs: deps.timeoutMs }),
      centreUrl: state.centreUrl
    }
  }

  async function freshToken(centre: CentreClient, renew = false): Promise<string> {
    if (!renew && token && token.expiresAt - 60_000 > deps.clock.now().getTime()) return token.value
    const state = await deps.state.read()
    if (!state.refreshSecretSealed) throw new AppError('NOT_REGISTERED', '本终端尚未向中心注册')
    const grant = await centre.renewToken(deps.terminalId, open(state.refreshSecretSealed))
    token = { value: grant.token, expiresAt: Date.parse(grant.tokenExpiresAt) }
    return token.value
  }

  /** A call with the token; a 401 renews it once and tries again. */
  async function authorized<T>(centre: CentreClient, call: (token: string) => Promise<T>): Promise<T> {
    try {
      return await call(await freshToken(centre))
    } catch (error) {
      if (!(error instanceof CentreCallError) || error.kind !== 'unauthorized') throw error
      deps.log.info('centre_token_renewed_after_401')
      return call(await freshToken(centre, true))
    }
  }

  async function contact(): Promise<void> {
    reachable = true
    failuresInARow = 0
    await deps.state.write({ lastContactAt: now(), lastError: null })
  }

  async function failed(error: unknown, during: string): Promise<never> {
    const message =
      error instanceof CentreCallError || error instanceof AppError ? error.message : '同步时发生内部错误'
    if (!(error instanceof AppError && error.code === 'NOT_REGISTERED')) {
      // Unreachable: offline. A refusal is still an answer: the centre is there.
      const answered = error instanceof CentreCallError && error.kind !== 'unreachable'
      reachable = answered
      failuresInARow += 1
      await deps.state.write({
        lastError: `${during}：${message}`,
        ...(answered ? { lastContactAt: now() } : {})
      })
      deps.log.error('sync_failed', {
        during,
        kind: error instanceof CentreCallError ? error.kind : 'other',
        status: error instanceof CentreCallError ? (error.status ?? 0) : 0
      })
    }
    if (error instanceof AppError) throw error
    throw new AppError('SYNC_FAILED', `${during}：${message}`)
  }

  // ── Upload ──────────────────────────────────────────────────────────────────────────────────

  /**
   * The due entries in queue order, at most one batch. An account whose earlier entry must wait
   * keeps all its later entries back too: the centre sees each account's items in order.
   */
  async function nextBatch(force: boolean, tried: ReadonlySet<string>): Promise<PendingEntry[]> {
    const batch: PendingEntry[] = []
    const held = new Set<number>()
    const at = now()
    let cursor: { afterCreatedAt?: string; afterId?: string } = {}
    for (;;) {
      const page = await deps.outbox.pending({ ...cursor, limit: 500 })
      for (const entry of page) {
        if (held.has(entry.accountId)) continue
        // Tried once in this pass already (answered retryLater, or no answer): it waits, and so does its account.
        if (tried.has(entry.id) || (!force && entry.nextAttemptAt !== null && entry.nextAttemptAt > at)) {
          held.add(entry.accountId)
          continue
        }
        batch.push(entry)
        if (batch.length >= batchSize) return batch
      }
      if (page.length < 500) return batch
      const last = page[page.length - 1]
      cursor = { afterCreatedAt: last.createdAt, afterId: last.id }
    }
  }

  function itemOf(entry: PendingEntry): UploadItem {
    const payload = JSON.parse(entry.payloadJson) as Record<string, unknown>
    // Reversals queued before the protocol named them carry no id of their own: the outbox id is it.
    const item =
      entry.kind === 'reversal' && payload.reversalId === undefined
        ? { ...payload, reversalId: entry.id }
        : payload
    return uploadItemSchema.parse(item)
  }

  const retryAt = (entry: PendingEntry) => later(retryDelayMs(entry.attempts, random))

  /** `force`: someone pressed 立即同步, so entries waiting out a backoff go now too (once each). */
  async function uploadAll(centre: CentreClient, force = false): Promise<{ sent: number }> {
    let sent = 0
    const tried = new Set<string>()
    for (;;) {
      const batch = await nextBatch(force, tried)
      for (const entry of batch) tried.add(entry.id)
      if (batch.length === 0) return { sent }
      const items = batch.map(itemOf)
      await deps.outbox.markSending(batch, now())
      let results: readonly ItemResult[]
      try {
        results = (await authorized(centre, (t) => centre.upload(t, deps.terminalId, items))).results
      } catch (error) {
        // The centre may or may not have settled them: they are sent again, and it deduplicates.
        await deps.outbox.deferAll(batch, {
          at: now(),
          error: error instanceof Error ? error.message : String(error),
          retryAt
        })
        throw error
      }
      const byId = new Map(results.map((result) => [result.itemId, result]))
      const answered: AnsweredEntry[] = []
      const unanswered: PendingEntry[] = []
      batch.forEach((entry, index) => {
        const result = byId.get(itemIdOf(items[index]))
        if (result) answered.push({ entry, result })
        else unanswered.push(entry)
      })
      await deps.outbox.applyResults(answered, { at: now(), retryAt })
      await deps.outbox.deferAll(unanswered, { at: now(), error: '中心未对此笔作答', retryAt })
      await contact()
      sent += batch.length
      const counts = { accepted: 0, rejected: 0, retryLater: 0 }
      for (const { result } of answered)
        counts[result.outcome === 'alreadyAccepted' ? 'accepted' : result.outcome] += 1
      deps.log.info('outbox_uploaded', { items: batch.length, ...counts, unanswered: unanswered.length })
      if (answered.every(({ result }) => result.outcome === 'retryLater')) return { sent }
    }
  }

  // ── Download ────────────────────────────────────────────────────────────────────────────────

  async function syncRules(centre: CentreClient, regionCodes: readonly string[]): Promise<void> {
    const checked: Record<string, string> = { ...(await deps.state.read()).rulesCheckedAt }
    for (const region of regionCodes) {
      const held = await deps.rules.select(region, now())
      const tag = held.ok ? rulesTag(region, held.value.bundle.version) : null
      const envelope = await authorized(centre, (t) => centre.rules(t, region, tag))
      if (envelope !== null) {
        const imported = await deps.rules.import(envelope)
        deps.log.info('rules_synced', { region, version: imported.bundle.version, status: imported.status })
      }
      checked[region] = now()
    }
    await deps.state.write({ rulesCheckedAt: checked })
  }

  async function syncSnapshot(centre: CentreClient): Promise<void> {
    const { version } = await deps.snapshots.current()
    const stream = await authorized(centre, (t) => centre.snapshot(t, version > 0 ? version : null))
    const result = await deps.snapshots.importSnapshot(stream)
    deps.log.info('snapshot_synced', {
      version: result.snapshotVersion,
      accounts: result.accounts,
      removed: result.removed
    })
  }

  /**
   * A terminal registered before the centre handed out file keys fetches it once. Checked against
   * the trusted keys before it is kept; a failure only means the queue cannot be exported yet.
   */
  async function fetchCentreFileKey(centre: CentreClient): Promise<void> {
    try {
      const signed = await centre.centreFileKey()
      readCentreFileKey(signed, deps.trustedKeys)
      await deps.state.write({ centreFileKey: signed })
    } catch (error) {
      deps.log.info('centre_file_key_unavailable', { error: error instanceof Error ? error.name : 'unknown' })
    }
  }

  async function runCycle(force: boolean): Promise<void> {
    const { centre } = await client()
    const state = await deps.state.read()
    if (state.centreFileKey === null) await fetchCentreFileKey(centre)
    // One upload at a time: the one a sale started finishes before this one looks at the queue.
    await uploading?.catch(() => undefined)
    try {
      await uploadAll(centre, force)
    } catch (error) {
      await failed(error, '上传交易')
    }
    try {
      await syncRules(centre, state.regionCodes)
      await syncSnapshot(centre)
    } catch (error) {
      await failed(error, '下载规则与账户数据')
    }
    await contact()
    await deps.state.write({ lastSyncAt: now() })
    await deps
      .afterSync?.()
      .catch((error: unknown) =>
        deps.log.error('after_sync_failed', { error: error instanceof Error ? error.name : 'unknown' })
      )
  }

  function once(force = false): Promise<void> {
    running ??= runCycle(force).finally(() => {
      running = null
      uploadAgainIfAsked()
    })
    return running
  }

  /**
   * A sale committed while an upload or a sync was already under way may have missed it (its
   * last look at the queue came before the commit): asked for meanwhile, another upload follows at
   * once, instead of the sale waiting for the next scheduled sync.
   */
  let uploadAsked = false
  /** Set by stop(): nothing new starts while the service winds down (the database closes next). */
  let closing = false
  function uploadAgainIfAsked(): void {
    if (!uploadAsked || closing) return
    uploadAsked = false
    void uploadSoon().catch(() => undefined)
  }

  function uploadSoon(): Promise<void> {
    if (running || uploading) {
      uploadAsked = true
      return (running ?? uploading) as Promise<void>
    }
    uploading = (async () => {
      const { centre } = await client()
      try {
        await uploadAll(centre)
      } catch (error) {
        await failed(error, '上传交易')
      }
    })().finally(() => {
      uploading = null
      uploadAgainIfAsked()
    })
    return uploading
  }

  function schedule(delayMs: number): void {
    if (stopped) return
    if (timer) clearTimeout(timer)
    nextSyncAt = later(delayMs)
    timer = setTimeout(() => {
      timer = null
      nextSyncAt = null
      once()
        .catch(() => undefined)
        .finally(() =>
          schedule(
            failuresInARow === 0 ? intervalMs : Math.min(intervalMs, retryDelayMs(failuresInARow, random))
          )
        )
    }, delayMs)
    timer.unref()
  }

  async function status(): Promise<SyncStatusView> {
    const [state, queue, rejectedCount, snapshot, nextAttemptAt] = await Promise.all([
      deps.state.read(),
      deps.outbox.queuedSales(),
      deps.outbox.rejectedCount(),
      deps.snapshots.current(),
      deps.outbox.nextAttemptAt()
    ])
    const at = now()
    const balancesAsOf = snapshot.balancesAsOf ?? (await deps.snapshots.oldestBalanceAsOf()) ?? at
    const regions = state.regionCodes.length > 0 ? state.regionCodes : await deps.heldRegions()
    const inputs: LimitInputs[] = []
    for (const region of regions) {
      const held = await deps.rules.select(region, at)
      if (!held.ok) continue
      inputs.push({
        bundle: held.value.bundle,
        rulesCheckedAt: await deps.rules.confirmedAt(held.value.bundle),
        balancesAsOf,
        queued: queue,
        now: at
      })
    }
    const limits = offlineLimits(inputs)
    const recent =
      state.lastContactAt !== null && Date.parse(at) - Date.parse(state.lastContactAt) < 2 * intervalMs
    return {
      registered: state.centreUrl !== null && state.refreshSecretSealed !== null,
      terminalId: deps.terminalId,
      centreUrl: state.centreUrl,
      // A refusal (a withdrawn bundle's 404, say) is an answer: the centre is there, lastError says what went wrong.
      connection:
        state.lastContactAt === null && state.lastError === null
          ? 'never'
          : reachable && recent
            ? 'online'
            : 'offline',
      busy: running !== null || uploading !== null,
      lastContactAt: state.lastContactAt,
      lastSyncAt: state.lastSyncAt,
      lastError: state.lastError,
      snapshot: { version: snapshot.version, balancesAsOf: snapshot.balancesAsOf },
      queue: { ...queue, nextAttemptAt },
      rejectedCount,
      // Every limit near or reached, else only the tightest: the status bar has one line for them.
      limits: limits.filter((limit, index) => limit.level !== 'ok' || index === 0),
      nextSyncAt
    }
  }

  return {
    status,

    async syncNow() {
      await once(true)
      return status()
    },

    uploadNow: () => uploadSoon(),

    async register(request) {
      const centre = createCentreClient({
        baseUrl: request.centreUrl,
        fetch: deps.fetch,
        timeoutMs: deps.timeoutMs
      })
      const state = await deps.state.read()
      let signingKeySealed = state.signingKeySealed
      if (!signingKeySealed) {
        signingKeySealed = seal(
          generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
        )
      }
      const publicKeyPem = createPublicKey(open(signingKeySealed))
        .export({ type: 'spki', format: 'pem' })
        .toString()
      let granted
      try {
        granted = await centre.register({
          enrolmentCode: request.enrolmentCode,
          terminalId: deps.terminalId,
          territory: request.territory,
          appVersion: deps.appVersion,
          publicKeyPem
        })
      } catch (error) {
        if (error instanceof CentreCallError) throw new AppError('SYNC_FAILED', `注册失败：${error.message}`)
        throw error
      }
      token = { value: granted.token, expiresAt: Date.parse(granted.tokenExpiresAt) }
      // A centre that does not vouch for its file key properly is still registered with; the key is fetched again on sync.
      let centreFileKey: string | null = null
      if (granted.centreFileKey !== undefined) {
        try {
          readCentreFileKey(granted.centreFileKey, deps.trustedKeys)
          centreFileKey = granted.centreFileKey
        } catch {
          deps.log.error('centre_file_key_refused', {})
        }
      }
      await deps.state.write({
        centreFileKey,
        centreUrl: request.centreUrl,
        regionCodes: granted.regionCodes,
        refreshSecretSealed: seal(granted.refreshSecret),
        signingKeySealed,
        territory: request.territory,
        lastError: null
      })
      await contact()
      deps.log.info('terminal_registered', { regions: granted.regionCodes.length })
      return status()
    },

    async centreFileKey() {
      const signed = (await deps.state.read()).centreFileKey
      return signed === null ? null : readCentreFileKey(signed, deps.trustedKeys)
    },

    async pendingItems() {
      const items: UploadItem[] = []
      let cursor: { afterCreatedAt?: string; afterId?: string } = {}
      for (;;) {
        const page = await deps.outbox.pending({ ...cursor, limit: 500 })
        items.push(...page.map(itemOf))
        if (page.length < 500) return items
        cursor = { afterCreatedAt: page[page.length - 1].createdAt, afterId: page[page.length - 1].id }
      }
    },

    async applyResults(results) {
      const byId = new Map(results.map((result) => [result.itemId, result]))
      const answered: AnsweredEntry[] = []
      let cursor: { afterCreatedAt?: string; afterId?: string } = {}
      for (;;) {
        const page = await deps.outbox.pending({ ...cursor, limit: 500 })
        for (const entry of page) {
          const result = byId.get(itemIdOf(itemOf(entry)))
          if (result && result.outcome !== 'retryLater') answered.push({ entry, result })
        }
        if (page.length < 500) break
        cursor = { afterCreatedAt: page[page.length - 1].createdAt, afterId: page[page.length - 1].id }
      }
      await deps.outbox.applyResults(answered, { at: now(), retryAt })
      return answered.length
    },

    async signingKeyPem() {
      const sealed = (await deps.state.read()).signingKeySealed
      return sealed ? open(sealed) : null
    },

    async officeReport(range) {
      const { centre } = await client()
      try {
        return await authorized(centre, (value) => centre.officeReport(value, range))
      } catch (error) {
        if (!(error instanceof CentreCallError)) throw error
        deps.log.error('office_report_failed', { kind: error.kind, status: error.status ?? 0 })
        if (error.kind === 'refused' && error.status === 400)
          throw new AppError('INVALID_ARGUMENT', error.message)
        if (error.kind !== 'unreachable')
          throw new AppError('SYNC_FAILED', `中心拒绝了网点汇总的查询：${error.message}`)
        throw new AppError(
          'SYNC_FAILED',
          `网点汇总需要连接医保中心，现在连不上（${error.message}）。本终端自己的日结汇总不需要中心，仍可离线查看与打印。`
        )
      }
    },

    centreReachable: () => reachable,

    start() {
      if (!stopped) return
      stopped = false
      closing = false
      schedule(0)
    },

    async stop() {
      closing = true
      stopped = true
      if (timer) clearTimeout(timer)
      timer = null
      await Promise.allSettled([running, uploading])
    }
  }
}
