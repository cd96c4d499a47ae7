import type { Knex } from 'knex'
import type { RuleBundle } from '../../core/rules/bundle'
import type { InsuredEntry } from '../../core/rules/engine'
import type { SaleItem } from '../../core/sync/protocol'
import {
  instalmentPoliciesFrom,
  newPolicies,
  policiesBegunByQuery,
  recordInstalment,
  type InstalmentPolicy,
  type PolicyBegunRow
} from '../policies'
import type { AccountRow } from '../verdicts'
import { forUpdate, insertStatements, updateStatements, type ReadQuery } from './dialect'

/**
 * The reads and writes of a run of sales (hub/settle-sales.ts): its payers' accounts locked, then
 * everything else the run is decided on given as queries to read together (readTogether), and
 * everything the accepted sales change given as statements to write together (writeTogether). On
 * PostgreSQL a run of one sale or a hundred costs nine round trips in all.
 */

export interface Cover {
  readonly productCode: string
  readonly from: string
  readonly to: string
}

/** What a run of sales is decided on. The maps change as the run accepts sales, so each sees those before it. */
export interface SaleRunFacts {
  /** The payers' accounts, locked until commit, by card and by holder's ID number. */
  readonly accountsByCard: ReadonlyMap<string, AccountRow>
  readonly accountsByIdNumber: ReadonlyMap<string, AccountRow>
  /** Spent per account and settlement year, by `${accountId}|${yearFrom}`. */
  readonly spent: Map<string, number>
  /** Whom each account has paid for, with what and when. */
  readonly paidFor: Map<number, InsuredEntry[]>
  /** The ID numbers bound to each account as family. */
  readonly family: ReadonlyMap<number, ReadonlySet<string>>
  /** What each insured person of the run holds, from any payer. */
  readonly covers: Map<string, Cover[]>
  /** `${idNumber}|${regionCode}` of the run's persons on a region's register (an active holder, or bound family). */
  readonly enrolled: ReadonlySet<string>
  /** The policies the instalment lines name, by `${saleId}|${lineNo}`. */
  readonly instalmentPolicies: Map<string, InstalmentPolicy>
}

export const spentKey = (accountId: number, yearFrom: string) => `${accountId}|${yearFrom}`

/** The payer's account (locked) as the sale names it, from the facts: see findPayer. */
export function payerOf(facts: SaleRunFacts, payer: SaleItem['payer']): AccountRow | null {
  const byCard = facts.accountsByCard.get(payer.cardNumber)
  if (byCard)
    return byCard.id_number === payer.idNumber && byCard.region_code === payer.regionCode ? byCard : null
  // The card was reissued since: by the holder's ID number, in the same region.
  const byId = facts.accountsByIdNumber.get(payer.idNumber)
  return byId && byId.region_code === payer.regionCode ? byId : null
}

/** The payers' accounts of a run, locked until commit (found by card, or by ID number after a reissue). */
export interface LockedPayers {
  readonly accountsByCard: ReadonlyMap<string, AccountRow>
  readonly accountsByIdNumber: ReadonlyMap<string, AccountRow>
  /** Each account once, whichever way it was found. */
  readonly accountIds: readonly number[]
}

export async function lockPayers(trx: Knex.Transaction, sales: readonly SaleItem[]): Promise<LockedPayers> {
  const cards = [...new Set(sales.map((sale) => sale.payer.cardNumber))]
  // Locked in id order, so two runs locking the same accounts cannot deadlock.
  const byCardRows: AccountRow[] =
    cards.length > 0
      ? await forUpdate(trx('accounts').whereIn('card_number', cards).orderBy('id')).select()
      : []
  const accountsByCard = new Map(byCardRows.map((row) => [row.card_number, row]))
  const reissued = [
    ...new Set(
      sales.filter((sale) => !accountsByCard.has(sale.payer.cardNumber)).map((sale) => sale.payer.idNumber)
    )
  ]
  const byIdRows: AccountRow[] =
    reissued.length > 0
      ? await forUpdate(trx('accounts').whereIn('id_number', reissued).orderBy('id')).select()
      : []
  // One object per account, whichever way it was found: a sale's deduction is seen by the next.
  const accounts = new Map<number, AccountRow>()
  for (const row of [...byCardRows, ...byIdRows]) if (!accounts.has(row.id)) accounts.set(row.id, row)
  return {
    accountsByCard,
    accountsByIdNumber: new Map(byIdRows.map((row) => [row.id_number, accounts.get(row.id) ?? row])),
    accountIds: [...accounts.keys()]
  }
}

/** What the rules need of a run's accounts and persons, as rows (read together with the payer checks'). */
export interface RunFactRows extends Record<string, readonly unknown[]> {
  readonly spent: ReadonlyArray<{ account_id: number; year_from: string; spent_fen: number }>
  readonly paid: ReadonlyArray<{
    payer_account_id: number
    insured_id_number: string
    product_code: string
    bought_at: string
  }>
  readonly family: ReadonlyArray<{ account_id: number; id_number: string }>
  readonly covers: ReadonlyArray<{
    insured_id_number: string
    product_code: string
    cover_from: string
    cover_to: string
  }>
  readonly enrolled: ReadonlyArray<{ id_number: string; region_code: string }>
  readonly instalmentPolicies: readonly PolicyBegunRow[]
}

/** The queries of RunFactRows, for `readTogether`; null where there is nothing to ask. */
export function runFactQueries(
  trx: Knex.Transaction,
  sales: readonly SaleItem[],
  accountIds: readonly number[]
): { readonly [Name in keyof RunFactRows]: ReadQuery } {
  const persons = [...new Set(sales.flatMap((sale) => sale.lines.map((line) => line.insuredIdNumber)))]
  const others = [
    ...new Set(
      sales.flatMap((sale) =>
        sale.lines.filter((line) => line.relation !== 'self').map((line) => line.insuredIdNumber)
      )
    )
  ]
  const instalmentRefs = sales.flatMap((sale) =>
    sale.lines.flatMap((line) => (line.instalment ? [line.instalment] : []))
  )
  const byAccount = accountIds.length > 0
  return {
    spent: byAccount
      ? trx('spending_years').whereIn('account_id', accountIds).select('account_id', 'year_from', 'spent_fen')
      : null,
    paid: byAccount
      ? trx('holdings')
          .whereIn('payer_account_id', accountIds)
          .select('payer_account_id', 'insured_id_number', 'product_code', 'bought_at')
      : null,
    family: byAccount
      ? trx('family_members').whereIn('account_id', accountIds).select('account_id', 'id_number')
      : null,
    covers:
      persons.length > 0
        ? trx('holdings')
            .whereIn('insured_id_number', persons)
            .select('insured_id_number', 'product_code', 'cover_from', 'cover_to')
        : null,
    enrolled:
      others.length > 0
        ? trx('accounts')
            .whereIn('id_number', others)
            .where({ status: 'active' })
            .select('id_number', 'region_code')
            .unionAll((bound) => {
              void bound
                .from('family_members as f')
                .join('accounts as a', 'a.id', 'f.account_id')
                .whereIn('f.id_number', others)
                .select('f.id_number', 'a.region_code')
            })
        : null,
    instalmentPolicies: policiesBegunByQuery(trx, instalmentRefs)
  }
}

/** What a run of sales is decided on, from its locked payers and the rows read for it. */
export function runFactsFrom(payers: LockedPayers, rows: RunFactRows): SaleRunFacts {
  const paidFor = new Map<number, InsuredEntry[]>(payers.accountIds.map((id) => [id, []]))
  for (const row of rows.paid)
    paidFor
      .get(row.payer_account_id)
      ?.push({ idNumber: row.insured_id_number, productCode: row.product_code, at: row.bought_at })
  const family = new Map<number, Set<string>>()
  for (const row of rows.family) {
    const bound = family.get(row.account_id) ?? new Set<string>()
    bound.add(row.id_number)
    family.set(row.account_id, bound)
  }
  const covers = new Map<string, Cover[]>()
  for (const row of rows.covers) {
    const held = covers.get(row.insured_id_number) ?? []
    held.push({ productCode: row.product_code, from: row.cover_from, to: row.cover_to })
    covers.set(row.insured_id_number, held)
  }
  return {
    // Found by card first, so these rows are the ones in `accounts`.
    accountsByCard: payers.accountsByCard,
    accountsByIdNumber: payers.accountsByIdNumber,
    spent: new Map(rows.spent.map((row) => [spentKey(row.account_id, row.year_from), row.spent_fen])),
    paidFor,
    family,
    covers,
    enrolled: new Set(rows.enrolled.map((row) => `${row.id_number}|${row.region_code}`)),
    instalmentPolicies: instalmentPoliciesFrom(rows.instalmentPolicies)
  }
}

/** A sale the run accepted, with what it takes from where. */
export interface AcceptedSale {
  readonly item: SaleItem
  readonly account: AccountRow
  readonly bundle: RuleBundle
  readonly fromHistoricalFen: number
  readonly yearFrom: string
  /** The policies its instalment lines pay, by line number. */
  readonly instalments: ReadonlyMap<number, InstalmentPolicy>
}

/**
 * What the accepted sales change, in sale order: the accounts' balances as they stand after the
 * run, the years' spending, the sales, their policies (with the ids drawn for them, `policyIds`),
 * instalments and holdings, the applicants. An instalment's payment is written here and now (the
 * rare case); the rest is answered as statements, to be written together with the run's results.
 */
export async function acceptedSaleWrites(
  trx: Knex.Transaction,
  terminalId: string,
  accepted: readonly AcceptedSale[],
  settledAt: string,
  policyDelayMs: number,
  policyIds: readonly number[]
): Promise<Array<Knex.QueryBuilder | Knex.Raw>> {
  if (accepted.length === 0) return []
  const accounts = new Map(accepted.map(({ account }) => [account.id, account]))
  // One row per account and year: PostgreSQL refuses to upsert the same row twice in one statement.
  const spending = new Map<string, { account_id: number; year_from: string; spent_fen: number }>()
  for (const sale of accepted) {
    const key = spentKey(sale.account.id, sale.yearFrom)
    const row = spending.get(key) ?? { account_id: sale.account.id, year_from: sale.yearFrom, spent_fen: 0 }
    row.spent_fen += sale.item.totalFen
    spending.set(key, row)
  }
  const policies = newPolicies(terminalId, accepted, settledAt, policyDelayMs, policyIds)
  const holdings: Array<Record<string, unknown>> = []
  for (const { item, account, instalments } of accepted) {
    for (const line of item.lines) {
      const paid = line.instalment ? instalments.get(line.lineNo) : undefined
      if (line.instalment && paid)
        await recordInstalment(trx, paid, item.saleId, { ...line, sequence: line.instalment.sequence })
      holdings.push({
        insured_id_number: line.insuredIdNumber,
        product_code: line.productCode,
        cover_from: line.coverFrom,
        cover_to: line.coverTo,
        payer_account_id: account.id,
        sale_id: item.saleId,
        line_no: line.lineNo,
        bought_at: item.createdAt,
        policy_id: paid?.id ?? policies.ids.get(`${item.saleId}|${line.lineNo}`) ?? null,
        policy_no: paid?.policyNo ?? null
      })
    }
  }
  return [
    ...updateStatements(
      trx,
      'accounts',
      { column: 'id', type: 'whole' },
      { balance_fen: 'whole', historical_balance_fen: 'whole' },
      [...accounts.values()].map((account) => ({
        id: account.id,
        balance_fen: account.balance_fen,
        historical_balance_fen: account.historical_balance_fen
      }))
    ),
    trx('spending_years')
      .insert([...spending.values()])
      .onConflict(['account_id', 'year_from'])
      .merge({ spent_fen: trx.raw('spending_years.spent_fen + excluded.spent_fen') }),
    ...insertStatements(
      trx,
      'hub_sales',
      accepted.map((sale) => ({
        sale_id: sale.item.saleId,
        terminal_id: terminalId,
        account_id: sale.account.id,
        total_fen: sale.item.totalFen,
        from_historical_fen: sale.fromHistoricalFen,
        from_current_fen: sale.item.totalFen - sale.fromHistoricalFen,
        year_from: sale.yearFrom,
        created_at: sale.item.createdAt,
        settled_at: settledAt
      }))
    ),
    ...insertStatements(trx, 'policies', policies.rows),
    ...insertStatements(trx, 'holdings', holdings),
    // For the insurer: kept apart from the sale's other records, given to no report.
    ...insertStatements(
      trx,
      'sale_applicants',
      accepted.flatMap(({ item }) =>
        item.applicant ? [{ sale_id: item.saleId, mobile: item.applicant.mobile }] : []
      )
    )
  ]
}

/** The sales' non-personal part, kept for the office report (accepted and refused alike). */
export function receivedSaleWrites(
  trx: Knex.Transaction,
  terminalId: string,
  sales: readonly SaleItem[]
): Array<Knex.QueryBuilder | Knex.Raw> {
  return [
    ...insertStatements(
      trx,
      'received_sales',
      sales.map((item) => ({
        sale_id: item.saleId,
        terminal_id: terminalId,
        operator_code: item.operatorCode,
        created_at: item.createdAt,
        region_code: item.payer.regionCode,
        rules_region_code: item.rules.regionCode,
        rules_version: item.rules.version,
        total_fen: item.totalFen
      }))
    ),
    ...insertStatements(
      trx,
      'received_sale_lines',
      sales.flatMap((item) =>
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
    )
  ]
}
