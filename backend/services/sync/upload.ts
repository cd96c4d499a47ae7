import type { Logger } from '../../../core/log'
import {
  itemForProtocol,
  itemIdOf,
  uploadItemSchema,
  type ItemResult,
  type ProtocolVersion,
  type UploadItem
} from '../../../core/sync/protocol'
import { retryDelayMs } from '../../../core/sync/status'
import type { Clock } from '../../../core/time'
import type { AnsweredEntry, OutboxRepository, PendingEntry } from '../../../db/repositories/outbox'
import type { CentreClient } from './centre-client'
import type { CentreConnection } from './connection'

/**
 * The outbox going up (docs/sync-protocol.md, "Upload"): in queue order, a batch at a time, each
 * entry marked 待确认 (`uploaded`) before it is sent, every answer applied in its own transaction while the entry
 * is still queued. The same items go into an exported queue file, and a package's results settle
 * them the same way.
 */
export interface Uploader {
  /** `force`: someone pressed 立即同步, so entries waiting out a backoff go now too (once each). */
  uploadAll(centre: CentreClient, force?: boolean): Promise<{ sent: number }>
  /**
   * The sale to the centre at once (`POST /v1/authorizations`) with its account's older queued items
   * before it, the answers applied as an upload's. False when there was nothing to send (the sale
   * was settled already, or too much of its account waits: the upload takes it in order). Throws as
   * the upload does when the centre did not answer in `timeoutMs`: the entries wait for the upload.
   */
  authorize(centre: CentreClient, saleId: string, timeoutMs: number): Promise<boolean>
  /** Every queued item, in queue order, as a centre of `protocol` reads it (for a queue file). */
  pendingItems(protocol: ProtocolVersion): Promise<UploadItem[]>
  /** Settles the queued entries the centre's results answer (from a package); how many. */
  applyResults(results: readonly ItemResult[]): Promise<number>
}

export interface UploaderDeps {
  readonly outbox: OutboxRepository
  readonly connection: CentreConnection
  readonly clock: Clock
  readonly log: Logger
  readonly terminalId: string
  readonly random: () => number
  readonly batchSize: number
}

const PAGE = 500
/** The most one authorization carries (the sale and its account's older queued items). */
const MAX_AUTHORIZATION_ITEMS = 50

export function createUploader(deps: UploaderDeps): Uploader {
  const { outbox, connection } = deps
  const now = () => deps.clock.now().toISOString()
  const later = (ms: number) => new Date(deps.clock.now().getTime() + ms).toISOString()
  const retryAt = (entry: PendingEntry) => later(retryDelayMs(entry.attempts, deps.random))

  /** Every queued entry in queue order, a page at a time. */
  async function* queued(): AsyncGenerator<PendingEntry[]> {
    let cursor: { afterCreatedAt?: string; afterId?: string } = {}
    for (;;) {
      const page = await outbox.pending({ ...cursor, limit: PAGE })
      yield page
      if (page.length < PAGE) return
      const last = page[page.length - 1]
      cursor = { afterCreatedAt: last.createdAt, afterId: last.id }
    }
  }

  /**
   * The due entries in queue order, at most one batch. An account whose earlier entry must wait
   * keeps all its later entries back too: the centre sees each account's items in order.
   */
  async function nextBatch(
    force: boolean,
    tried: ReadonlySet<string>,
    protocol: ProtocolVersion
  ): Promise<PendingEntry[]> {
    const batch: PendingEntry[] = []
    const held = new Set<number>()
    const at = now()
    for await (const page of queued()) {
      for (const entry of page) {
        if (held.has(entry.accountId)) continue
        // A centre of protocol 1 has no cancellations: it waits (and its account behind it) for one that has.
        if (!sendable(entry, protocol)) {
          held.add(entry.accountId)
          continue
        }
        // Tried once in this pass already (answered retryLater, or no answer): it waits, and so does its account.
        if (tried.has(entry.id) || (!force && entry.nextAttemptAt !== null && entry.nextAttemptAt > at)) {
          held.add(entry.accountId)
          continue
        }
        batch.push(entry)
        if (batch.length >= deps.batchSize) return batch
      }
    }
    return batch
  }

  /** What a centre of version 1 cannot take (cancellations, instalments) waits in the queue. */
  const sendable = (entry: PendingEntry, protocol: ProtocolVersion) =>
    protocol >= 2 || itemForProtocol(itemOf(entry), protocol) !== null

  /** The entry's item as the centre reads it (only for entries `sendable` to it). */
  function itemFor(entry: PendingEntry, protocol: ProtocolVersion): UploadItem {
    const item = itemForProtocol(itemOf(entry), protocol)
    if (item === null)
      throw new Error(`outbox entry ${entry.kind} cannot go to a centre of protocol ${protocol}`)
    return item
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

  /**
   * Marks the batch as with the centre, sends it, and applies each answer in one transaction; an
   * item left unanswered waits for the next upload. No answer at all: every item waits, and the
   * error is thrown (the centre may have settled them: they go again, and it deduplicates).
   */
  async function sendBatch(
    batch: readonly PendingEntry[],
    protocol: ProtocolVersion,
    send: (items: UploadItem[]) => Promise<{ results: readonly ItemResult[] }>
  ): Promise<AnsweredEntry[]> {
    const items = batch.map((entry) => itemFor(entry, protocol))
    await outbox.markSending(batch, now())
    let results: readonly ItemResult[]
    try {
      results = (await send(items)).results
    } catch (error) {
      await outbox.deferAll(batch, {
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
    await outbox.applyResults(answered, { at: now(), retryAt })
    await outbox.deferAll(unanswered, { at: now(), error: '中心未对此笔作答', retryAt })
    return answered
  }

  return {
    async uploadAll(centre, force = false) {
      let sent = 0
      const protocol = await connection.centreProtocol(centre)
      const tried = new Set<string>()
      for (;;) {
        const batch = await nextBatch(force, tried, protocol)
        for (const entry of batch) tried.add(entry.id)
        if (batch.length === 0) return { sent }
        const answered = await sendBatch(batch, protocol, (items) =>
          connection.authorized(centre, (t) => centre.upload(t, deps.terminalId, items))
        )
        await connection.answered()
        sent += batch.length
        const counts = { accepted: 0, rejected: 0, retryLater: 0 }
        for (const { result } of answered)
          counts[result.outcome === 'alreadyAccepted' ? 'accepted' : result.outcome] += 1
        deps.log.info('outbox_uploaded', {
          items: batch.length,
          ...counts,
          unanswered: batch.length - answered.length
        })
        if (answered.every(({ result }) => result.outcome === 'retryLater')) return { sent }
      }
    },

    async authorize(centre, saleId, timeoutMs) {
      const all = await outbox.pendingOfSaleAccount(saleId, MAX_AUTHORIZATION_ITEMS + 1)
      const sale = all.find((entry) => entry.kind === 'sale' && entry.saleId === saleId)
      // Too much of the account waits: the upload takes it all in order, this sale after the rest.
      if (!sale || all.length > MAX_AUTHORIZATION_ITEMS) return false
      // Just committed, so the account's other waiting items are older, whatever the clock's resolution.
      const batch = [...all.filter((entry) => entry !== sale), sale]
      const protocol = await connection.centreProtocol(centre)
      if (!batch.every((entry) => sendable(entry, protocol))) return false
      const answered = await sendBatch(batch, protocol, (items) =>
        connection.authorized(centre, (t) =>
          centre.authorize(t, { terminalId: deps.terminalId, saleId, items }, timeoutMs)
        )
      )
      const outcome = answered.find(({ entry }) => entry === sale)?.result.outcome ?? 'none'
      deps.log.info('sale_authorization_answered', { items: batch.length, outcome })
      return true
    },

    async pendingItems(protocol) {
      const items: UploadItem[] = []
      for await (const page of queued())
        for (const entry of page) if (sendable(entry, protocol)) items.push(itemFor(entry, protocol))
      return items
    },

    async applyResults(results) {
      const byId = new Map(results.map((result) => [result.itemId, result]))
      const answered: AnsweredEntry[] = []
      for await (const page of queued()) {
        for (const entry of page) {
          const result = byId.get(itemIdOf(itemOf(entry)))
          if (result && result.outcome !== 'retryLater') answered.push({ entry, result })
        }
      }
      await outbox.applyResults(answered, { at: now(), retryAt })
      return answered.length
    }
  }
}
