import { cancellationTerms, instalmentPayable, instalmentStatus } from '../../core/after-sale'
import { RELATIONS, type CardholderView, type HoldingView, type InstalmentView } from '../../core/cardholder'
import type { RuleProduct } from '../../core/rules/bundle'
import { AppError } from '../../core/errors'
import { ageOn, birthDateOfId, genderOfId, parseCardInput } from '../../core/identifiers'
import { maskCardNumber, maskIdNumber, maskName } from '../../core/masking'
import { shanghaiDate, type Clock } from '../../core/time'
import type { AccountRecord, AccountsRepository, HeldCover } from '../../db/repositories/accounts'

export interface CardholderService {
  /** Finds the cardholder for what was swiped or typed; throws CARD_MALFORMED or CARD_NOT_FOUND. */
  lookup(input: string): Promise<CardholderView>
}

function toView(
  account: AccountRecord,
  identifiedBy: CardholderView['identifiedBy'],
  today: string,
  holdings: readonly HoldingView[]
): CardholderView {
  return {
    accountId: account.id,
    identifiedBy,
    cardNumberMasked: maskCardNumber(account.cardNumber),
    nameMasked: maskName(account.name),
    idNumberMasked: maskIdNumber(account.idNumber),
    gender: genderOfId(account.idNumber),
    age: ageOn(birthDateOfId(account.idNumber), today),
    region: { code: account.regionCode, name: account.regionName },
    insuranceType: account.insuranceType,
    status: account.status,
    balanceFen: account.balanceFen,
    historicalBalanceFen: account.historicalBalanceFen,
    balanceAsOf: account.balanceAsOf,
    boundFamilyMemberCount: account.boundFamilyMemberCount,
    holdings
  }
}

/** The covers as the panel lists them: masked, named from the rules where the centre gave only a code; instalments to pay first. */
function holdingViews(
  covers: readonly HeldCover[],
  products: ReadonlyMap<string, RuleProduct>,
  at: string
): HoldingView[] {
  return covers
    .map((cover) => ({
      relation: cover.person?.relation ?? null,
      insuredNameMasked: cover.person ? maskName(cover.person.name) : null,
      productCode: cover.productCode,
      productName: cover.productName ?? products.get(cover.productCode)?.name ?? cover.productCode,
      coverFrom: cover.coverFrom,
      coverTo: cover.coverTo,
      policyNo: cover.policyNo,
      units: cover.units,
      instalment: instalmentOf(cover, products.get(cover.productCode), at),
      source: cover.source.kind,
      sale:
        cover.source.kind === 'terminal'
          ? {
              saleId: cover.source.saleId,
              status: cover.source.status,
              cancellableUntil: cancellableUntil(cover.source, products.get(cover.productCode), at)
            }
          : null
    }))
    .sort(
      (a, b) =>
        Number(payableFirst(b)) - Number(payableFirst(a)) ||
        rank(a.relation) - rank(b.relation) ||
        a.coverFrom.localeCompare(b.coverFrom)
    )
}

/** An accepted new policy sold here, within its cooling-off period: 退保 is offered from the panel. */
function cancellableUntil(
  source: { status: string; soldAt: string; instalment: boolean },
  product: RuleProduct | undefined,
  at: string
): string | null {
  if (source.status !== 'accepted' || source.instalment) return null
  const terms = cancellationTerms(product, source.soldAt, at)
  return terms.cancellable ? terms.endsAt : null
}

const payableFirst = (view: HoldingView) =>
  view.instalment !== null && instalmentPayable(view.instalment.status)

/** The next instalment of a policy paid yearly, as the rules in force price and time it. */
function instalmentOf(cover: HeldCover, product: RuleProduct | undefined, at: string): InstalmentView | null {
  const plan = cover.instalments
  if (!plan || plan.nextDueAt === null || plan.graceEndsAt === null || !cover.policyRef) return null
  const terms = product?.afterSale?.instalments
  const status = instalmentStatus(plan, { payableDaysBefore: terms?.payableDaysBefore ?? 0 }, at)
  if (status === 'paidUp') return null
  return {
    policyRef: cover.policyRef,
    sequence: plan.paid + 1,
    years: plan.years,
    dueAt: plan.nextDueAt,
    graceEndsAt: plan.graceEndsAt,
    status,
    amountFen: terms && cover.units !== null ? terms.amountPerUnitFen * cover.units : null
  }
}

/** The holder first, then the family in the usual order, then people the terminal cannot name. */
function rank(relation: HoldingView['relation']): number {
  if (relation === 'self') return 0
  return relation === null ? RELATIONS.length + 1 : RELATIONS.indexOf(relation) + 1
}

/**
 * The account behind what was swiped or typed, from the local snapshot. Refused in Chinese when the
 * input is malformed, an e-voucher (only the centre resolves those), or not in the snapshot.
 */
/** The payer as lists show them (history, rejections): masked, or a dash when the account is gone. */
export function maskedPayer(account: Pick<AccountRecord, 'name' | 'cardNumber'> | null): {
  payerNameMasked: string
  payerCardMasked: string
} {
  return account
    ? { payerNameMasked: maskName(account.name), payerCardMasked: maskCardNumber(account.cardNumber) }
    : { payerNameMasked: '—', payerCardMasked: '—' }
}

export async function findAccountByCard(
  accounts: AccountsRepository,
  input: string,
  today: string
): Promise<{ account: AccountRecord; identifiedBy: CardholderView['identifiedBy'] }> {
  const parsed = parseCardInput(input, today)
  if (!parsed.ok) throw new AppError('CARD_MALFORMED', parsed.reason)
  const identifier = parsed.value
  if (identifier.kind === 'e-voucher') {
    // An e-voucher is a token only the centre can resolve; the snapshot holds none.
    throw new AppError(
      'E_VOUCHER_OFFLINE',
      '医保电子凭证须由中心在线核验，本终端不能离线核验：请刷社会保障卡或输入身份证号'
    )
  }
  const account =
    identifier.kind === 'social-security-card'
      ? await accounts.findByCardNumber(identifier.cardNumber)
      : await accounts.findByIdNumber(identifier.idNumber)
  if (!account) {
    const what = identifier.kind === 'social-security-card' ? '这张社会保障卡' : '这个身份证号'
    throw new AppError('CARD_NOT_FOUND', `本机账户数据中没有${what}的参保人：请核对号码，或同步数据后再试`)
  }
  return { account, identifiedBy: identifier.kind }
}

export function createCardholderService(deps: {
  accounts: AccountsRepository
  clock: Clock
  /** A region's products (by code), from the rules in force: their names and instalment terms. */
  products: (regionCode: string, at: string) => Promise<ReadonlyMap<string, RuleProduct>>
}): CardholderService {
  return {
    async lookup(input) {
      const now = deps.clock.now()
      const today = shanghaiDate(now)
      const { account, identifiedBy } = await findAccountByCard(deps.accounts, input, today)
      const at = now.toISOString()
      const [covers, products] = await Promise.all([
        deps.accounts.coversOf(account.id, at),
        deps.products(account.regionCode, at)
      ])
      return toView(account, identifiedBy, today, holdingViews(covers, products, at))
    }
  }
}
