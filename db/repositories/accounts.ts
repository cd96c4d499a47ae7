import type { Knex } from 'knex'
import type { EnrolmentStatus, InsuranceType, Relation } from '../../core/cardholder'
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
  /** This settlement year's fitness-card transfers as of `balanceAsOf` (Suzhou). */
  readonly fitnessCardTransfersFen: Fen
  readonly boundFamilyMemberCount: number
}

/** A family member bound to an account (家庭共济 / 亲情账户). */
export interface BoundMember {
  readonly memberId: number
  readonly idNumber: string
  readonly name: string
  readonly relation: Relation
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
  fitness_card_transfers_fen: number
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
    fitnessCardTransfersFen: row.fitness_card_transfers_fen,
    boundFamilyMemberCount: row.bound_family_member_count,
  }
}

export interface AccountsRepository {
  findByCardNumber(cardNumber: string): Promise<AccountRecord | null>
  findByIdNumber(idNumber: string): Promise<AccountRecord | null>
  findById(id: number): Promise<AccountRecord | null>
  boundMembers(accountId: number): Promise<BoundMember[]>
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
        'a.fitness_card_transfers_fen',
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
    async findById(id) {
      const row = await selectAccount().where('a.id', id).first()
      return row ? toRecord(row) : null
    },
    async boundMembers(accountId) {
      const rows = await db('family_members')
        .where({ account_id: accountId })
        .orderBy('id')
        .select<Array<{ id: number; id_number: string; name: string; relation: Relation }>>('id', 'id_number', 'name', 'relation')
      return rows.map((row) => ({ memberId: row.id, idNumber: row.id_number, name: row.name, relation: row.relation }))
    },
  }
}
