import type { Knex } from 'knex'
import type { EnrolmentStatus, InsuranceType, Relation } from '../../core/cardholder'
import { instalmentPlanAfter, type InstalmentPlan } from '../../core/after-sale'
import type { Fen } from '../../core/money'
import type { HoldingLine } from '../../core/sync/protocol'
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
  /**
   * What the cardholder and the people on the account hold with cover not over at `at`: the centre's
   * snapshot, and this terminal's own sales paid from the account (not voided, not refused), one
   * entry per person, product and cover start; this terminal's sale speaks for its line when both have it.
   */
  coversOf(accountId: number, at: string): Promise<HeldCover[]>
}

export interface HeldCover {
  /** Who is insured, as far as this terminal knows them (a person paid for by ID only has their sale's name). */
  readonly person: {
    readonly name: string
    readonly idNumber: string
    readonly relation: Relation | 'self' | null
  } | null
  readonly productCode: string
  /** The product's name as sold here; null for the centre's entries (the rules name them). */
  readonly productName: string | null
  readonly coverFrom: string
  readonly coverTo: string
  /** The insurer's policy number, once the centre passed it on (its snapshot or its policies call). */
  readonly policyNo: string | null
  /** The accepted sale line the policy began with (an instalment names it); null when not known. */
  readonly policyRef: PolicyRef | null
  readonly units: number | null
  /**
   * A policy paid by yearly instalments with one still to pay, on its latest cover only: the
   * centre's word or this terminal's own later payment, whichever has more paid.
   */
  readonly instalments: InstalmentPlan | null
  /** This terminal's sale (with its state), or the centre's record. */
  readonly source:
    | { readonly kind: 'centre' }
    | {
        readonly kind: 'terminal'
        readonly saleId: string
        readonly status: string
        /** UTC ISO: when it was sold (a cooling-off period counts from it). */
        readonly soldAt: string
        /** The line pays a later instalment (no cooling-off cancellation). */
        readonly instalment: boolean
      }
}

export interface PolicyRef {
  readonly saleId: string
  readonly lineNo: number
}

/** What the centre's snapshot says of a holding's policy, kept as JSON in `holdings.policy_json`. */
export type HeldPolicyDetails = Pick<HoldingLine, 'policyRef' | 'units' | 'instalments'>

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
    async coversOf(accountId, at) {
      const covers = new Map<string, HeldCover>()
      // Over, but with an instalment still to pay (in its grace period, or lapsed): still listed.
      const centre = await db('holdings')
        .where({ account_id: accountId })
        .andWhere((q) => {
          q.where('cover_to', '>', at).orWhere('policy_json', 'like', '%"instalments"%')
        })
        .orderBy('id')
        .select<
          Array<{
            id_hash: Buffer
            product_code: string
            cover_from: string
            cover_to: string
            policy_no: string | null
            policy_json: string | null
          }>
        >('id_hash', 'product_code', 'cover_from', 'cover_to', 'policy_no', 'policy_json')
      // Names are opened only for the centre's entries (a sale line carries its own): most swipes have none.
      const people = new Map<string, { name: string; idNumber: string; relation: Relation | 'self' }>()
      if (centre.length > 0) {
        const account = await db('accounts')
          .where({ id: accountId })
          .first<{ pii: Buffer; id_hash: Buffer } | undefined>('pii', 'id_hash')
        if (account) {
          const holder = openAccount(cipher, account.pii)
          people.set(account.id_hash.toString('hex'), {
            name: holder.name,
            idNumber: holder.idNumber,
            relation: 'self'
          })
        }
        const members = await db('family_members')
          .where({ account_id: accountId })
          .select<Array<{ id_hash: Buffer; pii: Buffer; relation: Relation }>>('id_hash', 'pii', 'relation')
        for (const member of members) {
          const person = openPerson(cipher, member.pii)
          people.set(member.id_hash.toString('hex'), {
            name: person.name,
            idNumber: person.idNumber,
            relation: member.relation
          })
        }
      }
      for (const row of centre) {
        const hash = row.id_hash.toString('hex')
        const details = row.policy_json ? (JSON.parse(row.policy_json) as HeldPolicyDetails) : {}
        covers.set(coverKey(details.policyRef ?? null, hash, row.product_code, row.cover_from), {
          person: people.get(hash) ?? null,
          productCode: row.product_code,
          productName: null,
          coverFrom: row.cover_from,
          coverTo: row.cover_to,
          policyNo: row.policy_no,
          policyRef: details.policyRef ?? null,
          units: details.units ?? null,
          instalments: details.instalments ?? null,
          source: { kind: 'centre' }
        })
      }
      const sold = await db('sale_lines as l')
        .join('sales as s', 's.id', 'l.sale_id')
        .where('s.account_id', accountId)
        .whereNotIn('s.status', ['voided', 'rejected'])
        .whereNull('l.cancelled_at')
        .andWhere((q) => {
          q.where('l.cover_to', '>', at).orWhereRaw('l.instalment_no < l.instalment_years')
        })
        .orderBy(['s.created_at', 'l.line_no'])
        .select<
          Array<{
            sale_id: string
            line_no: number
            status: string
            created_at: string
            insured_relation: Relation | 'self'
            insured_id_hash: Buffer
            insured_pii: Buffer
            product_code: string
            product_name: string
            units: number | null
            cover_from: string
            cover_to: string
            policy_no: string | null
            instalment_no: number | null
            instalment_years: number | null
            instalment_grace_days: number | null
            policy_sale_id: string | null
            policy_line_no: number | null
          }>
        >(
          'l.sale_id',
          'l.line_no',
          's.status',
          's.created_at',
          'l.insured_relation',
          'l.insured_id_hash',
          'l.insured_pii',
          'l.product_code',
          'l.product_name',
          'l.units',
          'l.cover_from',
          'l.cover_to',
          'l.policy_no',
          'l.instalment_no',
          'l.instalment_years',
          'l.instalment_grace_days',
          'l.policy_sale_id',
          'l.policy_line_no'
        )
      for (const row of sold) {
        const hash = row.insured_id_hash.toString('hex')
        const policyRef =
          row.policy_sale_id !== null && row.policy_line_no !== null
            ? { saleId: row.policy_sale_id, lineNo: row.policy_line_no }
            : { saleId: row.sale_id, lineNo: row.line_no }
        const key = coverKey(policyRef, hash, row.product_code, row.cover_from)
        // A centre of protocol 1 names no policy: its entry for the same cover is this line's.
        const unnamed = coverKey(null, hash, row.product_code, row.cover_from)
        const centreEntry = covers.get(key) ?? covers.get(unnamed)
        covers.delete(unnamed)
        const person = openPerson(cipher, row.insured_pii)
        covers.set(key, {
          person: { name: person.name, idNumber: person.idNumber, relation: row.insured_relation },
          productCode: row.product_code,
          productName: row.product_name,
          coverFrom: row.cover_from,
          coverTo: row.cover_to,
          // The line's own number, else the one the centre's record of the same cover carries.
          policyNo: row.policy_no ?? centreEntry?.policyNo ?? null,
          policyRef,
          units: row.units,
          instalments:
            row.instalment_no !== null && row.instalment_years !== null
              ? instalmentPlanAfter(
                  { years: row.instalment_years, graceDays: row.instalment_grace_days ?? 0 },
                  row.instalment_no,
                  row.cover_to
                )
              : null,
          source: {
            kind: 'terminal',
            saleId: row.sale_id,
            status: row.status,
            soldAt: row.created_at,
            instalment: row.policy_sale_id !== null
          }
        })
      }
      return latestPlans([...covers.values()], at)
    },

    async holdsPerSnapshot(idNumber, productCode, at) {
      return (
        (await snapshotHoldingQuery(db, cipher.lookupHash(idNumber), productCode, at).first('h.id')) !==
        undefined
      )
    }
  }
}

function coverKey(ref: PolicyRef | null, idHash: string, productCode: string, coverFrom: string): string {
  return ref ? `policy/${ref.saleId}/${ref.lineNo}/${coverFrom}` : `${idHash}/${productCode}/${coverFrom}`
}

/**
 * One instalment plan per policy, the one with the most paid (the centre's, or this terminal's
 * payment it has not heard of yet), on the policy's latest cover; a cover that is over is listed
 * only while its plan still asks for a payment.
 */
function latestPlans(covers: readonly HeldCover[], at: string): HeldCover[] {
  const best = new Map<string, InstalmentPlan>()
  const latest = new Map<string, string>()
  const policyOf = (cover: HeldCover) =>
    cover.policyRef ? `${cover.policyRef.saleId}/${cover.policyRef.lineNo}` : null
  for (const cover of covers) {
    const policy = policyOf(cover)
    if (!policy) continue
    if ((latest.get(policy) ?? '') < cover.coverTo) latest.set(policy, cover.coverTo)
    const plan = cover.instalments
    if (plan && plan.paid > (best.get(policy)?.paid ?? 0)) best.set(policy, plan)
  }
  return covers.flatMap((cover) => {
    const policy = policyOf(cover)
    const isLatest = policy !== null && latest.get(policy) === cover.coverTo
    const instalments = policy !== null && isLatest ? (best.get(policy) ?? null) : null
    if (cover.coverTo <= at && !instalments?.nextDueAt) return []
    return [{ ...cover, instalments }]
  })
}
