import type { Knex } from 'knex'
import { appendAudit } from '../record-chain'
import type { ItemResult } from '../../core/sync/protocol'
import type { PersonalDataCipher } from '../personal-data'

/** What an outbox entry carries: a sale, the reversal of one (a void), a cooling-off cancellation of its lines. */
export type OutboxKind = 'sale' | 'reversal' | 'cancellation'

/** An outbox entry waiting for the centre, with what the upload needs to keep each account's order. */
export interface PendingEntry {
  readonly id: string
  readonly kind: OutboxKind
  readonly saleId: string
  readonly accountId: number
  readonly createdAt: string
  readonly attempts: number
  /** UTC ISO; null: due now. */
  readonly nextAttemptAt: string | null
  /** The payload as the sale wrote it (JSON text), unsealed. */
  readonly payloadJson: string
}

/** One answered item: the outbox entry, and what the centre said. */
export interface AnsweredEntry {
  readonly entry: PendingEntry
  readonly result: ItemResult
}

export interface OutboxRepository {
  /** Pending entries in the order they were queued (the order the centre must see them in). */
  pending(options: { afterCreatedAt?: string; afterId?: string; limit: number }): Promise<PendingEntry[]>
  /** The pending entries of the sale's account, in queue order (an online authorization sends them together). */
  pendingOfSaleAccount(saleId: string, limit: number): Promise<PendingEntry[]>
  /** Before sending: the sales are now in the centre's hands as far as a void is concerned. */
  markSending(entries: readonly PendingEntry[], at: string): Promise<void>
  /** The centre's answers, applied in one transaction: all of a response or none of it. */
  applyResults(
    answered: readonly AnsweredEntry[],
    context: { at: string; retryAt: (entry: PendingEntry) => string }
  ): Promise<void>
  /** No answer (network, timeout, 5xx, a garbled reply): the entries wait and are sent again later. */
  deferAll(
    entries: readonly PendingEntry[],
    context: { at: string; error: string; retryAt: (entry: PendingEntry) => string }
  ): Promise<void>
  /** The earliest time a pending entry may be tried again (null: something is due now or nothing waits). */
  nextAttemptAt(): Promise<string | null>
  /**
   * Pending sales (not reversals): how many, how much, since when, and how many of them were sent
   * already without an answer (待确认: the centre may hold them; a void becomes a reversal).
   */
  queuedSales(): Promise<{ count: number; totalFen: number; oldestAt: string | null; awaitingAnswer: number }>
  /** Reversals waiting for upload. */
  queuedReversals(): Promise<number>
  /** Sales the centre rejected that no supervisor has followed up yet (#7). */
  rejectedCount(): Promise<number>
}

interface OutboxRow {
  id: string
  kind: OutboxKind
  sale_id: string
  account_id: number
  created_at: string
  attempts: number
  next_attempt_at: string | null
  payload_sealed: Buffer
}

export function createOutboxRepository(db: Knex, cipher: PersonalDataCipher): OutboxRepository {
  /**
   * The centre's answer to a cancellation: accepted, its lines are cancelled and the refund is back
   * on the account (a ledger release, and the spending the caps count drops); refused, it says why.
   */
  async function applyCancellationResult(
    trx: Knex.Transaction,
    entry: PendingEntry,
    result: Exclude<ItemResult, { outcome: 'retryLater' }>,
    at: string
  ): Promise<void> {
    const { cancellationId } = JSON.parse(entry.payloadJson) as { cancellationId: string }
    const cancellation = await trx('cancellations')
      .where({ id: cancellationId, status: 'queued' })
      .first<{ line_nos_json: string; refund_fen: number } | undefined>('line_nos_json', 'refund_fen')
    if (!cancellation) return
    const accepted = result.outcome !== 'rejected'
    await trx('cancellations')
      .where({ id: cancellationId })
      .update(
        accepted
          ? { status: 'accepted', settled_at: result.settledAt }
          : {
              status: 'rejected',
              settled_at: result.settledAt,
              result_code: result.code,
              result_message: result.message
            }
      )
    if (accepted) {
      const lineNos = JSON.parse(cancellation.line_nos_json) as number[]
      await trx('sale_lines')
        .where({ sale_id: entry.saleId })
        .whereIn('line_no', lineNos)
        .update({ cancelled_at: result.settledAt })
      await trx('ledger').insert({
        account_id: entry.accountId,
        sale_id: entry.saleId,
        kind: 'release',
        amount_fen: cancellation.refund_fen,
        at
      })
    }
    await appendAudit(trx, cipher, {
      at,
      operatorId: null,
      action: `centre_cancellation_${accepted ? 'accepted' : 'rejected'}`,
      subject: cancellationId,
      details: accepted
        ? { settledAt: result.settledAt, refundFen: cancellation.refund_fen }
        : { code: result.outcome === 'rejected' ? result.code : null }
    })
  }

  const toEntry = (row: OutboxRow): PendingEntry => ({
    id: row.id,
    kind: row.kind,
    saleId: row.sale_id,
    accountId: row.account_id,
    createdAt: row.created_at,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    payloadJson: cipher.open(row.payload_sealed)
  })

  /** Pending entries with their account, in queue order (the order the centre must see them in). */
  const pendingInOrder = (limit: number) =>
    db('outbox as o')
      .join('sales as s', 's.id', 'o.sale_id')
      .where('o.state', 'pending')
      .orderBy([{ column: 'o.created_at' }, { column: 'o.id' }])
      .limit(limit)
      .select<OutboxRow[]>(
        'o.id',
        'o.kind',
        'o.sale_id',
        's.account_id',
        'o.created_at',
        'o.attempts',
        'o.next_attempt_at',
        'o.payload_sealed'
      )

  return {
    async pending({ afterCreatedAt, afterId, limit }) {
      const query = pendingInOrder(limit)
      if (afterCreatedAt !== undefined && afterId !== undefined) {
        // Block bodies: knex's builders are thenables, and a grouping callback returns nothing.
        query.where((q) => {
          q.where('o.created_at', '>', afterCreatedAt).orWhere((q2) => {
            q2.where('o.created_at', afterCreatedAt).andWhere('o.id', '>', afterId)
          })
        })
      }
      return (await query).map(toEntry)
    },

    async pendingOfSaleAccount(saleId, limit) {
      const rows = await pendingInOrder(limit).whereIn(
        's.account_id',
        db('sales').where({ id: saleId }).select('account_id')
      )
      return rows.map(toEntry)
    },

    async markSending(entries, at) {
      if (entries.length === 0) return
      await db.transaction(async (trx) => {
        await trx('outbox')
          .whereIn(
            'id',
            entries.map((e) => e.id)
          )
          .update({ last_attempt_at: at, attempts: trx.raw('attempts + 1') })
        const saleIds = entries.filter((e) => e.kind === 'sale').map((e) => e.saleId)
        // From here a void must go to the centre as a reversal: the centre may already have settled it.
        for (let i = 0; i < saleIds.length; i += 500) {
          await trx('sales')
            .whereIn('id', saleIds.slice(i, i + 500))
            .where('status', 'queued')
            .update({ status: 'uploaded' })
        }
      })
    },

    async applyResults(answered, { at, retryAt }) {
      await db.transaction(async (trx) => {
        for (const { entry, result } of answered) {
          if (result.outcome === 'retryLater') {
            await trx('outbox')
              .where({ id: entry.id, state: 'pending' })
              .update({ next_attempt_at: retryAt(entry), last_error: result.message })
            continue
          }
          // Written once: a second application of the same answer finds the entry already sent.
          const claimed = await trx('outbox')
            .where({ id: entry.id, state: 'pending' })
            .update({ state: 'sent', sent_at: at, last_error: null, next_attempt_at: null })
          if (claimed !== 1) continue
          if (entry.kind === 'cancellation') {
            await applyCancellationResult(trx, entry, result, at)
            continue
          }
          const sale = await trx('sales')
            .where({ id: entry.saleId })
            .first<{ account_id: number; total_fen: number; status: string } | undefined>(
              'account_id',
              'total_fen',
              'status'
            )
          if (!sale) continue
          const accepted = result.outcome !== 'rejected'
          if (entry.kind === 'sale') {
            await trx('sales')
              .where({ id: entry.saleId })
              .update(
                accepted
                  ? {
                      status: 'accepted',
                      settled_at: result.settledAt,
                      result_code: null,
                      result_message: null,
                      centre_reference: 'reference' in result ? (result.reference ?? null) : null
                    }
                  : {
                      status: 'rejected',
                      settled_at: result.settledAt,
                      result_code: result.code,
                      result_message: result.message
                    }
              )
            if (!accepted) {
              // Nothing was taken from the account: the reservation is given back.
              await trx('ledger').insert({
                account_id: sale.account_id,
                sale_id: entry.saleId,
                kind: 'release',
                amount_fen: sale.total_fen,
                at
              })
            }
          } else if (accepted) {
            await trx('sales').where({ id: entry.saleId }).update({
              status: 'voided',
              voided_at: result.settledAt,
              reversal_settled_at: result.settledAt
            })
            await trx('ledger').insert({
              account_id: sale.account_id,
              sale_id: entry.saleId,
              kind: 'release',
              amount_fen: sale.total_fen,
              at
            })
          } else {
            await trx('sales').where({ id: entry.saleId }).update({
              reversal_settled_at: result.settledAt,
              reversal_result_code: result.code,
              reversal_result_message: result.message
            })
          }
          await appendAudit(trx, cipher, {
            at,
            operatorId: null,
            action: `centre_${entry.kind}_${accepted ? 'accepted' : 'rejected'}`,
            subject: entry.saleId,
            details: accepted
              ? {
                  settledAt: result.settledAt,
                  reference: 'reference' in result ? (result.reference ?? null) : null
                }
              : { code: result.outcome === 'rejected' ? result.code : null }
          })
        }
      })
    },

    async deferAll(entries, { error, retryAt }) {
      if (entries.length === 0) return
      await db.transaction(async (trx) => {
        for (const entry of entries) {
          await trx('outbox')
            .where({ id: entry.id, state: 'pending' })
            .update({ next_attempt_at: retryAt(entry), last_error: error })
        }
      })
    },

    async nextAttemptAt() {
      const [row] = await db('outbox')
        .where({ state: 'pending' })
        .select<Array<{ due: string | null; undated: number | null }>>(
          db.raw('min(next_attempt_at) as due'),
          db.raw('sum(next_attempt_at is null) as undated')
        )
      return row.undated ? null : row.due
    },

    async queuedSales() {
      const [row] = await db('outbox as o')
        .join('sales as s', 's.id', 'o.sale_id')
        .where({ 'o.kind': 'sale', 'o.state': 'pending' })
        .select<Array<{ count: number; total: number | null; oldest: string | null; sent: number | null }>>(
          db.raw('count(*) as count'),
          db.raw('sum(s.total_fen) as total'),
          db.raw('min(o.created_at) as oldest'),
          db.raw("sum(case when s.status = 'uploaded' then 1 else 0 end) as sent")
        )
      return {
        count: row.count,
        totalFen: row.total ?? 0,
        oldestAt: row.oldest,
        awaitingAnswer: Number(row.sent ?? 0)
      }
    },

    async queuedReversals() {
      const [row] = await db('outbox')
        .where({ kind: 'reversal', state: 'pending' })
        .count<Array<{ n: number }>>({ n: '*' })
      return Number(row.n)
    },

    async rejectedCount() {
      const [row] = await db('sales')
        .where({ status: 'rejected' })
        .whereNull('followed_up_at')
        .count<Array<{ n: number }>>({ n: '*' })
      return Number(row.n)
    }
  }
}
