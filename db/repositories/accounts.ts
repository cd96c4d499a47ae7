import type { Knex } from 'knex'
import type { EnrolmentStatus, InsuranceType } from '../../core/cardholder'
import type { Fen } from '../../core/money'

/** One account of the local snapshot, as the services see it. */
export interface AccountRecord {
  readonly id: number
  readonly cardNumber: string
  readonly idNumber: string
  readonly name: string
  readonly regionCode: string
  readonly regionName: string
  readonly insuranceType: InsuranceType
  readonly status: EnrolmentStatus
  readonly balanceFen: Fen
  readonly historicalBalanceFen: Fen
  readonly balanceAsOf: string
  readonly boundFamilyMemberCount: number
}

interface AccountRow {
  id: number
  card_number: string
  id_number: string
  name: string
  region_code: string
  region_name: string
  insurance_type: InsuranceType
  status: EnrolmentStatus
  balance_fen: number
  historical_balance_fen: number
  balance_as_of: string
  bound_family_member_count: number
}

function toRecord(row: AccountRow): AccountRecord {
  return {
    id: row.id,
    cardNumber: row.card_number,
    idNumber: row.id_number,
    name: row.name,
    regionCode: row.region_code,
    regionName: row.region_name,
    insuranceType: row.insurance_type,
    status: row.status,
    balanceFen: row.balance_fen,
    historicalBalanceFen: row.historical_balance_fen,
    balanceAsOf: row.balance_as_of,
    boundFamilyMemberCount: row.bound_family_member_count,
  }
}

export interface AccountsRepository {
  findByCardNumber(cardNumber: string): Promise<AccountRecord | null>
  findByIdNumber(idNumber: string): Promise<AccountRecord | null>
}

export function createAccountsRepository(db: Knex): AccountsRepository {
  const selectAccount = () =>
    db('accounts as a')
      .join('regions as r', 'r.code', 'a.region_code')
      .select<AccountRow[]>(
        'a.id',
        'a.card_number',
        'a.id_number',
        'a.name',
        'a.region_code',
        'r.name as region_name',
        'a.insurance_type',
        'a.status',
        'a.balance_fen',
        'a.historical_balance_fen',
        'a.balance_as_of',
        db.raw('(select count(*) from family_members f where f.account_id = a.id) as bound_family_member_count'),
      )

  return {
    async findByCardNumber(cardNumber) {
      const row = await selectAccount().where('a.card_number', cardNumber).first()
      return row ? toRecord(row) : null
    },
    async findByIdNumber(idNumber) {
      const row = await selectAccount().where('a.id_number', idNumber).first()
      return row ? toRecord(row) : null
    },
  }
}
