import type { EnrolmentStatus, InsuranceType } from '../core/cardholder'
import type { ItemResult, RejectionCode, UploadItem } from '../core/sync/protocol'

/**
 * What settling an item can decide, and the order it keeps across the items of one upload: shared
 * by the sales (hub/settle-sales.ts, settled a run at a time) and the reversals and cancellations
 * (hub/settle.ts, one at a time).
 */

export interface Rejection {
  readonly kind: 'rejected'
  readonly code: RejectionCode
  readonly message: string
}
export interface RetryLater {
  readonly kind: 'retryLater'
  readonly message: string
  /** The keys the items after it wait on (accountKeys). */
  readonly keys: readonly string[]
}
export type Verdict = Rejection | RetryLater | { readonly kind: 'accepted' }

export const reject = (code: RejectionCode, message: string): Rejection => ({
  kind: 'rejected',
  code,
  message: message.slice(0, 500)
})

export const STATUS_TEXT: Readonly<Record<EnrolmentStatus, string>> = {
  active: '正常参保',
  suspended: '暂停参保',
  terminated: '终止参保'
}
export const LOCKED_MESSAGE = '中心正在结算该账户，请稍后重新上传'
export const WAITING_MESSAGE = '同一账户的前一笔业务尚未处理，本笔随后重新上传'

/** The engine's failed check, as the code a terminal acts on. */
export function rejectionCodeFor(rule: string): RejectionCode {
  if (rule === 'spending.available' || rule === 'spending.band' || rule.startsWith('balance.threshold'))
    return 'INSUFFICIENT_BALANCE'
  if (rule === 'spending.cap' || rule === 'insured.maxPersons') return 'OVER_CAP'
  if (rule === 'product.duplicate') return 'DUPLICATE_COVER'
  if (rule === 'payer.enrolment') return 'ACCOUNT_SUSPENDED'
  if (rule.startsWith('instalment.')) return 'INSTALMENT_REFUSED'
  return 'INVALID_ITEM'
}

export interface AccountRow {
  id: number
  account_no: string
  card_number: string
  id_number: string
  region_code: string
  insurance_type: InsuranceType
  status: EnrolmentStatus
  balance_fen: number
  historical_balance_fen: number
  fitness_card_transfers_fen: number
}

/** The keys an account's items wait on in a batch: its number, its card, its holder's ID number. */
export function accountKeys(account: Pick<AccountRow, 'account_no' | 'card_number' | 'id_number'>): string[] {
  return [`account:${account.account_no}`, `card:${account.card_number}`, `id:${account.id_number}`]
}

/**
 * Per-account order across the items of one upload (or of one queue file, settled in several
 * calls): once an account's item waits, everything after it for that account waits too.
 */
export interface BatchOrder {
  readonly blocked: Set<string>
  /** Sales that got retryLater in this batch, with their account's keys: a reversal of one waits too. */
  readonly waitingSales: Map<string, readonly string[]>
}

export function newBatchOrder(): BatchOrder {
  return { blocked: new Set(), waitingSales: new Map() }
}

/** A decided item as stored for good in item_results. */
export interface StoredResult {
  item_id: string
  terminal_id: string
  type: UploadItem['type']
  outcome: 'accepted' | 'rejected'
  code: string | null
  message: string | null
  settled_at: string
  content_sha256: string
  reference: string | null
}

/** The centre's settlement number: the Beijing date and a number, as a clerk can read it out. */
export function referenceOf(settledAt: string, n: number): string {
  const day = new Date(Date.parse(settledAt) + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '')
  return `ZX${day}${String(n).padStart(8, '0')}`
}

/** What item_results keeps of a decided item. */
export function storedRowOf(
  item: { readonly itemId: string; readonly type: UploadItem['type'] },
  terminalId: string,
  verdict: Rejection | { readonly kind: 'accepted' },
  settledAt: string,
  contentSha256: string
) {
  return {
    item_id: item.itemId,
    terminal_id: terminalId,
    type: item.type,
    outcome: verdict.kind,
    code: verdict.kind === 'rejected' ? verdict.code : null,
    message: verdict.kind === 'rejected' ? verdict.message : null,
    settled_at: settledAt,
    content_sha256: contentSha256
  }
}

/** Settlement numbers, for insertResults: an accepted item gets one, a refused one none. */
export const acceptedReference =
  (settledAt: string) =>
  (row: { readonly outcome: string }, n: number): string | null =>
    row.outcome === 'accepted' ? referenceOf(settledAt, n) : null

/** The answer to an item decided now. */
export function answerOf(
  itemId: string,
  verdict: Rejection | { readonly kind: 'accepted' },
  settledAt: string,
  reference: string | null | undefined
): ItemResult {
  return verdict.kind === 'accepted'
    ? { itemId, outcome: 'accepted', settledAt, ...(reference ? { reference } : {}) }
    : { itemId, outcome: 'rejected', code: verdict.code, message: verdict.message, settledAt }
}

/** The first answer again: accepted becomes alreadyAccepted with the original time; a refusal stays one. */
export function repeat(stored: StoredResult): ItemResult {
  if (stored.outcome === 'accepted')
    return {
      itemId: stored.item_id,
      outcome: 'alreadyAccepted',
      settledAt: stored.settled_at,
      ...(stored.reference ? { reference: stored.reference } : {})
    }
  return {
    itemId: stored.item_id,
    outcome: 'rejected',
    code: stored.code ?? 'INVALID_ITEM',
    message: stored.message ?? '',
    settledAt: stored.settled_at
  }
}
