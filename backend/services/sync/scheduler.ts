import type { Logger } from '../../../core/log'
import { retryDelayMs } from '../../../core/sync/status'
import type { RecordHeadsRequest, RecordHeadsResponse } from '../../../core/sync/protocol'
import type { Clock } from '../../../core/time'
import type { SyncStateRepository } from '../../../db/repositories/sync-state'
import type { CentreClient } from './centre-client'
import type { CentreConnection } from './connection'
import type { Downloader } from './download'
import type { Uploader } from './upload'

/**
 * When the terminal talks to the centre: a full sync at start, every `intervalMs` while online
 * (sooner after a failure, with backoff and jitter) and on 立即同步; an upload alone within seconds
 * of a sale. One sync at a time (a second request joins the one running), one upload at a time,
 * and nothing of it holds up the counter.
 */
export interface SyncScheduler {
  /** Uploads, then rules and snapshot; resolves when done, rejects with the step's Chinese error. */
  syncOnce(force: boolean): Promise<void>
  /** Only the upload; if one is already under way, another follows it at once. */
  uploadSoon(): Promise<void>
  start(): void
  /** Nothing new starts; resolves once what is running has finished. */
  stop(): Promise<void>
  busy(): boolean
  nextSyncAt(): string | null
}

export interface SyncSchedulerDeps {
  readonly connection: CentreConnection
  readonly upload: Uploader
  readonly download: Downloader
  readonly state: SyncStateRepository
  readonly clock: Clock
  readonly log: Logger
  readonly intervalMs: number
  readonly random: () => number
  /** Gives the centre the terminal's file key when it does not have it yet (terminals registered before #15). */
  readonly sendFileKey?: (centre: CentreClient) => Promise<void>
  /** Tells the centre where the audit log and close reports end (after the upload, every cycle). */
  readonly reportRecords?: (
    send: (heads: RecordHeadsRequest) => Promise<RecordHeadsResponse>
  ) => Promise<void>
  /** Fetches the policy numbers the insurer issued since the last time (after the upload). */
  readonly fetchPolicies?: (centre: CentreClient) => Promise<number>
  /** After a cycle that went through; its failure is logged and changes nothing of the sync. */
  readonly afterSync?: () => Promise<void>
}

export function createSyncScheduler(deps: SyncSchedulerDeps): SyncScheduler {
  const { connection } = deps
  const now = () => deps.clock.now().toISOString()
  const later = (ms: number) => new Date(deps.clock.now().getTime() + ms).toISOString()

  let running: Promise<void> | null = null
  let uploading: Promise<void> | null = null
  let timer: NodeJS.Timeout | null = null
  let stopped = true
  let nextSyncAt: string | null = null
  /** A sale committed while an upload or sync was under way: another upload follows it. */
  let uploadAsked = false
  /** Set by stop(): nothing new starts while the service winds down (the database closes next). */
  let closing = false

  async function runCycle(force: boolean): Promise<void> {
    const centre = await connection.client()
    const state = await deps.state.read()
    if (state.centreFileKey === null) await deps.download.centreFileKey(centre)
    await deps
      .sendFileKey?.(centre)
      .catch((error: unknown) =>
        deps.log.error('file_key_send_failed', { error: error instanceof Error ? error.name : 'unknown' })
      )
    // One upload at a time: the one a sale started finishes before this one looks at the queue.
    await uploading?.catch(() => undefined)
    try {
      await deps.upload.uploadAll(centre, force)
    } catch (error) {
      await connection.failed(error, '上传交易')
    }
    // Policy numbers are news, not money: a failure is logged and waits for the next sync.
    await deps
      .fetchPolicies?.(centre)
      .catch((error: unknown) =>
        deps.log.error('policies_fetch_failed', { error: error instanceof Error ? error.name : 'unknown' })
      )
    // A centre without the call (older), or a failure, does not hold up rules and accounts.
    await deps
      .reportRecords?.((heads) => connection.authorized(centre, (token) => centre.recordHeads(token, heads)))
      .catch((error: unknown) =>
        deps.log.error('record_heads_failed', { error: error instanceof Error ? error.name : 'unknown' })
      )
    try {
      await deps.download.rules(centre, state.regionCodes)
      await deps.download.snapshot(centre)
    } catch (error) {
      await connection.failed(error, '下载规则与账户数据')
    }
    await connection.answered()
    await deps.state.write({ lastSyncAt: now() })
    await deps
      .afterSync?.()
      .catch((error: unknown) =>
        deps.log.error('after_sync_failed', { error: error instanceof Error ? error.name : 'unknown' })
      )
  }

  function syncOnce(force: boolean): Promise<void> {
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
      const centre = await connection.client()
      try {
        await deps.upload.uploadAll(centre)
      } catch (error) {
        await connection.failed(error, '上传交易')
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
      const failures = () => connection.failuresInARow()
      syncOnce(false)
        .catch(() => undefined)
        .finally(() =>
          schedule(
            failures() === 0
              ? deps.intervalMs
              : Math.min(deps.intervalMs, retryDelayMs(failures(), deps.random))
          )
        )
    }, delayMs)
    timer.unref()
  }

  return {
    syncOnce,
    uploadSoon,

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
    },

    busy: () => running !== null || uploading !== null,
    nextSyncAt: () => nextSyncAt
  }
}
