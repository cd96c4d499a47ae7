import type { Knex } from 'knex'
import type { PolicyIssue, SaleItem } from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { accountsShowing, touchAccounts, versionOnce } from './db/state'

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

/** The accepted sale's lines, waiting for the insurer. */
export async function recordPolicies(
  trx: Knex.Transaction,
  terminalId: string,
  item: SaleItem,
  settledAt: string,
  delayMs: number
): Promise<void> {
  const due = new Date(Date.parse(settledAt) + delayMs).toISOString()
  await trx('policies').insert(
    item.lines.map((line) => ({
      sale_id: item.saleId,
      line_no: line.lineNo,
      terminal_id: terminalId,
      region_code: item.rules.regionCode,
      product_code: line.productCode,
      insured_id_number: line.insuredIdNumber,
      cover_from: line.coverFrom,
      cover_to: line.coverTo,
      premium_fen: line.premiumFen,
      issue_due_at: due
    }))
  )
}

/** A sale reversed before the insurer issued: its lines never get a policy. */
export async function dropUnissuedPolicies(trx: Knex.Transaction, saleId: string): Promise<void> {
  await trx('policies').where({ sale_id: saleId }).whereNull('policy_no').delete()
}

/**
 * Issues every policy that is due: a number, the time, its place in the order of issue; the
 * holding shows the number and the accounts that show the insured person go into the next delta.
 */
export async function issueDuePolicies(db: Knex, clock: Clock): Promise<number> {
  const now = clock.now().toISOString()
  // Cheap when nothing is due: no write transaction at all.
  const anyDue = await db('policies').whereNull('policy_no').where('issue_due_at', '<=', now).first('id')
  if (!anyDue) return 0
  return db.transaction(async (trx) => {
    const due: PolicyRow[] = await trx('policies')
      .whereNull('policy_no')
      .where('issue_due_at', '<=', now)
      .orderBy('id')
      .select()
    if (due.length === 0) return 0
    const [{ last }] = await trx('policies').max<Array<{ last: number | null }>>('issued_seq as last')
    let seq = last ?? 0
    const day = new Date(Date.parse(now) + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '')
    for (const policy of due) {
      seq += 1
      const policyNo = `BD${policy.region_code}${day}${String(seq).padStart(8, '0')}`
      await trx('policies')
        .where({ id: policy.id })
        .update({ policy_no: policyNo, issued_at: now, issued_seq: seq })
      await trx('holdings')
        .where({ sale_id: policy.sale_id, line_no: policy.line_no })
        .update({ policy_no: policyNo })
    }
    const version = versionOnce(trx)
    const accounts = await accountsShowing(trx, [...new Set(due.map((p) => p.insured_id_number))])
    if (accounts.length > 0) await touchAccounts(trx, accounts, await version(), now)
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
