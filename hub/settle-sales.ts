import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import { formatYuan } from '../core/money'
import type { RuleBundle } from '../core/rules/bundle'
import { coverPeriodOf, instalmentCoverOf } from '../core/rules/cover'
import { decide, type InstalmentRequest, type PayerAccount, type SpendingEntry } from '../core/rules/engine'
import { settlementYearOf } from '../core/rules/settlement-year'
import { instalmentPlanAfter } from '../core/after-sale'
import { itemIdOf, type ItemResult, type RejectionCode, type SaleItem } from '../core/sync/protocol'
import {
  drawnNumbers,
  insertStatements,
  lockKeys,
  nextIdsQuery,
  numberedResults,
  readTogether,
  settlementNumbersQuery,
  writeTogether
} from './db/dialect'
import {
  acceptedSaleWrites,
  lockPayers,
  payerOf,
  runFactQueries,
  receivedSaleWrites,
  runFactsFrom,
  spentKey,
  type AcceptedSale,
  type Cover,
  type RunFactRows,
  type SaleRunFacts
} from './db/sale-run'
import type { Touched } from './db/state'
import {
  checkPayer,
  payerFactQueries,
  payerFactsFrom,
  writePinTries,
  type PayerFactRows,
  type PayerFacts
} from './payer'
import { newPolicyCount, type InstalmentPolicy } from './policies'
import type { BundleLookup } from './rules'
import type { SettleContext } from './settle'
import {
  accountKeys,
  LOCKED_MESSAGE,
  reject,
  rejectionCodeFor,
  acceptedReference,
  answerOf,
  storedRowOf,
  repeat,
  STATUS_TEXT,
  WAITING_MESSAGE,
  type AccountRow,
  type BatchOrder,
  type Rejection,
  type RetryLater,
  type StoredResult
} from './verdicts'

/**
 * Settlement of a run of consecutive sales in one upload, inside the upload's transaction. The run
 * is settled as the items one by one would be, in their order, each seeing what the ones before it
 * took; only the database work is done for the run at once: its items and insured persons locked
 * in one statement, its payers' accounts in one more, what the rules need read in one more, and
 * what the accepted sales change written in one at the end (hub/db/sale-run.ts).
 */

/** Numbers drawn for a run (settlementNumbersQuery, nextIdsQuery), as read. */
type Drawn = ReadonlyArray<{ readonly n: number | string }>

/** Sales decided between two turns of the event loop (about 2 ms of CPU): an authorization waits for at most that at each of its round trips. */
const YIELD_EVERY = 5

type SaleDecision = Rejection | RetryLater | { readonly kind: 'accepted'; readonly sale: AcceptedSale }

/** How each item of the run is answered once the run is written. */
type Answer =
  | { readonly kind: 'stored'; readonly stored: StoredResult }
  | {
      readonly kind: 'decided'
      readonly item: SaleItem
      readonly decision: SaleDecision
      readonly sha256: string
    }
  /** The same item again later in the run: the first one's answer, as a resend gets it. */
  | { readonly kind: 'again'; readonly first: number }

export async function settleSales(
  trx: Knex.Transaction,
  ctx: SettleContext,
  sales: readonly SaleItem[],
  settledAt: string,
  touched: Touched,
  order: BatchOrder
): Promise<ItemResult[]> {
  // The items, and every person they insure (another payer's sale for the same person waits until
  // this one commits): one round trip.
  await lockKeys(
    trx,
    sales.flatMap((item) => [
      `item:${itemIdOf(item)}`,
      ...item.lines.map((line) => `person:${line.insuredIdNumber}`)
    ])
  )
  const stored = new Map(
    (
      await trx('item_results')
        .whereIn(
          'item_id',
          sales.map((item) => itemIdOf(item))
        )
        .select<StoredResult[]>()
    ).map((row) => [row.item_id, row])
  )
  const fresh = sales.filter((item) => !stored.has(itemIdOf(item)))
  const payers = await lockPayers(trx, fresh)
  // Everything else the run is decided on, in one round trip once the accounts are locked, with
  // the numbers its results and policies may need (a number not used is skipped, as after a rollback).
  const policyCount = newPolicyCount(fresh)
  const rows = await readTogether<RunFactRows & PayerFactRows & { numbers: Drawn; policyIds: Drawn }>(trx, {
    ...runFactQueries(trx, fresh, payers.accountIds),
    ...payerFactQueries(trx, fresh, payers.accountIds),
    numbers: settlementNumbersQuery(trx, fresh.length),
    policyIds: nextIdsQuery(trx, 'policies', policyCount)
  })
  const facts = runFactsFrom(payers, rows)
  const payerFacts = payerFactsFrom(rows)
  const bundles = new Map<string, Promise<BundleLookup>>()
  const rulesOf = (regionCode: string, version: number) => {
    const key = `${regionCode}/${version}`
    const known = bundles.get(key) ?? ctx.bundles.lookup(trx, regionCode, version)
    bundles.set(key, known)
    return known
  }

  const answers: Answer[] = []
  const firstAt = new Map<string, number>()
  for (const [index, item] of sales.entries()) {
    // A run is CPU work (PIN blocks, the rules) between two round trips: let an authorization's
    // answer through every few sales instead of after the whole run.
    if (index > 0 && index % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve))
    const itemId = itemIdOf(item)
    const sha256 = createHash('sha256').update(JSON.stringify(item)).digest('hex')
    const earlier = stored.get(itemId)
    if (earlier) {
      if (earlier.content_sha256 !== sha256)
        ctx.log.error('item_resent_with_other_content', { item: itemId, terminal: ctx.terminal.id })
      answers.push({ kind: 'stored', stored: earlier })
      continue
    }
    const first = firstAt.get(itemId)
    if (first !== undefined) {
      answers.push({ kind: 'again', first })
      continue
    }
    firstAt.set(itemId, answers.length)
    const decision = await decideSale(trx, ctx, item, facts, payerFacts, rulesOf, settledAt, order)
    if (decision.kind === 'retryLater') {
      for (const key of decision.keys) order.blocked.add(key)
      order.waitingSales.set(item.saleId, decision.keys)
    }
    answers.push({ kind: 'decided', item, decision, sha256 })
  }

  const decided = answers.filter(
    (
      answer
    ): answer is Extract<Answer, { kind: 'decided' }> & { decision: Exclude<SaleDecision, RetryLater> } =>
      answer.kind === 'decided' && answer.decision.kind !== 'retryLater'
  )
  const accepted = decided.flatMap(({ decision }) => (decision.kind === 'accepted' ? [decision.sale] : []))
  await writePinTries(trx, payerFacts, settledAt)
  const written = numberedResults(
    trx,
    decided.map(({ item, decision, sha256 }) =>
      storedRowOf({ itemId: item.saleId, type: 'sale' }, ctx.terminal.id, decision, settledAt, sha256)
    ),
    drawnNumbers(rows.numbers),
    acceptedReference(settledAt)
  )
  const references = written.references
  // What the run changes, in one round trip on PostgreSQL.
  await writeTogether(trx, [
    ...(await acceptedSaleWrites(
      trx,
      ctx.terminal.id,
      accepted,
      settledAt,
      ctx.policyDelayMs ?? 0,
      drawnNumbers(rows.policyIds)
    )),
    ...insertStatements(trx, 'item_results', written.rows),
    ...receivedSaleWrites(
      trx,
      ctx.terminal.id,
      decided.map(({ item }) => item)
    )
  ])
  // Every account whose line shows an insured person now shows the new holding.
  for (const { account, item } of accepted) {
    touched.accounts.add(account.id)
    for (const line of item.lines) touched.persons.add(line.insuredIdNumber)
  }

  const referenceOfItem = new Map(decided.map(({ item }, index) => [item.saleId, references[index]]))
  const results: ItemResult[] = []
  for (const answer of answers) {
    if (answer.kind === 'stored') results.push(repeat(answer.stored))
    else if (answer.kind === 'decided') results.push(resultOf(answer, referenceOfItem, settledAt))
    else {
      const first = answers[answer.first] as Extract<Answer, { kind: 'decided' }>
      const result = resultOf(first, referenceOfItem, settledAt)
      results.push(result.outcome === 'accepted' ? { ...result, outcome: 'alreadyAccepted' } : result)
    }
  }
  return results
}

function resultOf(
  { item, decision }: Extract<Answer, { kind: 'decided' }>,
  references: ReadonlyMap<string, string | null>,
  settledAt: string
): ItemResult {
  if (decision.kind === 'retryLater')
    return { itemId: item.saleId, outcome: 'retryLater', message: decision.message }
  return answerOf(item.saleId, decision, settledAt, references.get(item.saleId))
}

async function decideSale(
  trx: Knex.Transaction,
  ctx: SettleContext,
  item: SaleItem,
  facts: SaleRunFacts,
  payerFacts: PayerFacts,
  rulesOf: (regionCode: string, version: number) => Promise<BundleLookup>,
  settledAt: string,
  order: BatchOrder
): Promise<SaleDecision> {
  const keys = [`card:${item.payer.cardNumber}`, `id:${item.payer.idNumber}`]
  if (keys.some((key) => order.blocked.has(key)))
    return { kind: 'retryLater', message: WAITING_MESSAGE, keys }
  if (item.terminalId !== ctx.terminal.id)
    return reject('INVALID_ITEM', `交易记录的终端编号 ${item.terminalId} 与上传的终端不符`)
  if (!ctx.terminal.regionCodes.includes(item.payer.regionCode))
    return reject('INVALID_ITEM', `本终端未获准办理地区 ${item.payer.regionCode} 的业务`)

  const account = payerOf(facts, item.payer)
  if (!account)
    return reject('ACCOUNT_UNKNOWN', `中心在地区 ${item.payer.regionCode} 没有与该卡号、身份证号相符的账户`)
  const allKeys = [...new Set([...keys, ...accountKeys(account)])]
  if (allKeys.some((key) => order.blocked.has(key)))
    return { kind: 'retryLater', message: WAITING_MESSAGE, keys: allKeys }
  if (ctx.isLocked(account.account_no)) return { kind: 'retryLater', message: LOCKED_MESSAGE, keys: allKeys }
  if (account.status !== 'active')
    return reject('ACCOUNT_SUSPENDED', `账户${STATUS_TEXT[account.status]}，不能用个人账户购买`)
  // Who pays is settled before what is bought: a wrong password counts even for an order the rules refuse.
  const payer = await checkPayer(trx, payerFacts, item, account.id, settledAt)
  if (!payer.ok) return reject(payer.code, payer.message)

  if (item.rules.regionCode !== account.region_code)
    return reject(
      'INVALID_ITEM',
      `交易所用规则包的地区 ${item.rules.regionCode} 与参保地 ${account.region_code} 不符`
    )
  const rules = await rulesOf(item.rules.regionCode, item.rules.version)
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

  const checked = checkLines(rules.bundle, account, item, facts)
  if ('verdict' in checked) return checked.verdict
  if (account.balance_fen < item.totalFen)
    return reject(
      'INSUFFICIENT_BALANCE',
      `个人账户余额 ${formatYuan(account.balance_fen)} 元，不足支付 ${formatYuan(item.totalFen)} 元`
    )

  // Historical balance (历年结余) first, then this year's part: the rules of the regions that name a
  // basis buy from the historical balance, and what remains of it then still counts for them.
  const fromHistoricalFen = Math.min(account.historical_balance_fen, item.totalFen)
  const yearFrom = settlementYearOf(item.createdAt, rules.bundle.settlementYear.startMonthDay).from
  takeFromAccount(facts, item, account, fromHistoricalFen, yearFrom, checked.instalments)
  return {
    kind: 'accepted',
    sale: {
      item,
      account,
      bundle: rules.bundle,
      fromHistoricalFen,
      yearFrom,
      instalments: checked.instalments
    }
  }
}

/** The run's view after an accepted sale: what the next sale of the run is decided on. */
function takeFromAccount(
  facts: SaleRunFacts,
  item: SaleItem,
  account: AccountRow,
  fromHistoricalFen: number,
  yearFrom: string,
  instalments: ReadonlyMap<number, InstalmentPolicy>
): void {
  account.balance_fen -= item.totalFen
  account.historical_balance_fen -= fromHistoricalFen
  const key = spentKey(account.id, yearFrom)
  facts.spent.set(key, (facts.spent.get(key) ?? 0) + item.totalFen)
  const paid = facts.paidFor.get(account.id) ?? []
  facts.paidFor.set(account.id, paid)
  for (const line of item.lines) {
    paid.push({ idNumber: line.insuredIdNumber, productCode: line.productCode, at: item.createdAt })
    const held = facts.covers.get(line.insuredIdNumber) ?? []
    held.push({ productCode: line.productCode, from: line.coverFrom, to: line.coverTo })
    facts.covers.set(line.insuredIdNumber, held)
    const policy = line.instalment ? instalments.get(line.lineNo) : undefined
    if (line.instalment && policy) {
      const paidUp = policy.years !== null && line.instalment.sequence >= policy.years
      facts.instalmentPolicies.set(`${line.instalment.saleId}|${line.instalment.lineNo}`, {
        ...policy,
        paid: line.instalment.sequence,
        nextDueAt: paidUp ? null : line.coverTo
      })
    }
  }
}

/**
 * Each line decided by the same engine as on the counter, with the centre's view of the account:
 * the real balances, this settlement year's spending (already deducted, so reflected in the
 * balance), what the account has paid for before, and the lines before it in the same sale.
 */
function checkLines(
  bundle: RuleBundle,
  account: AccountRow,
  item: SaleItem,
  facts: SaleRunFacts
): { verdict: Rejection } | { instalments: Map<number, InstalmentPolicy> } {
  const instalments = new Map<number, InstalmentPolicy>()
  const at = item.createdAt
  const year = settlementYearOf(at, bundle.settlementYear.startMonthDay)
  const spentFen = facts.spent.get(spentKey(account.id, year.from)) ?? 0
  const spending: SpendingEntry[] =
    spentFen > 0
      ? [
          {
            amountFen: spentFen,
            at: new Date(`${year.from}T00:00:00+08:00`).toISOString(),
            reflectedInBalance: true
          }
        ]
      : []
  const insuredByPayer = [...(facts.paidFor.get(account.id) ?? [])]
  const family = facts.family.get(account.id)
  const payer: PayerAccount = {
    regionCode: account.region_code,
    idNumber: account.id_number,
    insuranceType: account.insurance_type,
    status: account.status,
    balanceFen: account.balance_fen,
    historicalBalanceFen: account.historical_balance_fen,
    fitnessCardTransfersFen: account.fitness_card_transfers_fen
  }
  const inThisSale: Array<Cover & { idNumber: string }> = []

  for (const line of item.lines) {
    const where = `第 ${line.lineNo} 位被保险人：`
    const product = bundle.products.find((p) => p.code === line.productCode)
    let instalment: InstalmentRequest | undefined
    if (line.instalment) {
      const due = instalmentDue(facts, line, instalments)
      if ('refusal' in due) return { verdict: reject(due.refusal.code, `${where}${due.refusal.message}`) }
      instalments.set(line.lineNo, due.policy)
      instalment = due.request
    }
    const idNumber = line.insuredIdNumber
    const self = line.relation === 'self'
    const overlaps = (held: Cover) =>
      held.productCode === line.productCode && held.from < line.coverTo && held.to > line.coverFrom
    const holds =
      product?.onePerPersonPerCover === true &&
      (inThisSale.some((held) => held.idNumber === idNumber && overlaps(held)) ||
        (facts.covers.get(idNumber) ?? []).some(overlaps))
    const decision = decide({
      bundle,
      account: payer,
      spending,
      insuredByPayer,
      insured: {
        relation: line.relation,
        idNumber,
        boundToAccount: self || family?.has(idNumber) === true,
        enrolledLocally: self || facts.enrolled.has(`${idNumber}|${bundle.region.code}`),
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
function instalmentDue(
  facts: SaleRunFacts,
  line: SaleItem['lines'][number],
  earlier: ReadonlyMap<number, InstalmentPolicy>
):
  | { policy: InstalmentPolicy; request: InstalmentRequest }
  | { refusal: { code: RejectionCode; message: string } } {
  const ref = line.instalment
  const policy = ref ? facts.instalmentPolicies.get(`${ref.saleId}|${ref.lineNo}`) : undefined
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
