import type { Knex } from 'knex'
import type { EnrolmentStatus, InsuranceType, Relation } from '../../core/cardholder'
import type { Fen } from '../../core/money'
import type { PersonalDataCipher } from '../personal-data'
import { openAccount, openPerson } from '../sealed-records'

/** One account of the local snapshot, as the services see it (personal data unsealed). */
export interface AccountRecord {
  readonly id: number
  /** The centre's permanent account number (个人编号). */
  readonly accountNo: string
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
  /** Spent on commercial insurance this settlement year, all channels, as the centre knew at `balanceAsOf`. */
  readonly spentThisSettlementYearFen: Fen
  /** This settlement year's fitness-card transfers as of `balanceAsOf` (Suzhou). */
  readonly fitnessCardTransfersFen: Fen
  readonly boundFamilyMemberCount: number
  /** When the account left the snapshot (kept for its sales), or null while it is in it. */
  readonly removedAt: string | null
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
  account_no: string
  pii: Buffer
  region_code: string
  region_name: string
  insurance_type: InsuranceType
  status: EnrolmentStatus
  balance_fen: number
  historical_balance_fen: number
  balance_as_of: string
  spent_this_year_fen: number
  fitness_card_transfers_fen: number
  bound_family_member_count: number
  removed_at: string | null
}

export interface AccountsRepository {
  /** An account in the snapshot by its card number; a removed account is not found. */
  findByCardNumber(cardNumber: string): Promise<AccountRecord | null>
  /** An account in the snapshot by its holder's ID number; a removed account is not found. */
  findByIdNumber(idNumber: string): Promise<AccountRecord | null>
  /** Any account, removed ones included (a receipt still names its payer). */
  findById(id: number): Promise<AccountRecord | null>
  boundMembers(accountId: number): Promise<BoundMember[]>
  /** Whether the centre's snapshot says the person holds the product for a cover period not over at `at`. */
  holdsPerSnapshot(idNumber: string, productCode: string, at: string): Promise<boolean>
}

/**
 * The snapshot's holdings of the person (by ID hash) for the product, cover not over at `at`;
 * accounts that left the snapshot no longer speak for anyone. Shared with the sales repository.
 */
export function snapshotHoldingQuery(
  db: Knex,
  idHash: Buffer,
  productCode: string,
  at: string
): Knex.QueryBuilder {
  return db('holdings as h')
    .join('accounts as a', 'a.id', 'h.account_id')
    .where({ 'h.id_hash': idHash, 'h.product_code': productCode })
    .whereNull('a.removed_at')
    .where('h.cover_to', '>', at)
}

export function createAccountsRepository(db: Knex, cipher: PersonalDataCipher): AccountsRepository {
  const selectAccount = () =>
    db('accounts as a').join('regions as r', 'r.code', 'a.region_code').select<AccountRow[]>(
      'a.id',
      'a.account_no',
      'a.pii',
      'a.region_code',
      'r.name as region_name',
      'a.insurance_type',
      'a.status',
      'a.balance_fen',
      'a.historical_balance_fen',
      // A delta lists only what changed: every other account is confirmed unchanged as of the
      // newest snapshot's time, so its balances are that recent too.
      db.raw(
        `max(a.balance_as_of, coalesce((select s.balances_as_of from snapshot_state s where s.balances_as_of is not null), a.balance_as_of)) as balance_as_of`
      ),
      'a.spent_this_year_fen',
      'a.fitness_card_transfers_fen',
      'a.removed_at',
      db.raw('(select count(*) from family_members f where f.account_id = a.id) as bound_family_member_count')
    )

  function toRecord(row: AccountRow): AccountRecord {
    const pii = openAccount(cipher, row.pii)
    return {
      id: row.id,
      accountNo: row.account_no,
      cardNumber: pii.cardNumber,
      idNumber: pii.idNumber,
      name: pii.name,
      regionCode: row.region_code,
      regionName: row.region_name,
      insuranceType: row.insurance_type,
      status: row.status,
      balanceFen: row.balance_fen,
      historicalBalanceFen: row.historical_balance_fen,
      balanceAsOf: row.balance_as_of,
      spentThisSettlementYearFen: row.spent_this_year_fen,
      fitnessCardTransfersFen: row.fitness_card_transfers_fen,
      boundFamilyMemberCount: row.bound_family_member_count,
      removedAt: row.removed_at
    }
  }

  return {
    async findByCardNumber(cardNumber) {
      // `removed_at is null` also lets SQLite use the partial unique index on card_hash.
      const row = await selectAccount()
        .where('a.card_hash', cipher.lookupHash(cardNumber))
        .whereNull('a.removed_at')
        .first()
      return row ? toRecord(row) : null
    },
    async findByIdNumber(idNumber) {
      const row = await selectAccount()
        .where('a.id_hash', cipher.lookupHash(idNumber))
        .whereNull('a.removed_at')
        .first()
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
        .select<Array<{ id: number; pii: Buffer; relation: Relation }>>('id', 'pii', 'relation')
      return rows.map((row) => ({ memberId: row.id, ...openPerson(cipher, row.pii), relation: row.relation }))
    },
    async holdsPerSnapshot(idNumber, productCode, at) {
      return (
        (await snapshotHoldingQuery(db, cipher.lookupHash(idNumber), productCode, at).first('h.id')) !==
        undefined
      )
    }
  }
}
