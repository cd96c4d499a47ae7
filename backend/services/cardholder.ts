import type { CardholderView } from '../../core/cardholder'
import { AppError } from '../../core/errors'
import { ageOn, birthDateOfId, genderOfId, parseCardInput } from '../../core/identifiers'
import { maskCardNumber, maskIdNumber, maskName } from '../../core/masking'
import { shanghaiDate, type Clock } from '../../core/time'
import type { AccountRecord, AccountsRepository } from '../../db/repositories/accounts'

export interface CardholderService {
  /** Finds the cardholder for what was swiped or typed; throws CARD_MALFORMED or CARD_NOT_FOUND. */
  lookup(input: string): Promise<CardholderView>
}

function toView(
  account: AccountRecord,
  identifiedBy: CardholderView['identifiedBy'],
  today: string
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
    boundFamilyMemberCount: account.boundFamilyMemberCount
  }
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
}): CardholderService {
  return {
    async lookup(input) {
      const today = shanghaiDate(deps.clock.now())
      const { account, identifiedBy } = await findAccountByCard(deps.accounts, input, today)
      return toView(account, identifiedBy, today)
    }
  }
}
