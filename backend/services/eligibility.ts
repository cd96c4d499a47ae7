import { illustratedProducts, type BenefitProductsView } from '../../core/benefits'
import { spendingEntries } from '../../core/spending'
import type { DecisionView, EligibilityView, RulesRef } from '../../core/eligibility'
import { AppError } from '../../core/errors'
import { ageOn, birthDateOfId, genderOfId, parseResidentId } from '../../core/identifiers'
import { maskCardNumber, maskIdNumber, maskName } from '../../core/masking'
import type { RuleBundle } from '../../core/rules/bundle'
import type { InsuredRelation } from '../../core/rules/bundle'
import { decide, listProductsForSelf, type InsuredEntry, type SpendingEntry } from '../../core/rules/engine'
import { shanghaiDate, type Clock } from '../../core/time'
import type { AccountRecord, AccountsRepository } from '../../db/repositories/accounts'
import type { SalesRepository } from '../../db/repositories/sales'
import { offlineFreshness, onlineAuthorizationOf } from '../../core/rules/freshness'
import { inSettlementYear, settlementYearOf } from '../../core/rules/settlement-year'
import { findAccountByCard } from './cardholder'
import { payerOf, type ActiveRules } from './rule-store'

export interface CheckRequest {
  readonly payer: { readonly accountId: number } | { readonly card: string }
  readonly insured: {
    readonly relation: InsuredRelation
    readonly idNumber?: string
    /** Enrolled in basic insurance in the region; absent: as the local snapshot shows. */
    readonly enrolledLocally?: boolean
    /** Already holds this product for the cover period; absent: not as far as this terminal knows. */
    readonly alreadyCovered?: boolean
  }
  readonly productCode: string
  readonly units?: number
  readonly amountFen?: number
  /** Decide as at this instant (UTC ISO); absent: now. */
  readonly at?: string
}

export interface ImportedBundle {
  readonly regionCode: string
  readonly regionName: string
  readonly version: number
  readonly status: 'new' | 'unchanged'
}

export interface EligibilityService {
  /** `at`: decide as of another moment (the CLI's --at); the terminal's clock otherwise. */
  offers(accountId: number, at?: string): Promise<EligibilityView>
  check(request: CheckRequest): Promise<DecisionView>
  importBundle(envelopeText: string): Promise<ImportedBundle>
  /** The products of the rules in force, in every region held, that an agent can illustrate. */
  benefitProducts(): Promise<BenefitProductsView>
}

export interface EligibilityDeps {
  readonly accounts: AccountsRepository
  readonly rules: ActiveRules
  readonly sales: SalesRepository
  readonly clock: Clock
  /** The centre answered recently: sales are authorized online, and online-only products may be sold. */
  readonly centreReachable: () => boolean
  /** The regions this terminal holds rules for. */
  readonly heldRegions: () => Promise<readonly string[]>
}

function rulesRef(bundle: RuleBundle): RulesRef {
  return {
    regionCode: bundle.region.code,
    regionName: bundle.region.name,
    version: bundle.version,
    effectiveFrom: bundle.effectiveFrom
  }
}

/**
 * Eligibility, decided offline: the signed bundle in force for the payer's region, the account
 * snapshot, and what this terminal itself has already sold. Bundles are verified (signature,
 * schema) when loaded from the database, so an edited row is refused, not used.
 */
export function createEligibilityService(deps: EligibilityDeps): EligibilityService {
  /** What this terminal has already sold to the account: it counts against caps and person limits. */
  async function soldHere(
    account: AccountRecord
  ): Promise<{ spending: SpendingEntry[]; insuredByPayer: InsuredEntry[] }> {
    const spending = spendingEntries(account, await deps.sales.spendingOf(account.id))
    return { spending, insuredByPayer: await deps.sales.insuredBy(account.id) }
  }

  async function payerAccount(payer: CheckRequest['payer'], today: string): Promise<AccountRecord> {
    if ('accountId' in payer) {
      const account = await deps.accounts.findById(payer.accountId)
      if (!account) throw new AppError('CARD_NOT_FOUND', '本机账户数据中没有这个账户：请重新刷卡')
      return account
    }
    return (await findAccountByCard(deps.accounts, payer.card, today)).account
  }

  return {
    async offers(accountId, requestedAt) {
      const at = requestedAt ? new Date(requestedAt).toISOString() : deps.clock.now().toISOString()
      const account = await deps.accounts.findById(accountId)
      if (!account) throw new AppError('CARD_NOT_FOUND', '本机账户数据中没有这个账户：请重新刷卡')
      const active = await deps.rules.select(account.regionCode, at)
      if (!active.ok)
        return {
          rules: null,
          unavailableReason: active.message,
          maxSpendFen: 0,
          soldHereThisYearFen: 0,
          freshness: null,
          authorization: null,
          offers: []
        }
      const { bundle } = active.value
      const covered: string[] = []
      for (const product of bundle.products)
        if (await deps.sales.holds(account.idNumber, product.code, at)) covered.push(product.code)
      const offers = listProductsForSelf({
        bundle,
        account: payerOf(account, bundle, at),
        ...(await soldHere(account)),
        coveredProductCodes: covered,
        at
      })
      const first = offers[0]
      // The engine leaves nothing to spend when a rule about the account fails.
      const maxSpendFen = first ? first.allowed.maxSpendFen : 0
      const year = settlementYearOf(at, bundle.settlementYear.startMonthDay)
      const soldHereThisYearFen = (await deps.sales.spendingOf(account.id))
        .filter((entry) => inSettlementYear(entry.at, year))
        .reduce((sum, entry) => sum + entry.amountFen, 0)
      const freshness = offlineFreshness(
        bundle,
        account.balanceAsOf,
        await deps.rules.confirmedAt(bundle),
        at
      )
      return {
        rules: rulesRef(bundle),
        unavailableReason: null,
        maxSpendFen,
        soldHereThisYearFen,
        freshness,
        authorization: { ...onlineAuthorizationOf(bundle), centreReachable: deps.centreReachable() },
        offers
      }
    },

    async check(request) {
      const at = request.at ? new Date(request.at).toISOString() : deps.clock.now().toISOString()
      const today = shanghaiDate(new Date(at))
      const account = await payerAccount(request.payer, today)
      const { bundle } = await deps.rules.activeFor(account.regionCode, at)
      if (!bundle.products.some((product) => product.code === request.productCode)) {
        throw new AppError('INVALID_ARGUMENT', `${bundle.region.name}规则包中没有产品 ${request.productCode}`)
      }

      let insuredId = account.idNumber
      if (request.insured.relation !== 'self') {
        const parsed = parseResidentId(request.insured.idNumber ?? '', today)
        if (!parsed.ok) throw new AppError('CARD_MALFORMED', `被保险人${parsed.reason}`)
        insuredId = parsed.value.idNumber
      }
      const bound =
        request.insured.relation === 'self' ||
        (await deps.accounts.boundMembers(account.id)).some((m) => m.idNumber === insuredId)
      const insuredAccount =
        request.insured.relation === 'self' ? account : await deps.accounts.findByIdNumber(insuredId)
      const enrolledLocally =
        request.insured.enrolledLocally ??
        (insuredAccount !== null &&
          insuredAccount.regionCode === account.regionCode &&
          insuredAccount.status === 'active')

      const decision = decide({
        bundle,
        account: payerOf(account, bundle, at),
        ...(await soldHere(account)),
        insured: {
          relation: request.insured.relation,
          idNumber: insuredId,
          boundToAccount: bound,
          enrolledLocally,
          alreadyCoveredByProduct:
            request.insured.alreadyCovered ?? (await deps.sales.holds(insuredId, request.productCode, at))
        },
        productCode: request.productCode,
        units: request.units,
        amountFen: request.amountFen,
        at
      })
      const product = bundle.products.find((p) => p.code === request.productCode)
      return {
        rules: rulesRef(bundle),
        payer: {
          nameMasked: maskName(account.name),
          cardNumberMasked: maskCardNumber(account.cardNumber),
          region: { code: account.regionCode, name: account.regionName }
        },
        insured: {
          relation: request.insured.relation,
          idNumberMasked: maskIdNumber(insuredId),
          age: ageOn(birthDateOfId(insuredId), today),
          gender: genderOfId(insuredId),
          boundToAccount: bound,
          enrolledLocally
        },
        product: { code: request.productCode, name: product?.name ?? request.productCode },
        at,
        eligible: decision.eligible,
        checks: decision.checks,
        allowed: decision.allowed
      }
    },

    async benefitProducts() {
      const at = deps.clock.now().toISOString()
      const products = []
      for (const regionCode of await deps.heldRegions()) {
        const held = await deps.rules.select(regionCode, at)
        if (held.ok) products.push(...illustratedProducts(held.value.bundle))
      }
      return { products }
    },

    async importBundle(envelopeText) {
      const { bundle, status } = await deps.rules.import(envelopeText)
      return {
        regionCode: bundle.region.code,
        regionName: bundle.region.name,
        version: bundle.version,
        status
      }
    }
  }
}
