import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type { EnrolmentStatus, InsuranceType } from '../core/cardholder'
import { formatYuan } from '../core/money'
import type { RuleBundle } from '../core/rules/bundle'
import { coverPeriodOf, instalmentCoverOf } from '../core/rules/cover'
import {
  decide,
  type InstalmentRequest,
  type InsuredEntry,
  type PayerAccount,
  type SpendingEntry
} from '../core/rules/engine'
import { settlementYearOf } from '../core/rules/settlement-year'
import { cancellationTerms, instalmentPlanAfter } from '../core/after-sale'
import {
  itemIdOf,
  type CancellationItem,
  type ItemResult,
  type ReversalItem,
  type SaleItem,
  type UploadItem,
  type RejectionCode
} from '../core/sync/protocol'
import type { Clock } from '../core/time'
import type { Logger } from '../backend/shared'
import { forUpdate, greatestOf, insertResult, lockKeys, transactionWithRetry } from './db/dialect'
import { accountsShowing, stampAccounts } from './db/state'
import { checkPayer } from './payer'
import type { BundleCache } from './rules'
import {
  dropUnissuedPolicies,
  policyBegunBy,
  recordInstalment,
  recordPolicies,
  undoInstalments,
  type InstalmentPolicy
} from './policies'

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

interface AccountRow {
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

interface StoredResult {
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

type Verdict =
  | { readonly kind: 'rejected'; readonly code: RejectionCode; readonly message: string }
  | { readonly kind: 'retryLater'; readonly message: string; readonly keys: readonly string[] }
  | { readonly kind: 'accepted' }

const reject = (code: RejectionCode, message: string): Verdict => ({
  kind: 'rejected',
  code,
  message: message.slice(0, 500)
})
const STATUS_TEXT: Readonly<Record<EnrolmentStatus, string>> = {
  active: '正常参保',
  suspended: '暂停参保',
  terminated: '终止参保'
}
const LOCKED_MESSAGE = '中心正在结算该账户，请稍后重新上传'
const WAITING_MESSAGE = '同一账户的前一笔业务尚未处理，本笔随后重新上传'

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
    // Accounts this transaction changes: stamped with one new snapshot version just before commit.
    const touched = new Set<number>()
    const results: ItemResult[] = []
    for (const item of items) {
      const itemId = itemIdOf(item)
      const contentSha256 = createHash('sha256').update(JSON.stringify(item)).digest('hex')
      // The item, and for a sale every person it insures (another payer's sale for the same person
      // waits until this one commits): one round trip.
      await lockKeys(trx, [
        `item:${itemId}`,
        ...(item.type === 'sale' ? item.lines.map((line) => `person:${line.insuredIdNumber}`) : [])
      ])
      const stored = await trx('item_results').where({ item_id: itemId }).first<StoredResult | undefined>()
      if (stored) {
        if (stored.content_sha256 !== contentSha256)
          ctx.log.error('item_resent_with_other_content', { item: itemId, terminal: ctx.terminal.id })
        results.push(repeat(stored))
        continue
      }
      const verdict =
        item.type === 'sale'
          ? await settleSale(trx, ctx, item, settledAt, touched, order)
          : item.type === 'reversal'
            ? await settleReversal(trx, ctx, item, settledAt, touched, order)
            : await settleCancellation(trx, ctx, item, settledAt, touched, order)
      if (verdict.kind === 'retryLater') {
        for (const key of verdict.keys) order.blocked.add(key)
        if (item.type === 'sale') order.waitingSales.set(item.saleId, verdict.keys)
        results.push({ itemId, outcome: 'retryLater', message: verdict.message })
        continue
      }
      const reference = await insertResult(
        trx,
        {
          item_id: itemId,
          terminal_id: ctx.terminal.id,
          type: item.type,
          outcome: verdict.kind,
          code: verdict.kind === 'rejected' ? verdict.code : null,
          message: verdict.kind === 'rejected' ? verdict.message : null,
          settled_at: settledAt,
          content_sha256: contentSha256
        },
        (n) => (verdict.kind === 'accepted' ? referenceOf(settledAt, n) : undefined)
      )
      if (item.type === 'sale') await recordReceivedSale(trx, ctx.terminal.id, item)
      results.push(
        verdict.kind === 'accepted'
          ? { itemId, outcome: 'accepted', settledAt, reference }
          : { itemId, outcome: 'rejected', code: verdict.code, message: verdict.message, settledAt }
      )
    }
    await stampAccounts(trx, touched, settledAt)
    return results
  })
}

/** A retried transaction starts from the batch's order as it was before the attempt. */
function restoreOrder(order: BatchOrder, before: BatchOrder): void {
  order.blocked.clear()
  for (const key of before.blocked) order.blocked.add(key)
  order.waitingSales.clear()
  for (const [saleId, keys] of before.waitingSales) order.waitingSales.set(saleId, keys)
}

/** The sale's non-personal part, kept for the office report (accepted and refused alike). */
async function recordReceivedSale(trx: Knex.Transaction, terminalId: string, item: SaleItem): Promise<void> {
  await trx('received_sales').insert({
    sale_id: item.saleId,
    terminal_id: terminalId,
    operator_code: item.operatorCode,
    created_at: item.createdAt,
    region_code: item.payer.regionCode,
    rules_region_code: item.rules.regionCode,
    rules_version: item.rules.version,
    total_fen: item.totalFen
  })
  await trx('received_sale_lines').insert(
    // Position, not the terminal's lineNo: a refused item may repeat a number.
    item.lines.map((line, index) => ({
      sale_id: item.saleId,
      line_no: index + 1,
      relation: line.relation,
      product_code: line.productCode,
      premium_fen: line.premiumFen,
      instalment_no: line.instalment?.sequence ?? null
    }))
  )
}

/** The centre's settlement number: the Beijing date and the result's row, as a clerk can read it out. */
function referenceOf(settledAt: string, rowId: number): string {
  const day = new Date(Date.parse(settledAt) + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '')
  return `ZX${day}${String(rowId).padStart(8, '0')}`
}

/** The first answer again: accepted becomes alreadyAccepted with the original time; a refusal stays one. */
function repeat(stored: StoredResult): ItemResult {
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

/**
 * The payer's account, locked until commit: by card, confirmed by ID number and region; by ID
 * number when the card was reissued since.
 */
async function findPayer(trx: Knex.Transaction, payer: SaleItem['payer']): Promise<AccountRow | null> {
  const byCard = await forUpdate(trx('accounts').where({ card_number: payer.cardNumber })).first<
    AccountRow | undefined
  >()
  if (byCard)
    return byCard.id_number === payer.idNumber && byCard.region_code === payer.regionCode ? byCard : null
  const byId = await forUpdate(trx('accounts').where({ id_number: payer.idNumber })).first<
    AccountRow | undefined
  >()
  return byId && byId.region_code === payer.regionCode ? byId : null
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

/** The centre's register of who is insured in the region: an active account there, or bound as family to one (binding requires it). */
async function enrolledIn(trx: Knex.Transaction, idNumber: string, regionCode: string): Promise<boolean> {
  const holder = await trx('accounts')
    .where({ id_number: idNumber, region_code: regionCode, status: 'active' })
    .first('id')
  if (holder) return true
  const bound = await trx('family_members as f')
    .join('accounts as a', 'a.id', 'f.account_id')
    .where({ 'f.id_number': idNumber, 'a.region_code': regionCode })
    .first('f.id')
  return bound !== undefined
}

async function holdsOverlapping(
  trx: Knex.Transaction,
  idNumber: string,
  productCode: string,
  from: string,
  to: string
): Promise<boolean> {
  const row = await trx('holdings')
    .where({ insured_id_number: idNumber, product_code: productCode })
    .where('cover_from', '<', to)
    .where('cover_to', '>', from)
    .first('id')
  return row !== undefined
}

function accountKeys(account: Pick<AccountRow, 'account_no' | 'card_number' | 'id_number'>): string[] {
  return [`account:${account.account_no}`, `card:${account.card_number}`, `id:${account.id_number}`]
}

async function settleSale(
  trx: Knex.Transaction,
  ctx: SettleContext,
  item: SaleItem,
  settledAt: string,
  touched: Set<number>,
  order: BatchOrder
): Promise<Verdict> {
  const keys = [`card:${item.payer.cardNumber}`, `id:${item.payer.idNumber}`]
  if (keys.some((key) => order.blocked.has(key)))
    return { kind: 'retryLater', message: WAITING_MESSAGE, keys }
  if (item.terminalId !== ctx.terminal.id)
    return reject('INVALID_ITEM', `交易记录的终端编号 ${item.terminalId} 与上传的终端不符`)
  if (!ctx.terminal.regionCodes.includes(item.payer.regionCode))
    return reject('INVALID_ITEM', `本终端未获准办理地区 ${item.payer.regionCode} 的业务`)

  // Locked (and its persons before it, in settleItems).
  const account = await findPayer(trx, item.payer)
  if (!account)
    return reject('ACCOUNT_UNKNOWN', `中心在地区 ${item.payer.regionCode} 没有与该卡号、身份证号相符的账户`)
  const allKeys = [...new Set([...keys, ...accountKeys(account)])]
  if (allKeys.some((key) => order.blocked.has(key)))
    return { kind: 'retryLater', message: WAITING_MESSAGE, keys: allKeys }
  if (ctx.isLocked(account.account_no)) return { kind: 'retryLater', message: LOCKED_MESSAGE, keys: allKeys }
  if (account.status !== 'active')
    return reject('ACCOUNT_SUSPENDED', `账户${STATUS_TEXT[account.status]}，不能用个人账户购买`)
  // Who pays is settled before what is bought: a wrong password counts even for an order the rules refuse.
  const payer = await checkPayer(trx, item, account.id, settledAt)
  if (!payer.ok) return reject(payer.code, payer.message)

  if (item.rules.regionCode !== account.region_code)
    return reject(
      'INVALID_ITEM',
      `交易所用规则包的地区 ${item.rules.regionCode} 与参保地 ${account.region_code} 不符`
    )
  const rules = await ctx.bundles.lookup(trx, item.rules.regionCode, item.rules.version)
  if (rules.status !== 'ok') {
    return rules.status === 'withdrawn'
      ? reject(
          'RULES_WITHDRAWN',
          `规则包（地区 ${item.rules.regionCode}）第 ${item.rules.version} 版已被中心撤回，按该版规则办理的交易不予结算`
        )
      : reject('INVALID_ITEM', `中心没有地区 ${item.rules.regionCode} 的第 ${item.rules.version} 版规则包`)
  }
  if (new Set(item.lines.map((line) => line.lineNo)).size !== item.lines.length)
    return reject('INVALID_ITEM', '交易中有重复的项目序号')
  if (rules.bundle.applicant?.mobileRequired && !item.applicant)
    return reject('INVALID_ITEM', `${rules.bundle.region.name}须登记投保人手机号，交易中没有`)
  const lineSum = item.lines.reduce((sum, line) => sum + line.premiumFen, 0)
  if (lineSum !== item.totalFen)
    return reject(
      'INVALID_ITEM',
      `交易合计 ${formatYuan(item.totalFen)} 元与各项保费之和 ${formatYuan(lineSum)} 元不符`
    )

  const checked = await checkLines(trx, rules.bundle, account, item)
  if ('verdict' in checked) return checked.verdict
  if (account.balance_fen < item.totalFen)
    return reject(
      'INSUFFICIENT_BALANCE',
      `个人账户余额 ${formatYuan(account.balance_fen)} 元，不足支付 ${formatYuan(item.totalFen)} 元`
    )

  // Historical balance (历年结余) first, then this year's part: the rules of the regions that name a
  // basis buy from the historical balance, and what remains of it then still counts for them.
  const fromHistorical = Math.min(account.historical_balance_fen, item.totalFen)
  const fromCurrent = item.totalFen - fromHistorical
  const yearFrom = settlementYearOf(item.createdAt, rules.bundle.settlementYear.startMonthDay).from
  await trx('accounts')
    .where({ id: account.id })
    .update({
      balance_fen: account.balance_fen - item.totalFen,
      historical_balance_fen: account.historical_balance_fen - fromHistorical
    })
  touched.add(account.id)
  await trx('spending_years')
    .insert({ account_id: account.id, year_from: yearFrom, spent_fen: item.totalFen })
    .onConflict(['account_id', 'year_from'])
    .merge({ spent_fen: trx.raw('spending_years.spent_fen + ?', [item.totalFen]) })
  await trx('hub_sales').insert({
    sale_id: item.saleId,
    terminal_id: ctx.terminal.id,
    account_id: account.id,
    total_fen: item.totalFen,
    from_historical_fen: fromHistorical,
    from_current_fen: fromCurrent,
    year_from: yearFrom,
    created_at: item.createdAt,
    settled_at: settledAt
  })
  const policyIds = await recordPolicies(
    trx,
    ctx.terminal.id,
    item,
    rules.bundle,
    settledAt,
    ctx.policyDelayMs ?? 0
  )
  for (const line of item.lines) {
    const paid = line.instalment ? checked.instalments.get(line.lineNo) : undefined
    if (line.instalment && paid)
      await recordInstalment(trx, paid, item.saleId, { ...line, sequence: line.instalment.sequence })
    await trx('holdings').insert({
      insured_id_number: line.insuredIdNumber,
      product_code: line.productCode,
      cover_from: line.coverFrom,
      cover_to: line.coverTo,
      payer_account_id: account.id,
      sale_id: item.saleId,
      line_no: line.lineNo,
      bought_at: item.createdAt,
      policy_id: paid?.id ?? policyIds.get(line.lineNo) ?? null,
      policy_no: paid?.policyNo ?? null
    })
  }
  // For the insurer: kept apart from the sale's other records, given to no report.
  if (item.applicant)
    await trx('sale_applicants').insert({ sale_id: item.saleId, mobile: item.applicant.mobile })
  // Every account whose line shows an insured person now shows the new holding.
  for (const id of await accountsShowing(
    trx,
    item.lines.map((line) => line.insuredIdNumber)
  ))
    touched.add(id)
  return { kind: 'accepted' }
}

/**
 * Each line decided by the same engine as on the counter, with the centre's view of the account:
 * the real balances, this settlement year's spending (already deducted, so reflected in the
 * balance), what the account has paid for before, and the lines before it in the same sale.
 */
async function checkLines(
  trx: Knex.Transaction,
  bundle: RuleBundle,
  account: AccountRow,
  item: SaleItem
): Promise<{ verdict: Verdict } | { instalments: Map<number, InstalmentPolicy> }> {
  const instalments = new Map<number, InstalmentPolicy>()
  const at = item.createdAt
  const year = settlementYearOf(at, bundle.settlementYear.startMonthDay)
  const spentRow = await trx('spending_years')
    .where({ account_id: account.id, year_from: year.from })
    .first<{ spent_fen: number } | undefined>('spent_fen')
  const spending: SpendingEntry[] =
    spentRow && spentRow.spent_fen > 0
      ? [
          {
            amountFen: spentRow.spent_fen,
            at: new Date(`${year.from}T00:00:00+08:00`).toISOString(),
            reflectedInBalance: true
          }
        ]
      : []
  const paidFor: Array<{ insured_id_number: string; product_code: string; bought_at: string }> = await trx(
    'holdings'
  )
    .where({ payer_account_id: account.id })
    .select('insured_id_number', 'product_code', 'bought_at')
  const insuredByPayer: InsuredEntry[] = paidFor.map((row) => ({
    idNumber: row.insured_id_number,
    productCode: row.product_code,
    at: row.bought_at
  }))
  const family = new Set(
    await trx('family_members').where({ account_id: account.id }).pluck<string[]>('id_number')
  )
  const payer: PayerAccount = {
    regionCode: account.region_code,
    idNumber: account.id_number,
    insuranceType: account.insurance_type,
    status: account.status,
    balanceFen: account.balance_fen,
    historicalBalanceFen: account.historical_balance_fen,
    fitnessCardTransfersFen: account.fitness_card_transfers_fen
  }
  const inThisSale: Array<{ idNumber: string; productCode: string; from: string; to: string }> = []

  for (const line of item.lines) {
    const where = `第 ${line.lineNo} 位被保险人：`
    const product = bundle.products.find((p) => p.code === line.productCode)
    let instalment: InstalmentRequest | undefined
    if (line.instalment) {
      const due = await instalmentDue(trx, line, instalments)
      if ('refusal' in due) return { verdict: reject(due.refusal.code, `${where}${due.refusal.message}`) }
      instalments.set(line.lineNo, due.policy)
      instalment = due.request
    }
    const idNumber = line.insuredIdNumber
    const self = line.relation === 'self'
    const overlaps = (h: { idNumber: string; productCode: string; from: string; to: string }) =>
      h.idNumber === idNumber &&
      h.productCode === line.productCode &&
      h.from < line.coverTo &&
      h.to > line.coverFrom
    const holds =
      product?.onePerPersonPerCover === true &&
      (inThisSale.some(overlaps) ||
        (await holdsOverlapping(trx, idNumber, line.productCode, line.coverFrom, line.coverTo)))
    const decision = decide({
      bundle,
      account: payer,
      spending,
      insuredByPayer,
      insured: {
        relation: line.relation,
        idNumber,
        boundToAccount: self || family.has(idNumber),
        enrolledLocally: self || (await enrolledIn(trx, idNumber, bundle.region.code)),
        alreadyCoveredByProduct: holds
      },
      productCode: line.productCode,
      units: product?.pricing.kind === 'perUnit' ? (line.units ?? undefined) : undefined,
      amountFen: product?.pricing.kind === 'amounts' ? line.premiumFen : undefined,
      at,
      instalment
    })
    const failed = decision.checks.find((check) => !check.passed)
    if (failed) return { verdict: reject(rejectionCodeFor(failed.rule), `${where}${failed.text}`) }
    if (!product) return { verdict: reject('INVALID_ITEM', `${where}规则包中没有产品 ${line.productCode}`) }
    if (decision.allowed.premiumFen !== line.premiumFen) {
      const expected =
        decision.allowed.premiumFen === null ? '无法计算' : `${formatYuan(decision.allowed.premiumFen)} 元`
      return {
        verdict: reject(
          'INVALID_ITEM',
          `${where}保费 ${formatYuan(line.premiumFen)} 元与规则计算的 ${expected}不符`
        )
      }
    }
    const cover = instalment ? instalmentCoverOf(product, instalment.dueAt) : coverPeriodOf(product, at)
    if (cover.from !== line.coverFrom || cover.to !== line.coverTo)
      return { verdict: reject('INVALID_ITEM', `${where}保险期间与规则包不符`) }
    // This line counts against the caps and person limits of the lines after it.
    spending.push({ amountFen: line.premiumFen, at, reflectedInBalance: false })
    insuredByPayer.push({ idNumber, productCode: line.productCode, at })
    inThisSale.push({ idNumber, productCode: line.productCode, from: line.coverFrom, to: line.coverTo })
  }
  return { instalments }
}

/**
 * The policy an instalment line pays, and the instalment as the engine decides it: the same
 * person, product and units as the policy, the next instalment in order, the policy in force.
 */
async function instalmentDue(
  trx: Knex.Transaction,
  line: SaleItem['lines'][number],
  earlier: ReadonlyMap<number, InstalmentPolicy>
): Promise<
  | { policy: InstalmentPolicy; request: InstalmentRequest }
  | { refusal: { code: RejectionCode; message: string } }
> {
  const ref = line.instalment
  const policy = ref ? await policyBegunBy(trx, ref) : null
  if (!ref || !policy) return { refusal: { code: 'INVALID_ITEM', message: '中心没有这张续期缴费所指的保单' } }
  if (
    policy.insuredIdNumber !== line.insuredIdNumber ||
    policy.productCode !== line.productCode ||
    policy.units !== line.units
  )
    return { refusal: { code: 'INVALID_ITEM', message: '续期缴费的被保险人、产品或份数与保单不符' } }
  if ([...earlier.values()].some((p) => p.id === policy.id))
    return { refusal: { code: 'INVALID_ITEM', message: '同一保单在一笔交易中续期两次' } }
  if (policy.cancelled)
    return { refusal: { code: 'INSTALMENT_REFUSED', message: '保单已退保，不能续期缴费' } }
  if (policy.years === null || policy.graceDays === null)
    return { refusal: { code: 'INSTALMENT_REFUSED', message: '该保单不是分期缴费的保单' } }
  if (policy.nextDueAt === null || ref.sequence !== policy.paid + 1)
    return {
      refusal: {
        code: 'INSTALMENT_REFUSED',
        message: `保单已缴 ${policy.paid} 期（共 ${policy.years} 期），本次为第 ${ref.sequence} 期`
      }
    }
  const plan = instalmentPlanAfter(
    { years: policy.years, graceDays: policy.graceDays },
    policy.paid,
    policy.nextDueAt
  )
  return {
    policy,
    request: {
      sequence: ref.sequence,
      units: policy.units ?? 1,
      dueAt: policy.nextDueAt,
      graceEndsAt: plan.graceEndsAt ?? policy.nextDueAt
    }
  }
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
  touched: Set<number>,
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
  touched.add(account.id)
  await trx('spending_years')
    .where({ account_id: account.id, year_from: sale.year_from })
    .update({ spent_fen: greatestOf(trx, '0, spent_fen - ?', [sale.total_fen]) })
  const insured = await trx('holdings').where({ sale_id: sale.sale_id }).pluck<string[]>('insured_id_number')
  await trx('holdings').where({ sale_id: sale.sale_id }).delete()
  await dropUnissuedPolicies(trx, sale.sale_id)
  for (const id of await accountsShowing(trx, insured)) touched.add(id)
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
  touched: Set<number>,
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
  const shown = await accountsShowing(
    trx,
    policies.map((p) => p.insured_id_number)
  )
  for (const id of [...shown, account.id]) touched.add(id)
  return { kind: 'accepted' }
}
