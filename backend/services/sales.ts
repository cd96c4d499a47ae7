import { randomBytes } from 'node:crypto'
import { spendingEntries } from '../../core/spending'
import { AppError } from '../../core/errors'
import {
  ageOn,
  birthDateOfId,
  genderOfId,
  parseCardInput,
  parseMobile,
  parseResidentId
} from '../../core/identifiers'
import { uuidv7 } from '../../core/ids'
import { maskCardNumber, maskIdNumber, maskMobile, maskName } from '../../core/masking'
import { formatYuan } from '../../core/money'
import { coverPeriodOf, instalmentCoverOf } from '../../core/rules/cover'
import {
  offlineFreshness,
  offlineSaleBlockers,
  onlineAuthorizationOf,
  onlineOnlyBlockers
} from '../../core/rules/freshness'
import { decide, type InsuredEntry, type PayerAccount, type SpendingEntry } from '../../core/rules/engine'
import type {
  CatalogueView,
  CentreResultView,
  DraftOrder,
  Payment,
  PaymentStart,
  QuoteLine,
  QuoteView,
  ReceiptView,
  SaleSummary,
  Signature
} from '../../core/sale'
import { shanghaiDate, type Clock } from '../../core/time'
import type {
  AccountRecord,
  AccountsRepository,
  BoundMember,
  HeldCover
} from '../../db/repositories/accounts'
import type { OperatorsRepository } from '../../db/repositories/operators'
import type { LineInstalment, SalesRepository } from '../../db/repositories/sales'
import type { Caller } from '../../core/api/contract'
import {
  voucherCodeSchema,
  type CancellationItem,
  type PayerProof,
  type SaleItem
} from '../../core/sync/protocol'
import { cancellationTerms } from '../../core/after-sale'
import type { RuleBundle, RuleProduct } from '../../core/rules/bundle'
import type { AuthService } from './auth'
import { findAccountByCard, maskedPayer } from './cardholder'
import type { ActiveRules } from './rule-store'

export interface SalesService {
  catalogue(accountId: number): Promise<CatalogueView>
  quote(order: DraftOrder): Promise<QuoteView>
  begin(caller: Caller, accountId: number): Promise<PaymentStart>
  commit(
    caller: Caller,
    request: {
      saleId: string
      order: DraftOrder
      payment: Payment
      signature: Signature
      /** The order's warnings were told to the customer (required when there are any). */
      warningsAcknowledged?: boolean
    }
  ): Promise<ReceiptView>
  receipt(saleId: string): Promise<ReceiptView>
  search(
    caller: Caller,
    filter: { query?: string; date?: string; scope: 'shift' | 'all'; status?: SaleSummary['status'] }
  ): Promise<SaleSummary[]>
  void(
    caller: Caller,
    request: { saleId: string; reason: string; supervisorCode: string; supervisorPin: string }
  ): Promise<ReceiptView>
  /**
   * Cancels lines (policies) of an accepted sale within their cooling-off period: the payer's card
   * again, a supervisor's approval (not the caller's own), queued for the centre, which refunds.
   */
  cancel(
    caller: Caller,
    request: {
      saleId: string
      lineNos: readonly number[]
      reason: string
      card: string
      supervisorCode: string
      supervisorPin: string
    }
  ): Promise<ReceiptView>
}

/** What pricing reads: the runtime's read connections, or inside the sale's write transaction its own. */
export interface SaleReads {
  readonly accounts: AccountsRepository
  readonly sales: SalesRepository
}

export interface SalesDeps extends SaleReads {
  readonly operators: OperatorsRepository
  readonly auth: AuthService
  readonly rules: ActiveRules
  readonly clock: Clock
  readonly terminalId: string
  /** The centre answered recently (sync): offline amount limits apply only when it did not. */
  readonly centreReachable: () => boolean
  /**
   * Runs `work` in one write transaction with repositories bound to it: the order is priced against
   * the caps and written in the same transaction, so sales committed at once cannot pass a cap together.
   */
  readonly writeTransaction: <T>(work: (repos: SaleReads) => Promise<T>) => Promise<T>
  /** The centre's key the customer's password is sealed to (raw X25519, base64), or null when none is held. */
  readonly pinKey: () => Promise<{ keyId: string; publicKey: string } | null>
  /**
   * Asks the centre to authorize the committed sale while the customer waits, for at most the
   * configured time; settles it locally if answered. Never throws: unanswered, the sale stays queued.
   */
  readonly authorize: (saleId: string) => Promise<void>
  /** Whether this terminal is registered with a centre (then every sale is offered to it first). */
  readonly registered: () => Promise<boolean>
  /** Starts an upload of the queue without waiting for its answer (a cancellation goes at once when online). */
  readonly uploadSoon: () => Promise<void>
}

/** How long a sale id from sale.begin may wait for its payment: the password sealed with it expires too. */
const PAYMENT_WINDOW_MS = 30 * 60_000

const newId = (clock: Clock) => uuidv7(clock.now().getTime(), randomBytes(10))

function signatureSvg(signature: Signature): string {
  const paths = signature.strokes.map((d) => `<path d="${d}"/>`).join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${signature.width} ${signature.height}" fill="none" stroke="#111" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round">${paths}</svg>`
}

function centreResultOf(
  settledAt: string | null,
  code: string | null,
  message: string | null,
  reference: string | null = null
): CentreResultView | null {
  if (settledAt === null) return null
  return { settledAt, rejection: code === null ? null : { code, message: message ?? code }, reference }
}

/** The applicant's mobile as typed: kept as 11 digits, shown masked; required where the rules say. */
function applicantOf(
  mobileRequired: boolean,
  typed: string | undefined
): { mobileRequired: boolean; mobile: string | null; mobileMasked: string | null; problem: string | null } {
  const text = typed?.trim() ?? ''
  if (text === '')
    return {
      mobileRequired,
      mobile: null,
      mobileMasked: null,
      problem: mobileRequired ? '请填写投保人手机号（本地区规则要求登记）' : null
    }
  const parsed = parseMobile(text)
  if (!parsed.ok)
    return { mobileRequired, mobile: null, mobileMasked: null, problem: `投保人${parsed.reason}` }
  return { mobileRequired, mobile: parsed.value, mobileMasked: maskMobile(parsed.value), problem: null }
}

/** The same card again, by card number or ID number: the customer's second swipe pays. */
function paysWithSameCard(account: AccountRecord, swiped: string, today: string): boolean {
  const parsed = parseCardInput(swiped, today)
  if (!parsed.ok) return false
  const id = parsed.value
  return (
    (id.kind === 'social-security-card' && id.cardNumber === account.cardNumber) ||
    (id.kind === 'resident-id' && id.idNumber === account.idNumber)
  )
}

/**
 * The sale: priced and checked line by line against the rules (each line counts the lines before it
 * against the caps), paid by a second swipe of the same card, and written in one transaction with
 * its ledger reservation and its outbox entry. Nothing is printed before that transaction commits.
 */
/** A quoted line with what only the sale record keeps (full ID and name, the instalment it pays). */
type PricedLine = QuoteLine & {
  readonly problems: string[]
  readonly kept: {
    readonly insuredId: string
    readonly insuredName: string
    readonly units: number | null
    readonly proofSeen: boolean
    readonly instalment: LineInstalment | null
  }
}

export function createSalesService(deps: SalesDeps): SalesService {
  /** Sale ids handed to the pay step, until paid or expired (memory only: a restart asks again). */
  const paymentsBegun = new Map<string, { accountId: number; operatorId: number; at: number }>()

  /** The payment checked on this side: the same card, a keyed entry approved, an e-voucher only online. */
  async function verifiedProof(
    caller: Caller,
    account: AccountRecord,
    payment: Payment,
    at: string
  ): Promise<{ kind: 'swiped' | 'keyed' | 'voucher'; approvedBy: number | null; item: PayerProof }> {
    if (payment.method === 'voucher') {
      if (!voucherCodeSchema.safeParse(payment.voucherCode.trim()).success)
        throw new AppError(
          'PAYMENT_REFUSED',
          '扫到的不是医保电子凭证：请让参保人出示医保电子凭证二维码，本次未扣款'
        )
      if (!deps.centreReachable())
        throw new AppError(
          'PAYMENT_REFUSED',
          '医保电子凭证须由医保中心当场核验，当前连不上中心：请刷社保卡并输入密码付款，本次未扣款'
        )
      return {
        kind: 'voucher',
        approvedBy: null,
        item: { method: 'voucher', voucherCode: payment.voucherCode.trim() }
      }
    }
    if (!paysWithSameCard(account, payment.card, shanghaiDate(new Date(at)))) {
      throw new AppError(
        'PAYMENT_CARD_MISMATCH',
        payment.entry === 'keyed'
          ? '输入的卡号或身份证号不是本账户的：请核对后重新输入，本次未扣款'
          : '付款刷卡不是同一张卡：请由持卡人刷本人的社会保障卡，本次未扣款'
      )
    }
    const key = await deps.pinKey()
    if (!key || payment.pinBlock.keyId !== key.keyId)
      throw new AppError('PAYMENT_EXPIRED', '密码加密密钥已更新：请持卡人重新输入密码，本次未扣款')
    if (payment.entry === 'swiped')
      return {
        kind: 'swiped',
        approvedBy: null,
        item: { method: 'card', entry: 'swiped', pinBlock: payment.pinBlock }
      }
    if (!payment.approval)
      throw new AppError('APPROVAL_REQUIRED', '手工输入卡号付款须由主管输入工号和密码批准，本次未扣款')
    const supervisor = await deps.auth.approveBySupervisor(
      payment.approval.supervisorCode,
      payment.approval.supervisorPin
    )
    if (supervisor.id === caller.operatorId)
      throw new AppError('FORBIDDEN', '手工输入卡号须由另一位主管批准，不能本人批准，本次未扣款')
    return {
      kind: 'keyed',
      approvedBy: supervisor.id,
      item: { method: 'card', entry: 'keyed', pinBlock: payment.pinBlock, keyedApprovedBy: supervisor.code }
    }
  }

  /**
   * A yearly instalment of a policy the account's people hold: the person, product and units are
   * the policy's, the price and the window the rules in force, the payer's checks this year's.
   */
  async function instalmentLine(
    ref: { saleId: string; lineNo: number },
    lineNo: number,
    covers: readonly HeldCover[],
    ctx: {
      bundle: RuleBundle
      payer: PayerAccount
      account: AccountRecord
      members: readonly BoundMember[]
      spending: readonly SpendingEntry[]
      insuredByPayer: readonly InsuredEntry[]
      at: string
      repos: SaleReads
    }
  ): Promise<{ key: string; line: PricedLine }> {
    const cover = covers.find(
      (c) =>
        c.policyRef?.saleId === ref.saleId && c.policyRef.lineNo === ref.lineNo && c.instalments?.nextDueAt
    )
    const plan = cover?.instalments
    if (!cover || !plan?.nextDueAt || !plan.graceEndsAt)
      throw new AppError(
        'INVALID_ARGUMENT',
        `第 ${lineNo} 项：本机没有这张保单待缴的续期，请同步数据后重新刷卡`
      )
    const person = cover.person
    if (!person || person.relation === null)
      throw new AppError(
        'INVALID_ARGUMENT',
        `第 ${lineNo} 项：被保险人不是持卡人本人或其家庭成员，不能由本账户续期缴费`
      )
    const { bundle, account, at } = ctx
    const product = bundle.products.find((p) => p.code === cover.productCode)
    if (!product)
      throw new AppError('INVALID_ARGUMENT', `${bundle.region.name}规则包中没有产品 ${cover.productCode}`)
    const relation = person.relation
    const insuredId = person.idNumber
    const bound = relation === 'self' || ctx.members.some((m) => m.idNumber === insuredId)
    const insuredAccount = relation === 'self' ? account : await ctx.repos.accounts.findByIdNumber(insuredId)
    const request = {
      sequence: plan.paid + 1,
      units: cover.units ?? 1,
      dueAt: plan.nextDueAt,
      graceEndsAt: plan.graceEndsAt
    }
    const decision = decide({
      bundle,
      account: ctx.payer,
      spending: ctx.spending,
      insuredByPayer: ctx.insuredByPayer,
      insured: {
        relation,
        idNumber: insuredId,
        boundToAccount: bound,
        enrolledLocally:
          insuredAccount !== null &&
          insuredAccount.regionCode === account.regionCode &&
          insuredAccount.status === 'active',
        alreadyCoveredByProduct: false
      },
      productCode: product.code,
      at,
      instalment: request
    })
    const terms = product.afterSale?.instalments
    return {
      key: `policy/${ref.saleId}/${ref.lineNo}`,
      line: {
        lineNo,
        relation,
        insuredNameMasked: maskName(person.name),
        insuredIdMasked: maskIdNumber(insuredId),
        age: ageOn(birthDateOfId(insuredId), shanghaiDate(new Date(at))),
        boundToAccount: bound,
        productCode: product.code,
        productName: product.name,
        openProducts: [product.code],
        eligible: decision.eligible,
        checks: decision.checks,
        allowed: decision.allowed,
        premiumFen: decision.eligible ? decision.allowed.premiumFen : null,
        cover: instalmentCoverOf(product, plan.nextDueAt),
        instalment: {
          sequence: request.sequence,
          years: plan.years,
          dueAt: plan.nextDueAt,
          policyNo: cover.policyNo
        },
        problems: decision.checks.filter((check) => !check.passed).map((check) => check.text),
        warnings: [],
        kept: {
          insuredId,
          insuredName: person.name,
          units: request.units,
          proofSeen: false,
          instalment: {
            no: request.sequence,
            years: plan.years,
            graceDays: terms?.graceDays ?? 0,
            policyRef: { saleId: ref.saleId, lineNo: ref.lineNo },
            policyNo: cover.policyNo
          }
        }
      }
    }
  }

  async function priced(order: DraftOrder, at: string, repos: SaleReads = deps) {
    const account = await repos.accounts.findById(order.accountId)
    if (!account) throw new AppError('CARD_NOT_FOUND', '本机账户数据中没有这个账户：请重新刷卡')
    const { bundle } = await deps.rules.activeFor(account.regionCode, at)
    const today = shanghaiDate(new Date(at))
    const members = await repos.accounts.boundMembers(account.id)
    const spending: SpendingEntry[] = spendingEntries(account, await repos.sales.spendingOf(account.id))
    const insuredByPayer: InsuredEntry[] = [...(await repos.sales.insuredBy(account.id))]
    const payer = deps.rules.payerOf(account, bundle, at)
    const spouses = new Set<string>()
    const seen = new Set<string>()
    /** What the clerk sees of a line, and what only the sale record keeps (full ID and name). */
    const lines: PricedLine[] = []
    let maxSpendFen = 0

    // Instalments name their policy; the people's covers are read only when one does.
    const covers = order.lines.some((line) => line.instalmentOf)
      ? await repos.accounts.coversOf(account.id, at)
      : []

    for (const [index, line] of order.lines.entries()) {
      const lineNo = index + 1
      if (line.instalmentOf) {
        const priced = await instalmentLine(line.instalmentOf, lineNo, covers, {
          bundle,
          payer,
          account,
          members,
          spending,
          insuredByPayer,
          at,
          repos
        })
        if (seen.has(priced.key)) priced.line.problems.push('同一保单的续期在本单中重复')
        seen.add(priced.key)
        if (index === 0) maxSpendFen = priced.line.allowed.maxSpendFen
        if (priced.line.premiumFen !== null)
          spending.push({ amountFen: priced.line.premiumFen, at, reflectedInBalance: false })
        insuredByPayer.push({
          idNumber: priced.line.kept.insuredId,
          productCode: priced.line.productCode,
          at
        })
        lines.push(priced.line)
        continue
      }
      const problems: string[] = []
      const warnings: string[] = []
      const { relation } = line.insured
      let insuredId = account.idNumber
      if (line.insured.memberId !== undefined) {
        const bound = members.find((m) => m.memberId === line.insured.memberId)
        if (!bound) throw new AppError('INVALID_ARGUMENT', `第 ${lineNo} 位被保险人不是本账户绑定的家庭成员`)
        insuredId = bound.idNumber
      } else if (relation !== 'self') {
        const parsed = parseResidentId(line.insured.idNumber ?? '', today)
        if (!parsed.ok) throw new AppError('CARD_MALFORMED', `第 ${lineNo} 位被保险人：${parsed.reason}`)
        insuredId = parsed.value.idNumber
      }
      const member = members.find((m) => m.idNumber === insuredId)
      const bound = relation === 'self' || member !== undefined
      const insuredName = relation === 'self' ? account.name : (member?.name ?? line.insured.name ?? '')
      if (relation !== 'self' && !member && insuredName.length < 2)
        problems.push('请填写被保险人姓名（与身份证一致）')
      if (relation !== 'self' && !bound && !line.insured.proofSeen)
        problems.push('请查验与被保险人的关系证明（户口簿或出生医学证明）并勾选')
      const insuredAccount = relation === 'self' ? account : await repos.accounts.findByIdNumber(insuredId)
      const enrolledLocally =
        (insuredAccount !== null &&
          insuredAccount.regionCode === account.regionCode &&
          insuredAccount.status === 'active') ||
        line.insured.enrolmentConfirmed === true
      const product = bundle.products.find((p) => p.code === line.productCode)
      if (!product)
        throw new AppError('INVALID_ARGUMENT', `${bundle.region.name}规则包中没有产品 ${line.productCode}`)
      const key = `${insuredId}/${product.code}`
      if (seen.has(key)) problems.push('同一被保险人的同一产品在本单中重复')
      seen.add(key)
      // A relation only one person can hold: two different spouses in one order is an error of entry.
      if (relation === 'spouse') {
        if (spouses.size > 0 && !spouses.has(insuredId))
          problems.push('一份订单只能有一位配偶：本单已有另一位配偶')
        spouses.add(insuredId)
      }
      const alreadyHolds = await repos.sales.holds(insuredId, product.code, at)
      if (alreadyHolds && !product.onePerPersonPerCover)
        warnings.push('该被保险人在保障期内已在本终端购买过此产品，本单将增加份数')

      const insured = { relation, idNumber: insuredId, boundToAccount: bound, enrolledLocally }
      /** The rules for this person and a product, after the lines before this one. */
      const decideFor = (
        code: string,
        holds: boolean,
        onePerPerson: boolean,
        quantity: { units?: number; amountFen?: number }
      ) =>
        decide({
          bundle,
          account: payer,
          spending,
          insuredByPayer,
          insured: { ...insured, alreadyCoveredByProduct: holds && onePerPerson },
          productCode: code,
          ...quantity,
          at
        })
      const decision = decideFor(product.code, alreadyHolds, product.onePerPersonPerCover, {
        units: line.units,
        amountFen: line.amountFen
      })
      // Which products this person could have at all (smallest quantity), for the clerk's choice.
      const openProducts: string[] = []
      for (const other of bundle.products) {
        const holdsOther =
          other.code === product.code ? alreadyHolds : await repos.sales.holds(insuredId, other.code, at)
        const smallest =
          other.pricing.kind === 'perUnit'
            ? { units: other.pricing.units.min }
            : { amountFen: Math.min(...other.pricing.amountsFen) }
        if (decideFor(other.code, holdsOther, other.onePerPersonPerCover, smallest).eligible)
          openProducts.push(other.code)
      }
      if (index === 0) maxSpendFen = decision.allowed.maxSpendFen
      for (const check of decision.checks) if (!check.passed) problems.push(check.text)
      const premiumFen = decision.eligible ? decision.allowed.premiumFen : null
      // What this line takes counts against the caps and person limits of the lines after it.
      if (premiumFen !== null) spending.push({ amountFen: premiumFen, at, reflectedInBalance: false })
      insuredByPayer.push({ idNumber: insuredId, productCode: product.code, at })

      lines.push({
        lineNo,
        relation,
        insuredNameMasked: maskName(insuredName || '—'),
        insuredIdMasked: maskIdNumber(insuredId),
        age: ageOn(birthDateOfId(insuredId), today),
        boundToAccount: bound,
        productCode: product.code,
        productName: product.name,
        openProducts,
        eligible: decision.eligible,
        checks: decision.checks,
        allowed: decision.allowed,
        premiumFen,
        cover: coverPeriodOf(product, at),
        instalment: null,
        problems,
        warnings,
        kept: {
          insuredId,
          insuredName,
          units: product.pricing.kind === 'perUnit' ? (line.units ?? product.pricing.units.min) : null,
          proofSeen: line.insured.proofSeen === true,
          // A product paid yearly: this sale is the policy's first instalment.
          instalment: product.afterSale?.instalments
            ? {
                no: 1,
                years: product.afterSale.instalments.years,
                graceDays: product.afterSale.instalments.graceDays,
                policyRef: null,
                policyNo: null
              }
            : null
        }
      })
    }
    const totalFen = lines.reduce((sum, line) => sum + (line.premiumFen ?? 0), 0)
    const freshness = offlineFreshness(bundle, account.balanceAsOf, await deps.rules.confirmedAt(bundle), at)
    // While the centre answers, every sale is authorized at once: the offline limits rest.
    const offlineBlockers = deps.centreReachable()
      ? []
      : [
          ...onlineOnlyBlockers(
            bundle,
            lines.map((line) => line.productCode)
          ),
          ...offlineSaleBlockers(bundle, totalFen, await repos.sales.queued())
        ]
    const blockers = [...(freshness.reason ? [freshness.reason] : []), ...offlineBlockers]
    const applicant = applicantOf(bundle.applicant?.mobileRequired === true, order.applicantMobile)
    const ok =
      blockers.length === 0 &&
      applicant.problem === null &&
      lines.length > 0 &&
      lines.every((line) => line.eligible && line.problems.length === 0)
    return { account, bundle, lines, totalFen, maxSpendFen, blockers, applicant, ok }
  }

  /** The region's products as the rules in force state them (their cooling-off periods), by code. */
  async function productsOf(regionCode: string, at: string): Promise<Map<string, RuleProduct>> {
    const active = await deps.rules.select(regionCode, at)
    return new Map(active.ok ? active.value.bundle.products.map((p) => [p.code, p]) : [])
  }

  /** Whether a line may be cancelled now, and why not. */
  function cancellationOf(
    sale: { status: string; reversal_queued_at: string | null; created_at: string },
    line: { line_no: number; cancelled_at: string | null; policy_sale_id: string | null },
    product: RuleProduct | undefined,
    pendingLines: ReadonlySet<number>,
    at: string
  ): ReceiptView['lines'][number]['cancellation'] {
    const no = (reason: string, endsAt: string | null = null) => ({ allowed: false, endsAt, reason })
    if (line.cancelled_at !== null) return no('已退保')
    if (line.policy_sale_id !== null)
      return no('续期缴费不适用犹豫期退保：如需退保，请联系保险公司按合同办理')
    if (pendingLines.has(line.line_no)) return no('退保申请待中心受理')
    if (sale.reversal_queued_at !== null || sale.status === 'voided') return no('交易已作废')
    const terms = cancellationTerms(product, sale.created_at, at)
    if (sale.status !== 'accepted')
      return no(
        sale.status === 'rejected' ? '中心未受理此交易，未扣款' : '中心尚未受理此交易：可作废，无需退保',
        terms.endsAt
      )
    return terms.cancellable
      ? { allowed: true, endsAt: terms.endsAt, reason: null }
      : no(terms.reason, terms.endsAt)
  }

  async function receipt(saleId: string): Promise<ReceiptView> {
    const sale = await deps.sales.find(saleId)
    if (!sale) throw new AppError('SALE_NOT_FOUND', `没有这笔交易（${saleId.slice(0, 36)}）`)
    const [account, operator, lines] = await Promise.all([
      deps.accounts.findById(sale.account_id),
      deps.operators.findById(sale.operator_id),
      deps.sales.lines(saleId)
    ])
    if (!account || !operator) throw new AppError('INTERNAL', '交易记录不完整')
    const approver =
      sale.keyed_approved_by === null ? null : await deps.operators.findById(sale.keyed_approved_by)
    const mobile = await deps.sales.applicantMobile(saleId)
    const cancellations = await deps.sales.cancellationsOf(saleId)
    const pendingLines = new Set(
      cancellations
        .filter((c) => c.status === 'queued')
        .flatMap((c) => JSON.parse(c.line_nos_json) as number[])
    )
    const now = deps.clock.now().toISOString()
    const products = await productsOf(account.regionCode, now)
    const bundleName = account.regionName
    return {
      saleId: sale.id,
      createdAt: sale.created_at,
      status: sale.status,
      terminalId: sale.terminal_id,
      operator: { code: operator.code, name: operator.name },
      payer: {
        nameMasked: maskName(account.name),
        cardNumberMasked: maskCardNumber(account.cardNumber),
        idNumberMasked: maskIdNumber(account.idNumber),
        region: { code: account.regionCode, name: account.regionName }
      },
      rules: { regionName: bundleName, version: sale.rules_version },
      lines: lines.map((line) => ({
        lineNo: line.line_no,
        relation: line.insured_relation as ReceiptView['lines'][number]['relation'],
        insuredNameMasked: maskName(line.insured_name),
        insuredIdMasked: maskIdNumber(line.insured_id_number),
        productCode: line.product_code,
        productName: line.product_name,
        units: line.units,
        premiumFen: line.premium_fen,
        coverFrom: line.cover_from,
        coverTo: line.cover_to,
        policy:
          line.policy_no === null
            ? null
            : { policyNo: line.policy_no, issuedAt: line.policy_issued_at ?? sale.created_at },
        instalment:
          line.instalment_no !== null && line.instalment_years !== null
            ? { sequence: line.instalment_no, years: line.instalment_years }
            : null,
        cancelledAt: line.cancelled_at,
        cancellation: cancellationOf(sale, line, products.get(line.product_code), pendingLines, now)
      })),
      cancellations: cancellations.map((c) => ({
        id: c.id,
        lineNos: JSON.parse(c.line_nos_json) as number[],
        refundFen: c.refund_fen,
        reason: c.reason,
        requestedAt: c.requested_at,
        status: c.status,
        approvedBy: { code: c.approver_code, name: c.approver_name },
        centreResult: centreResultOf(c.settled_at, c.result_code, c.result_message)
      })),
      totalFen: sale.total_fen,
      applicantMobileMasked: mobile === null ? null : maskMobile(mobile),
      payerProof: sale.payer_proof,
      keyedApprovedBy: approver ? { code: approver.code, name: approver.name } : null,
      voided: sale.voided_at ? { at: sale.voided_at, reason: sale.void_reason ?? '' } : null,
      reversalQueuedAt: sale.reversal_queued_at,
      centreResult: centreResultOf(
        sale.settled_at,
        sale.result_code,
        sale.result_message,
        sale.centre_reference
      ),
      reversalResult: centreResultOf(
        sale.reversal_settled_at,
        sale.reversal_result_code,
        sale.reversal_result_message
      )
    }
  }

  return {
    async catalogue(accountId) {
      const at = deps.clock.now().toISOString()
      const account = await deps.accounts.findById(accountId)
      if (!account) throw new AppError('CARD_NOT_FOUND', '本机账户数据中没有这个账户：请重新刷卡')
      const { bundle } = await deps.rules.activeFor(account.regionCode, at)
      const today = shanghaiDate(new Date(at))
      const offers = await priced(
        { accountId, lines: [{ insured: { relation: 'self' }, productCode: bundle.products[0].code }] },
        at
      ).catch(() => null)
      return {
        rules: {
          regionCode: bundle.region.code,
          regionName: bundle.region.name,
          version: bundle.version,
          effectiveFrom: bundle.effectiveFrom
        },
        authorization: { ...onlineAuthorizationOf(bundle), centreReachable: deps.centreReachable() },
        maxSpendFen: offers?.maxSpendFen ?? 0,
        relations: bundle.insured.relations,
        maxPersons: bundle.insured.maxPersons?.max ?? null,
        products: bundle.products.map((product) => ({
          code: product.code,
          name: product.name,
          insurer: product.insurer,
          illustrative:
            product.illustrative === true ||
            bundle.illustrative.some((entry) =>
              entry.path.startsWith(`products[${bundle.products.indexOf(product)}]`)
            ),
          units:
            product.pricing.kind === 'perUnit'
              ? { min: product.pricing.units.min, max: product.pricing.units.max ?? null }
              : null,
          amountsFen: product.pricing.kind === 'amounts' ? product.pricing.amountsFen : null,
          terms:
            product.description ??
            `${product.name}由${product.insurer}承保，保险责任、保险金额与除外责任以保险条款为准。保费由医保个人账户支付，不能退回现金。`
        })),
        family: (await deps.accounts.boundMembers(account.id)).map((member) => ({
          memberId: member.memberId,
          relation: member.relation,
          nameMasked: maskName(member.name),
          idNumberMasked: maskIdNumber(member.idNumber),
          age: ageOn(birthDateOfId(member.idNumber), today),
          gender: genderOfId(member.idNumber)
        }))
      }
    },

    async quote(order) {
      const at = deps.clock.now().toISOString()
      const { bundle, lines, totalFen, maxSpendFen, blockers, applicant, ok } = await priced(order, at)
      return {
        blockers,
        applicant: {
          mobileRequired: applicant.mobileRequired,
          mobileMasked: applicant.mobileMasked,
          problem: applicant.problem
        },
        rules: {
          regionCode: bundle.region.code,
          regionName: bundle.region.name,
          version: bundle.version,
          effectiveFrom: bundle.effectiveFrom
        },
        lines: lines.map(({ kept, ...view }) => view),
        totalFen,
        maxSpendFen,
        ok
      }
    },

    async begin(caller, accountId) {
      await deps.auth.requireShift(caller)
      const account = await deps.accounts.findById(accountId)
      if (!account) throw new AppError('CARD_NOT_FOUND', '本机账户数据中没有这个账户：请重新刷卡')
      const now = deps.clock.now().getTime()
      for (const [id, issued] of paymentsBegun)
        if (now - issued.at > PAYMENT_WINDOW_MS) paymentsBegun.delete(id)
      const saleId = newId(deps.clock)
      paymentsBegun.set(saleId, { accountId, operatorId: caller.operatorId, at: now })
      return {
        saleId,
        pinKey: await deps.pinKey(),
        online: deps.centreReachable(),
        registered: await deps.registered()
      }
    },

    async commit(caller, request) {
      const shift = await deps.auth.requireShift(caller)
      const { saleId, payment } = request
      // Sent again after the answer was lost: the sale exists, and the customer paid once.
      const existing = await deps.sales.find(saleId)
      if (existing) {
        if (existing.account_id !== request.order.accountId || existing.operator_id !== caller.operatorId)
          throw new AppError('PAYMENT_REFUSED', '交易号已被另一笔交易使用：请返回重新付款，本次未扣款')
        return receipt(saleId)
      }
      const begun = paymentsBegun.get(saleId)
      if (
        !begun ||
        begun.accountId !== request.order.accountId ||
        begun.operatorId !== caller.operatorId ||
        deps.clock.now().getTime() - begun.at > PAYMENT_WINDOW_MS
      )
        throw new AppError(
          'PAYMENT_EXPIRED',
          '付款已超时或本机已重启：请持卡人重新刷卡并输入密码，本次未扣款'
        )
      const at = deps.clock.now().toISOString()
      const account = await deps.accounts.findById(request.order.accountId)
      if (!account) throw new AppError('CARD_NOT_FOUND', '本机账户数据中没有这个账户：请重新刷卡')
      const proof = await verifiedProof(caller, account, payment, at)
      // Loaded before the write transaction: inside it only its own connection may be used.
      await deps.rules.activeFor(account.regionCode, at)

      const committed = await deps.writeTransaction(async (repos) => {
        // The same payment sent twice at once: the second finds the first's sale here, in order.
        const written = await repos.sales.find(saleId)
        if (written) {
          if (written.account_id !== account.id || written.operator_id !== caller.operatorId)
            throw new AppError('PAYMENT_REFUSED', '交易号已被另一笔交易使用：请返回重新付款，本次未扣款')
          return null
        }
        const { bundle, lines, totalFen, blockers, applicant, ok } = await priced(request.order, at, repos)
        if (!ok) {
          const problems = [
            ...blockers,
            ...(applicant.problem ? [applicant.problem] : []),
            ...lines.flatMap((line) => line.problems.map((p) => `第 ${line.lineNo} 位：${p}`))
          ]
          throw new AppError('SALE_REFUSED', `不能办理：${problems.join('；') || '没有可办理的项目'}`)
        }
        // What the customer must hear before paying (more units of a product they already hold).
        const warnings = lines.flatMap((line) => line.warnings.map((w) => `第 ${line.lineNo} 位：${w}`))
        if (warnings.length > 0 && request.warningsAcknowledged !== true)
          throw new AppError('SALE_REFUSED', `请先向客户说明并确认：${warnings.join('；')}`)
        const storedLines = lines.map((line) => ({
          lineNo: line.lineNo,
          relation: line.relation,
          insuredIdNumber: line.kept.insuredId,
          insuredName: line.kept.insuredName,
          productCode: line.productCode,
          productName: line.productName,
          units: line.kept.units,
          premiumFen: line.premiumFen ?? 0,
          coverFrom: line.cover.from,
          coverTo: line.cover.to,
          proofSeen: line.kept.proofSeen,
          decisionJson: JSON.stringify({ checks: line.checks, allowed: line.allowed }),
          instalment: line.kept.instalment
        }))
        // What the centre settles: the lines as stored, less what only this terminal keeps.
        const payload: SaleItem = {
          type: 'sale',
          saleId,
          terminalId: deps.terminalId,
          operatorCode: caller.operatorCode,
          createdAt: at,
          payer: {
            cardNumber: account.cardNumber,
            idNumber: account.idNumber,
            regionCode: account.regionCode
          },
          rules: { regionCode: bundle.region.code, version: bundle.version },
          totalFen,
          lines: storedLines.map(({ productName, proofSeen, decisionJson, instalment, ...sent }) =>
            instalment?.policyRef
              ? { ...sent, instalment: { ...instalment.policyRef, sequence: instalment.no } }
              : sent
          ),
          payment: proof.item,
          ...(applicant.mobile ? { applicant: { mobile: applicant.mobile } } : {})
        }
        await repos.sales.insert({
          id: saleId,
          terminalId: deps.terminalId,
          shiftId: shift.id,
          operatorId: caller.operatorId,
          accountId: account.id,
          regionCode: account.regionCode,
          rulesVersion: bundle.version,
          totalFen,
          createdAt: at,
          termsAcknowledgedAt: at,
          signatureSvg: signatureSvg(request.signature),
          payerProof: proof.kind,
          keyedApprovedBy: proof.approvedBy,
          applicantMobile: applicant.mobile,
          lines: storedLines,
          outbox: { id: newId(deps.clock), payloadJson: JSON.stringify(payload) }
        })
        return saleId
      })
      if (committed === null) return receipt(saleId)
      paymentsBegun.delete(saleId)
      // The centre's answer while the customer waits, when it can be had; otherwise 待上传 as before.
      await deps.authorize(committed)
      const answered = await receipt(committed)
      if (answered.status === 'rejected')
        await deps.sales.refusedAtCounter(committed, {
          at: deps.clock.now().toISOString(),
          operatorId: caller.operatorId
        })
      return answered
    },

    receipt,

    async search(caller, filter) {
      const query = filter.query?.trim() ?? ''
      let saleId: string | undefined
      let accountId: number | undefined
      if (/^[0-9a-f]{8}-/i.test(query)) saleId = query.toLowerCase()
      else if (query) {
        try {
          accountId = (await findAccountByCard(deps.accounts, query, shanghaiDate(deps.clock.now()))).account
            .id
        } catch (error) {
          // A card this terminal does not know has no sales here.
          if (error instanceof AppError && error.code === 'CARD_NOT_FOUND') return []
          throw error
        }
      }
      let fromUtc: string | undefined
      let toUtc: string | undefined
      if (filter.date) {
        // A day in Beijing time: 00:00+08:00 to the next 00:00+08:00.
        fromUtc = new Date(`${filter.date}T00:00:00+08:00`).toISOString()
        toUtc = new Date(Date.parse(fromUtc) + 86_400_000).toISOString()
      }
      const shiftId = filter.scope === 'shift' ? (await deps.auth.requireShift(caller)).id : undefined
      const rows = await deps.sales.search({
        saleId,
        accountId,
        shiftId,
        fromUtc,
        toUtc,
        status: filter.status
      })
      const summaries: SaleSummary[] = []
      for (const row of rows) {
        const account = await deps.accounts.findById(row.account_id)
        summaries.push({
          saleId: row.id,
          createdAt: row.created_at,
          status: row.status,
          ...maskedPayer(account),
          totalFen: row.total_fen,
          lineCount: row.line_count,
          operatorCode: row.operator_code,
          reversalQueued: row.reversal_queued_at !== null,
          centreResult: centreResultOf(row.settled_at, row.result_code, row.result_message)
        })
      }
      return summaries
    },

    async cancel(caller, request) {
      const sale = await deps.sales.find(request.saleId)
      if (!sale) throw new AppError('SALE_NOT_FOUND', '没有这笔交易')
      const before = await receipt(sale.id)
      const lineNos = [...new Set(request.lineNos)].sort((a, b) => a - b)
      const lines = lineNos.map((no) => before.lines.find((line) => line.lineNo === no))
      const missing = lineNos.filter((_, i) => lines[i] === undefined)
      if (missing.length > 0)
        throw new AppError('INVALID_ARGUMENT', `这笔交易没有第 ${missing.join('、')} 项`)
      for (const line of lines)
        if (line && !line.cancellation.allowed)
          throw new AppError(
            'CANCEL_REFUSED',
            `第 ${line.lineNo} 项不能退保：${line.cancellation.reason ?? ''}`
          )
      const account = await deps.accounts.findById(sale.account_id)
      if (!account) throw new AppError('CARD_NOT_FOUND', '本机账户数据中没有原交易的账户')
      const at = deps.clock.now().toISOString()
      // The policy is the payer's: their card again, as at payment.
      if (!paysWithSameCard(account, request.card, shanghaiDate(new Date(at))))
        throw new AppError('PAYMENT_CARD_MISMATCH', '刷的卡不是原交易付款人的社会保障卡：请由付款人本人刷卡')
      const supervisor = await deps.auth.approveBySupervisor(request.supervisorCode, request.supervisorPin)
      if (supervisor.id === caller.operatorId)
        throw new AppError('FORBIDDEN', '退保须由另一名主管批准：申请人不能批准自己的退保')
      const refundFen = lines.reduce((sum, line) => sum + (line?.premiumFen ?? 0), 0)
      const id = newId(deps.clock)
      const item: CancellationItem = {
        type: 'cancellation',
        cancellationId: id,
        saleId: sale.id,
        lineNos,
        terminalId: deps.terminalId,
        operatorCode: caller.operatorCode,
        approvedBy: supervisor.code,
        payerCardNumber: account.cardNumber,
        at,
        reason: request.reason,
        refundFen
      }
      const queued = await deps.sales.queueCancellation({
        id,
        saleId: sale.id,
        lineNos,
        refundFen,
        reason: request.reason,
        at,
        operatorId: caller.operatorId,
        approvedBy: supervisor.id,
        approverCode: supervisor.code,
        outboxId: newId(deps.clock),
        payloadJson: JSON.stringify(item)
      })
      if (!queued)
        throw new AppError('CANCEL_REFUSED', '交易状态已变化（已退保、正在退保或已作废），请刷新后再试')
      // To the centre now when it answers; otherwise it waits in the queue like a sale.
      await deps.uploadSoon()
      return receipt(sale.id)
    },

    async void(caller, request) {
      const sale = await deps.sales.find(request.saleId)
      if (!sale) throw new AppError('SALE_NOT_FOUND', '没有这笔交易')
      const supervisor = await deps.auth.approveBySupervisor(request.supervisorCode, request.supervisorPin)
      // Four eyes: whoever asks for the void cannot also approve it.
      if (supervisor.id === caller.operatorId)
        throw new AppError('FORBIDDEN', '作废须由另一名主管批准：申请人不能批准自己的作废')
      const at = deps.clock.now().toISOString()
      const change = {
        at,
        reason: request.reason,
        voidedBy: caller.operatorId,
        approvedBy: supervisor.id,
        approverCode: supervisor.code
      }
      if (sale.status === 'queued') {
        // Not yet uploaded: voided here, and the reservation against the account given back.
        if (
          !(await deps.sales.voidQueued(sale.id, {
            ...change,
            accountId: sale.account_id,
            totalFen: sale.total_fen
          }))
        ) {
          throw new AppError('VOID_REFUSED', '交易状态已变化，请刷新后再试')
        }
      } else if (sale.status === 'uploaded' || sale.status === 'accepted') {
        // The centre has it: the original stays, a reversal is queued for the centre to settle.
        const payload = JSON.stringify({
          type: 'reversal',
          saleId: sale.id,
          terminalId: deps.terminalId,
          operatorCode: caller.operatorCode,
          at,
          reason: request.reason,
          totalFen: sale.total_fen
        })
        if (
          !(await deps.sales.queueReversal(sale.id, {
            ...change,
            outboxId: newId(deps.clock),
            payloadJson: payload
          }))
        ) {
          throw new AppError('VOID_REFUSED', '此交易已申请冲正')
        }
      } else if (sale.status === 'rejected') {
        throw new AppError('VOID_REFUSED', '中心已拒绝此交易，未扣款，无需作废')
      } else if ((await deps.sales.cancellationsOf(sale.id)).some((c) => c.status !== 'rejected')) {
        throw new AppError('VOID_REFUSED', '此交易已有保单退保或正在退保，不能再整笔作废')
      } else {
        throw new AppError('VOID_REFUSED', `此交易已作废，${formatYuan(sale.total_fen)} 元已退回额度`)
      }
      return receipt(sale.id)
    }
  }
}
