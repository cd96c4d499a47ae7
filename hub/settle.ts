import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import { formatYuan } from '../core/money'
import { cancellationTerms } from '../core/after-sale'
import {
  itemIdOf,
  type CancellationItem,
  type ItemResult,
  type ReversalItem,
  type SaleItem,
  type UploadItem
} from '../core/sync/protocol'
import type { Clock } from '../core/time'
import type { Logger } from '../backend/shared'
import { forUpdate, greatestOf, insertResults, lockKeys, transactionWithRetry } from './db/dialect'
import { noteChanged, nothingTouched, type Touched } from './db/state'
import type { BundleCache } from './rules'
import { dropUnissuedPolicies, undoInstalments } from './policies'
import { settleSales } from './settle-sales'
import {
  accountKeys,
  LOCKED_MESSAGE,
  newBatchOrder,
  reject,
  acceptedReference,
  answerOf,
  storedRowOf,
  repeat,
  WAITING_MESSAGE,
  type AccountRow,
  type BatchOrder,
  type StoredResult,
  type Verdict
} from './verdicts'

export { newBatchOrder, type BatchOrder } from './verdicts'

/**
 * Settlement of uploaded items against the balances the centre holds. One transaction per call:
 * every result of a request is committed together or not at all, and a committed result is stored
 * for good, so a resend is answered from it and never settled twice.
 *
 * Several centre processes may settle at once on one PostgreSQL database. Each item first locks
 * its own id, so the same item sent to two processes is settled by one and answered from the
 * stored result by the other; the payer's account row and every insured person are locked before
 * they are read, so two sales for one account or one person go one after the other, each seeing
 * what the other did. On SQLite the single writer gives the same order.
 *
 * Consecutive sales are settled as a run (hub/settle-sales.ts), with the database work for the run
 * done at once; a reversal or cancellation between them is settled on its own, against what the
 * sales before it wrote.
 */

export interface SettleContext {
  readonly terminal: { readonly id: string; readonly regionCodes: readonly string[] }
  readonly clock: Clock
  readonly bundles: BundleCache
  /** Accounts the centre is busy settling (maintenance): their items are not decided now. */
  readonly isLocked: (accountNo: string) => boolean
  readonly log: Logger
  /** How long after acceptance the insurer issues each line's policy (hub/policies.ts); 0 when absent. */
  readonly policyDelayMs?: number
}

interface HubSaleRow {
  sale_id: string
  terminal_id: string
  account_id: number | null
  total_fen: number
  from_historical_fen: number
  from_current_fen: number
  year_from: string
  created_at: string
  reversed_at: string | null
  refunded_fen: number
  refunded_historical_fen: number
}

export async function settleItems(
  db: Knex,
  ctx: SettleContext,
  items: readonly UploadItem[],
  order: BatchOrder = newBatchOrder()
): Promise<ItemResult[]> {
  const before = { blocked: new Set(order.blocked), waitingSales: new Map(order.waitingSales) }
  return transactionWithRetry(db, async (trx, attempt) => {
    if (attempt > 1) restoreOrder(order, before)
    const settledAt = ctx.clock.now().toISOString()
    // Accounts this transaction changes: they go into the deltas after it (noteChanged).
    const touched = nothingTouched()
    const results: ItemResult[] = []
    for (const run of runsOf(items)) {
      if (Array.isArray(run)) results.push(...(await settleSales(trx, ctx, run, settledAt, touched, order)))
      else results.push(await settleAfterSale(trx, ctx, run, settledAt, touched, order))
    }
    await noteChanged(trx, touched, settledAt)
    return results
  })
}

/** The items in their order, consecutive sales together as one run. */
function runsOf(items: readonly UploadItem[]): Array<SaleItem[] | ReversalItem | CancellationItem> {
  const runs: Array<SaleItem[] | ReversalItem | CancellationItem> = []
  for (const item of items) {
    const last = runs.at(-1)
    if (item.type !== 'sale') runs.push(item)
    else if (Array.isArray(last)) last.push(item)
    else runs.push([item])
  }
  return runs
}

/** A reversal or a cancellation, on its own: it sees what every item before it in the call did. */
async function settleAfterSale(
  trx: Knex.Transaction,
  ctx: SettleContext,
  item: ReversalItem | CancellationItem,
  settledAt: string,
  touched: Touched,
  order: BatchOrder
): Promise<ItemResult> {
  const itemId = itemIdOf(item)
  const contentSha256 = createHash('sha256').update(JSON.stringify(item)).digest('hex')
  await lockKeys(trx, [`item:${itemId}`])
  const stored = await trx('item_results').where({ item_id: itemId }).first<StoredResult | undefined>()
  if (stored) {
    if (stored.content_sha256 !== contentSha256)
      ctx.log.error('item_resent_with_other_content', { item: itemId, terminal: ctx.terminal.id })
    return repeat(stored)
  }
  const verdict =
    item.type === 'reversal'
      ? await settleReversal(trx, ctx, item, settledAt, touched, order)
      : await settleCancellation(trx, ctx, item, settledAt, touched, order)
  if (verdict.kind === 'retryLater') {
    for (const key of verdict.keys) order.blocked.add(key)
    return { itemId, outcome: 'retryLater', message: verdict.message }
  }
  const [reference] = await insertResults(
    trx,
    [storedRowOf({ itemId, type: item.type }, ctx.terminal.id, verdict, settledAt, contentSha256)],
    acceptedReference(settledAt)
  )
  return answerOf(itemId, verdict, settledAt, reference)
}

/** A retried transaction starts from the batch's order as it was before the attempt. */
function restoreOrder(order: BatchOrder, before: BatchOrder): void {
  order.blocked.clear()
  for (const key of before.blocked) order.blocked.add(key)
  order.waitingSales.clear()
  for (const [saleId, keys] of before.waitingSales) order.waitingSales.set(saleId, keys)
}

/** A sale's account, locked until commit (a reversal or cancellation gives money back to it). */
async function lockedAccount(
  trx: Knex.Transaction,
  accountId: number | null
): Promise<AccountRow | undefined> {
  return accountId === null
    ? undefined
    : forUpdate(trx('accounts').where({ id: accountId })).first<AccountRow | undefined>()
}

/** Who a sale's lines insure, locked: a reversal or cancellation changes what they hold. */
async function lockInsuredOfSale(trx: Knex.Transaction, saleId: string): Promise<void> {
  const held = await trx('holdings').where({ sale_id: saleId }).pluck<string[]>('insured_id_number')
  const issued = await trx('policies').where({ sale_id: saleId }).pluck<string[]>('insured_id_number')
  await lockKeys(
    trx,
    [...held, ...issued].map((person) => `person:${person}`)
  )
}

/**
 * A reversal or a cancellation waits while its sale waits in this batch, and must come from the
 * terminal that sent the sale; `what` names the item in the message (冲正, 退保).
 */
function waitingOrForeign(
  ctx: SettleContext,
  order: BatchOrder,
  item: { saleId: string; terminalId: string },
  what: string
): Verdict | null {
  const waiting = order.waitingSales.get(item.saleId)
  if (waiting) return { kind: 'retryLater', message: WAITING_MESSAGE, keys: waiting }
  if (item.terminalId !== ctx.terminal.id)
    return reject('INVALID_ITEM', `${what}记录的终端编号 ${item.terminalId} 与上传的终端不符`)
  return null
}

/** The account's earlier item waits in this batch, or the centre is settling the account: this waits too. */
function accountBusy(ctx: SettleContext, order: BatchOrder, account: AccountRow): Verdict | null {
  const keys = accountKeys(account)
  if (keys.some((key) => order.blocked.has(key)))
    return { kind: 'retryLater', message: WAITING_MESSAGE, keys }
  if (ctx.isLocked(account.account_no)) return { kind: 'retryLater', message: LOCKED_MESSAGE, keys }
  return null
}

async function settleReversal(
  trx: Knex.Transaction,
  ctx: SettleContext,
  item: ReversalItem,
  settledAt: string,
  touched: Touched,
  order: BatchOrder
): Promise<Verdict> {
  const first = waitingOrForeign(ctx, order, item, '冲正')
  if (first) return first
  const original = await trx('item_results')
    .where({ item_id: item.saleId, type: 'sale' })
    .first<StoredResult | undefined>()
  if (!original) return reject('SALE_UNKNOWN', '中心没有收到过这笔交易，无法冲正')
  if (original.terminal_id !== ctx.terminal.id)
    return reject('INVALID_ITEM', '这笔交易不是本终端办理的，不能由本终端冲正')
  // The centre refused the sale: nothing was deducted, so the reversal is settled with nothing to give back.
  if (original.outcome === 'rejected') return { kind: 'accepted' }

  // Locked: a reversal and a cancellation of the same sale go one after the other.
  const sale = await forUpdate(trx('hub_sales').where({ sale_id: item.saleId })).first<
    HubSaleRow | undefined
  >()
  if (!sale) return reject('SALE_UNKNOWN', '中心没有这笔交易的结算记录，无法冲正')
  if (sale.total_fen !== item.totalFen)
    return reject(
      'INVALID_ITEM',
      `冲正金额 ${formatYuan(item.totalFen)} 元与原交易 ${formatYuan(sale.total_fen)} 元不符`
    )
  const account = await lockedAccount(trx, sale.account_id)
  await lockInsuredOfSale(trx, sale.sale_id)
  const busy = account ? accountBusy(ctx, order, account) : null
  if (busy) return busy
  // Already given back (another reversal of the same sale): settled, and nothing given twice.
  if (sale.reversed_at !== null) return { kind: 'accepted' }
  if (sale.refunded_fen > 0)
    return reject('ALREADY_CANCELLED', '这笔交易已有保单在犹豫期内退保，不能再整笔冲正')
  if (!account) return reject('ACCOUNT_UNKNOWN', '原交易的账户已不在中心，无法退回')
  if (!(await undoInstalments(trx, sale.sale_id)))
    return reject('INVALID_ITEM', '这笔交易所缴续期之后保单又缴了下一期，不能再整笔冲正')

  // Back to where it was taken from.
  await trx('accounts')
    .where({ id: account.id })
    .update({
      balance_fen: account.balance_fen + sale.total_fen,
      historical_balance_fen: account.historical_balance_fen + sale.from_historical_fen
    })
  touched.accounts.add(account.id)
  await trx('spending_years')
    .where({ account_id: account.id, year_from: sale.year_from })
    .update({ spent_fen: greatestOf(trx, '0, spent_fen - ?', [sale.total_fen]) })
  const insured = await trx('holdings').where({ sale_id: sale.sale_id }).pluck<string[]>('insured_id_number')
  await trx('holdings').where({ sale_id: sale.sale_id }).delete()
  await dropUnissuedPolicies(trx, sale.sale_id)
  for (const person of insured) touched.persons.add(person)
  await trx('hub_sales')
    .where({ sale_id: sale.sale_id })
    .update({ reversed_at: settledAt, reversal_id: item.reversalId })
  return { kind: 'accepted' }
}

/** A terminal's clock may run a little ahead of the centre's; a cancellation dated later than this is refused. */
const CLOCK_SKEW_MS = 10 * 60_000

/**
 * Cancellation within the cooling-off period: the policies of the lines are cancelled, their
 * premiums go back to the account (to the historical balance first, as far as the sale took from
 * it) and off the settlement year's spending, and the holdings go, so the cap and the person limits
 * are free again. The period is the bundle's the sale was made under, counted from the sale's time.
 */
async function settleCancellation(
  trx: Knex.Transaction,
  ctx: SettleContext,
  item: CancellationItem,
  settledAt: string,
  touched: Touched,
  order: BatchOrder
): Promise<Verdict> {
  const first = waitingOrForeign(ctx, order, item, '退保')
  if (first) return first
  const original = await trx('item_results')
    .where({ item_id: item.saleId, type: 'sale' })
    .first<StoredResult | undefined>()
  if (!original || original.outcome !== 'accepted')
    return reject('SALE_UNKNOWN', '中心没有受理过这笔交易，无法退保')
  if (original.terminal_id !== ctx.terminal.id)
    return reject('INVALID_ITEM', '这笔交易不是本终端办理的，不能由本终端退保')
  // Locked: a reversal and a cancellation of the same sale go one after the other.
  const sale = await forUpdate(trx('hub_sales').where({ sale_id: item.saleId })).first<
    HubSaleRow | undefined
  >()
  if (!sale) return reject('SALE_UNKNOWN', '中心没有这笔交易的结算记录，无法退保')
  if (sale.reversed_at !== null) return reject('ALREADY_CANCELLED', '这笔交易已冲正，保费已退回')
  const account = await lockedAccount(trx, sale.account_id)
  if (!account) return reject('ACCOUNT_UNKNOWN', '原交易的账户已不在中心，无法退回')
  await lockInsuredOfSale(trx, sale.sale_id)
  const busy = accountBusy(ctx, order, account)
  if (busy) return busy
  if (item.payerCardNumber !== account.card_number)
    return reject('PAYER_UNVERIFIED', '退保时刷的卡不是原交易付款人的社会保障卡')
  if (Date.parse(item.at) > Date.parse(settledAt) + CLOCK_SKEW_MS)
    return reject('INVALID_ITEM', '退保申请的时间晚于中心当前时间：请核对终端时钟')

  const received = await trx('received_sales')
    .where({ sale_id: item.saleId })
    .first<{ rules_region_code: string; rules_version: number } | undefined>(
      'rules_region_code',
      'rules_version'
    )
  const rules = received
    ? await ctx.bundles.lookup(trx, received.rules_region_code, received.rules_version)
    : null
  const policies: Array<{
    line_no: number
    product_code: string
    premium_fen: number
    insured_id_number: string
    cancelled_at: string | null
  }> = await trx('policies')
    .where({ sale_id: item.saleId })
    .whereIn('line_no', item.lineNos)
    .select('line_no', 'product_code', 'premium_fen', 'insured_id_number', 'cancelled_at')
  const instalmentLines = await trx('instalment_payments')
    .where({ sale_id: item.saleId })
    .whereIn('line_no', item.lineNos)
    .first('line_no')
  if (instalmentLines) return reject('COOLING_OFF_OVER', '续期缴费不适用犹豫期退保：请联系保险公司按合同办理')
  if (new Set(item.lineNos).size !== item.lineNos.length || policies.length !== item.lineNos.length)
    return reject('INVALID_ITEM', '退保的项目序号与原交易不符')
  if (policies.some((p) => p.cancelled_at !== null)) return reject('ALREADY_CANCELLED', '其中有保单已退保')
  for (const policy of policies) {
    const product =
      rules?.status === 'ok' ? rules.bundle.products.find((p) => p.code === policy.product_code) : undefined
    const terms = cancellationTerms(product, sale.created_at, item.at)
    if (!terms.cancellable) return reject('COOLING_OFF_OVER', `第 ${policy.line_no} 项：${terms.reason}`)
  }
  const refund = policies.reduce((sum, p) => sum + p.premium_fen, 0)
  if (refund !== item.refundFen)
    return reject(
      'INVALID_ITEM',
      `退保金额 ${formatYuan(item.refundFen)} 元与保费 ${formatYuan(refund)} 元不符`
    )

  const toHistorical = Math.min(refund, Math.max(0, sale.from_historical_fen - sale.refunded_historical_fen))
  await trx('accounts')
    .where({ id: account.id })
    .update({
      balance_fen: account.balance_fen + refund,
      historical_balance_fen: account.historical_balance_fen + toHistorical
    })
  await trx('spending_years')
    .where({ account_id: account.id, year_from: sale.year_from })
    .update({ spent_fen: greatestOf(trx, '0, spent_fen - ?', [refund]) })
  await trx('holdings').where({ sale_id: item.saleId }).whereIn('line_no', item.lineNos).delete()
  await trx('policies')
    .where({ sale_id: item.saleId })
    .whereIn('line_no', item.lineNos)
    .update({ cancelled_at: settledAt, cancellation_id: item.cancellationId })
  await trx('hub_sales')
    .where({ sale_id: item.saleId })
    .update({
      refunded_fen: sale.refunded_fen + refund,
      refunded_historical_fen: sale.refunded_historical_fen + toHistorical
    })
  touched.accounts.add(account.id)
  for (const policy of policies) touched.persons.add(policy.insured_id_number)
  return { kind: 'accepted' }
}
