import type { Knex } from 'knex'
import type { PersonalDataCipher } from './personal-data'

/**
 * The audit log and the close reports are each a chain: every row carries a MAC over its own
 * columns and the MAC of the row before it (by id), under a key derived from the terminal's
 * OS-protected key. A changed, re-dated, deleted or inserted row breaks the chain from there on;
 * cutting the tail leaves a valid but shorter chain, which the centre catches because it keeps
 * the head each sync reported (see `record-heads` in the sync protocol).
 *
 * Every write of these two tables goes through this module, inside the writer's transaction, so
 * the row before is read and the new row written with no other write in between.
 */

export type ChainName = 'audit' | 'closes'

/** What the first row of a chain links to. */
const GENESIS: Record<ChainName, string> = { audit: 'yibao-audit-chain/1', closes: 'yibao-close-chain/1' }
const TABLE: Record<ChainName, string> = { audit: 'audit_log', closes: 'close_reports' }

export interface AuditEntry {
  readonly at: string
  readonly operatorId: number | null
  readonly action: string
  readonly subject?: string | null
  readonly details?: Record<string, unknown> | null
}

interface AuditRow {
  at: string
  operator_id: number | null
  action: string
  subject: string | null
  details_json: string | null
}

export interface CloseRow {
  terminal_id: string
  number: number
  kind: string
  business_date: string
  shift_id: number | null
  closed_at: string
  closed_by: number
  late: boolean | number
  report_json: string
  sale_count: number
  total_fen: number
}

/** The columns a link covers, in a fixed order (booleans as SQLite returns them). */
function canonical(chain: ChainName, row: AuditRow | CloseRow): string {
  if (chain === 'audit') {
    const r = row as AuditRow
    return JSON.stringify([r.at, r.operator_id, r.action, r.subject, r.details_json])
  }
  const r = row as CloseRow
  return JSON.stringify([
    r.terminal_id,
    r.number,
    r.kind,
    r.business_date,
    r.shift_id,
    r.closed_at,
    r.closed_by,
    r.late ? 1 : 0,
    r.report_json,
    r.sale_count,
    r.total_fen
  ])
}

function link(cipher: PersonalDataCipher, chain: ChainName, previous: string, row: AuditRow | CloseRow) {
  return cipher.recordMac(`${previous}\n${canonical(chain, row)}`)
}

async function headOf(trx: Knex, chain: ChainName): Promise<string> {
  const last = await trx(TABLE[chain])
    .orderBy('id', 'desc')
    .first<{ chain_mac: string } | undefined>('chain_mac')
  return last?.chain_mac ?? GENESIS[chain]
}

/** Appends an audit line; `trx` must be the writer (or its transaction). */
export async function appendAudit(trx: Knex, cipher: PersonalDataCipher, entry: AuditEntry): Promise<void> {
  const row: AuditRow = {
    at: entry.at,
    operator_id: entry.operatorId,
    action: entry.action,
    subject: entry.subject ?? null,
    details_json: entry.details ? JSON.stringify(entry.details) : null
  }
  await trx('audit_log').insert({ ...row, chain_mac: link(cipher, 'audit', await headOf(trx, 'audit'), row) })
}

/** Appends a close report; returns its id. */
export async function appendClose(trx: Knex, cipher: PersonalDataCipher, row: CloseRow): Promise<number> {
  const [id] = await trx('close_reports').insert({
    ...row,
    chain_mac: link(cipher, 'closes', await headOf(trx, 'closes'), row)
  })
  return id
}

/** Links every row that has none yet, in id order (the migration that introduced the chains). */
export async function linkUnchained(trx: Knex, cipher: PersonalDataCipher, chain: ChainName): Promise<void> {
  let previous = GENESIS[chain]
  const rows = await trx(TABLE[chain]).orderBy('id').select<Array<(AuditRow | CloseRow) & { id: number }>>()
  for (const { id, ...row } of rows) {
    previous = link(cipher, chain, previous, row as AuditRow | CloseRow)
    await trx(TABLE[chain]).where({ id }).update({ chain_mac: previous })
  }
}

export interface ChainCheck {
  readonly chain: ChainName
  /** Rows read. */
  readonly length: number
  /** The last row's MAC (what the centre is told). */
  readonly head: string
  /** The first row (by id) whose link does not check, with its id and date; null when intact. */
  readonly brokenAt: { readonly id: number; readonly position: number; readonly at: string } | null
}

const PAGE = 5_000

/** Walks the chain from its start, a page at a time (a year of audit lines is not held in memory). */
export async function checkChain(
  db: Knex,
  cipher: PersonalDataCipher,
  chain: ChainName
): Promise<ChainCheck> {
  const dateColumn = chain === 'audit' ? 'at' : 'closed_at'
  let previous = GENESIS[chain]
  let position = 0
  let afterId = 0
  for (;;) {
    const rows = await db(TABLE[chain])
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(PAGE)
      .select<Array<(AuditRow | CloseRow) & { id: number; chain_mac: string | null }>>()
    for (const { id, chain_mac: mac, ...row } of rows) {
      position += 1
      const expected = link(cipher, chain, previous, row as AuditRow | CloseRow)
      if (mac !== expected) {
        const at = (row as unknown as Record<string, string>)[dateColumn]
        return {
          chain,
          length: await countOf(db, chain),
          head: await headOf(db, chain),
          brokenAt: { id, position, at }
        }
      }
      previous = expected
      afterId = id
    }
    if (rows.length < PAGE) return { chain, length: position, head: previous, brokenAt: null }
  }
}

/** Where a chain ends now: how many rows, and the last one's MAC (an index read, not a walk). */
export async function chainHead(db: Knex, chain: ChainName): Promise<{ length: number; head: string }> {
  return { length: await countOf(db, chain), head: await headOf(db, chain) }
}

async function countOf(db: Knex, chain: ChainName): Promise<number> {
  const [{ n }] = await db(TABLE[chain]).count<Array<{ n: number }>>({ n: '*' })
  return Number(n)
}

/** The MAC of the chain's n-th row (1-based), or null when the chain is shorter. */
export async function macAt(db: Knex, chain: ChainName, position: number): Promise<string | null> {
  if (position === 0) return GENESIS[chain]
  const row = await db(TABLE[chain])
    .orderBy('id')
    .offset(position - 1)
    .first<{ chain_mac: string | null } | undefined>('chain_mac')
  return row?.chain_mac ?? null
}
