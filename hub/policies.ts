import type { Knex } from 'knex'
import { instalmentPlanAfter } from '../core/after-sale'
import type { RuleBundle } from '../core/rules/bundle'
import type { PolicyIssue, SaleItem } from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { tryLockKey, updateRows } from './db/dialect'
import { accountsShowing, stampAccounts } from './db/state'

/**
 * The reference centre playing the insurer: every accepted line gets a policy, issued a
 * configurable time after the acceptance (`HUB_POLICY_DELAY_SECONDS`), as a real insurer's number
 * comes back later. Issuing is done when someone asks (a terminal's policies call or snapshot, a
 * package): no timer, so a test decides exactly when the insurer has answered.
 */

interface PolicyRow {
  id: number
  sale_id: string
  line_no: number
  region_code: string
  insured_id_number: string
  cover_from: string
  cover_to: string
  policy_no: string | null
  issued_at: string | null
  issued_seq: number | null
}

/**
 * The accepted sales' new lines, waiting for the insurer: one policy each, with its units and, for
 * a product paid yearly, its instalment terms from the bundle of the sale. `ids` are the policies'
 * ids, drawn before (nextIdsQuery), one for each line that is not an instalment, in order; the rows
 * to insert, and each line's policy id by `${saleId}|${lineNo}`.
 */
export function newPolicies(
  terminalId: string,
  sales: ReadonlyArray<{ readonly item: SaleItem; readonly bundle: RuleBundle }>,
  settledAt: string,
  delayMs: number,
  ids: readonly number[]
): { rows: Array<Record<string, string | number | null>>; ids: Map<string, number> } {
  const due = new Date(Date.parse(settledAt) + delayMs).toISOString()
  const rows = sales.flatMap(({ item, bundle }) =>
    item.lines
      .filter((line) => !line.instalment)
      .map((line) => {
        const terms = bundle.products.find((p) => p.code === line.productCode)?.afterSale?.instalments
        const plan = terms ? instalmentPlanAfter(terms, 1, line.coverTo) : null
        return {
          sale_id: item.saleId,
          line_no: line.lineNo,
          terminal_id: terminalId,
          region_code: item.rules.regionCode,
          product_code: line.productCode,
          insured_id_number: line.insuredIdNumber,
          cover_from: line.coverFrom,
          cover_to: line.coverTo,
          premium_fen: line.premiumFen,
          issue_due_at: due,
          units: line.units ?? null,
          instalment_years: terms?.years ?? null,
          instalments_paid: 1,
          next_due_at: plan?.nextDueAt ?? null,
          grace_days: terms?.graceDays ?? null
        }
      })
  )
  if (ids.length < rows.length) throw new Error('保单编号不足')
  const withIds = rows.map((row, index) => ({ id: ids[index], ...row }))
  return {
    rows: withIds,
    ids: new Map(withIds.map((row) => [`${row.sale_id}|${row.line_no}`, row.id]))
  }
}

/** How many policies newPolicies makes of these sales: their lines that are not instalments. */
export function newPolicyCount(sales: readonly SaleItem[]): number {
  return sales.reduce((count, item) => count + item.lines.filter((line) => !line.instalment).length, 0)
}

/** A policy as an instalment line is checked against it. */
export interface InstalmentPolicy {
  readonly id: number
  readonly insuredIdNumber: string
  readonly productCode: string
  readonly units: number | null
  readonly policyNo: string | null
  readonly paid: number
  readonly years: number | null
  readonly nextDueAt: string | null
  readonly graceDays: number | null
  readonly cancelled: boolean
}

/** A policy as an instalment line names it, as read (policiesBegunByQuery). */
export interface PolicyBegunRow {
  id: number
  sale_id: string
  line_no: number
  insured_id_number: string
  product_code: string
  units: number | null
  policy_no: string | null
  instalments_paid: number
  instalment_years: number | null
  next_due_at: string | null
  grace_days: number | null
  cancelled_at: string | null
}

/** The policies these instalment lines name (by the sale line each began with); null when none do. */
export function policiesBegunByQuery(
  trx: Knex.Transaction,
  refs: ReadonlyArray<{ readonly saleId: string; readonly lineNo: number }>
): Knex.QueryBuilder | null {
  if (refs.length === 0) return null
  return trx('policies')
    .whereIn(
      ['sale_id', 'line_no'],
      refs.map((ref) => [ref.saleId, ref.lineNo])
    )
    .select(
      'id',
      'sale_id',
      'line_no',
      'insured_id_number',
      'product_code',
      'units',
      'policy_no',
      'instalments_paid',
      'instalment_years',
      'next_due_at',
      'grace_days',
      'cancelled_at'
    )
}

/** Those policies by `${saleId}|${lineNo}`. */
export function instalmentPoliciesFrom(rows: readonly PolicyBegunRow[]): Map<string, InstalmentPolicy> {
  return new Map(
    rows.map((row) => [
      `${row.sale_id}|${row.line_no}`,
      {
        id: row.id,
        insuredIdNumber: row.insured_id_number,
        productCode: row.product_code,
        units: row.units,
        policyNo: row.policy_no,
        paid: row.instalments_paid,
        years: row.instalment_years,
        nextDueAt: row.next_due_at,
        graceDays: row.grace_days,
        cancelled: row.cancelled_at !== null
      }
    ])
  )
}

/** An accepted instalment: the policy is paid one year further, and the payment is kept so a reversal can undo it. */
export async function recordInstalment(
  trx: Knex.Transaction,
  policy: InstalmentPolicy,
  saleId: string,
  line: { lineNo: number; coverFrom: string; coverTo: string; sequence: number }
): Promise<void> {
  await trx('instalment_payments').insert({
    sale_id: saleId,
    line_no: line.lineNo,
    policy_id: policy.id,
    sequence: line.sequence,
    cover_from: line.coverFrom,
    cover_to: line.coverTo
  })
  const paidUp = policy.years !== null && line.sequence >= policy.years
  await trx('policies')
    .where({ id: policy.id })
    .update({
      instalments_paid: line.sequence,
      cover_to: line.coverTo,
      next_due_at: paidUp ? null : line.coverTo
    })
}

/**
 * A reversed sale's instalments: each policy back to the year before. Only the latest instalment
 * of a policy can be undone; returns false (nothing changed) when a later one was paid since.
 */
export async function undoInstalments(trx: Knex.Transaction, saleId: string): Promise<boolean> {
  const payments: Array<{ policy_id: number; sequence: number; cover_from: string }> = await trx(
    'instalment_payments'
  )
    .where({ sale_id: saleId })
    .select('policy_id', 'sequence', 'cover_from')
  for (const payment of payments) {
    const policy = await trx('policies')
      .where({ id: payment.policy_id })
      .first<{ instalments_paid: number }>('instalments_paid')
    if (policy.instalments_paid !== payment.sequence) return false
  }
  for (const payment of payments) {
    await trx('policies')
      .where({ id: payment.policy_id })
      .update({
        instalments_paid: payment.sequence - 1,
        cover_to: payment.cover_from,
        next_due_at: payment.cover_from
      })
  }
  await trx('instalment_payments').where({ sale_id: saleId }).delete()
  return true
}

/** A sale reversed before the insurer issued: its lines never get a policy. */
export async function dropUnissuedPolicies(trx: Knex.Transaction, saleId: string): Promise<void> {
  await trx('policies').where({ sale_id: saleId }).whereNull('policy_no').delete()
}

/** Policies issued by one call at most: a snapshot or policies call waits for its issuing. */
const ISSUED_AT_ONCE = 500

/**
 * Issues the policies that are due, the oldest first, at most ISSUED_AT_ONCE: a number, the time,
 * its place in the order of issue; the holding shows the number and the accounts that show the
 * insured person go into the next delta. When another process is issuing, this one leaves it to
 * it (returns 0) rather than wait.
 */
export async function issueDuePolicies(db: Knex, clock: Clock): Promise<number> {
  const now = clock.now().toISOString()
  // Cheap when nothing is due: no write transaction at all.
  const anyDue = await db('policies').whereNull('policy_no').where('issue_due_at', '<=', now).first('id')
  if (!anyDue) return 0
  return db.transaction(async (trx) => {
    // One issuer at a time across processes: terminals ask for what was issued after the last
    // number they saw, so numbers must commit in their order.
    if (!(await tryLockKey(trx, 'policy-issue'))) return 0
    const due: PolicyRow[] = await trx('policies')
      .whereNull('policy_no')
      .where('issue_due_at', '<=', now)
      .orderBy('id')
      .limit(ISSUED_AT_ONCE)
      .select()
    if (due.length === 0) return 0
    const [{ last }] = await trx('policies').max<Array<{ last: number | null }>>('issued_seq as last')
    const day = new Date(Date.parse(now) + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '')
    const issued = due.map((policy, i) => {
      const seq = (last ?? 0) + i + 1
      return {
        id: policy.id,
        policy_no: `BD${policy.region_code}${day}${String(seq).padStart(8, '0')}`,
        issued_seq: seq
      }
    })
    // A statement for all of them, not two for each (up to 1,000 round trips under the issuing lock).
    await updateRows(
      trx,
      'policies',
      { column: 'id', type: 'whole' },
      { policy_no: 'text', issued_at: 'text', issued_seq: 'whole' },
      issued.map((policy) => ({ ...policy, issued_at: now }))
    )
    // Every year's row of the policy: instalments paid before the number came carry it too.
    await updateRows(
      trx,
      'holdings',
      { column: 'policy_id', type: 'whole' },
      { policy_no: 'text' },
      issued.map(({ id, policy_no }) => ({ policy_id: id, policy_no }))
    )
    await stampAccounts(
      trx,
      await accountsShowing(trx, [...new Set(due.map((p) => p.insured_id_number))]),
      now
    )
    return due.length
  })
}

/** What was issued for this terminal's sales after `cursor`, oldest first. */
export async function policiesAfter(
  q: Knex,
  terminalId: string,
  cursor: number,
  limit = 500
): Promise<{ policies: PolicyIssue[]; cursor: number; more: boolean }> {
  const rows: PolicyRow[] = await q('policies')
    .where({ terminal_id: terminalId })
    .where('issued_seq', '>', cursor)
    .orderBy('issued_seq')
    .limit(limit + 1)
    .select()
  const page = rows.slice(0, limit)
  return {
    policies: page.map(issueOf),
    cursor: page.at(-1)?.issued_seq ?? cursor,
    more: rows.length > limit
  }
}

/** The newest policies issued for the terminal's sales, oldest first (for a package: the terminal keeps each once). */
export async function issuedPoliciesOf(q: Knex, terminalId: string, limit = 100_000): Promise<PolicyIssue[]> {
  const rows: PolicyRow[] = await q('policies')
    .where({ terminal_id: terminalId })
    .whereNotNull('issued_seq')
    .orderBy('issued_seq', 'desc')
    .limit(limit)
    .select()
  return rows.reverse().map(issueOf)
}

function issueOf(row: PolicyRow): PolicyIssue {
  return {
    saleId: row.sale_id,
    lineNo: row.line_no,
    policyNo: row.policy_no ?? '',
    coverFrom: row.cover_from,
    coverTo: row.cover_to,
    issuedAt: row.issued_at ?? ''
  }
}
