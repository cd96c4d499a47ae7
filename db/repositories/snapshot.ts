import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { Knex } from 'knex'
import type { Logger } from '../../core/log'
import type { SnapshotHeader } from '../../core/sync/protocol'
import { LineRefusal, snapshotRefused as refused } from '../../core/sync/snapshot-refusal'
import type { Clock } from '../../core/time'
import { openDatabase } from '../connection'

/**
 * The account snapshot's SQL (docs/sync-protocol.md, "Account snapshot"): the staging tables
 * (migration 0006) that a download is written to batch by batch, and the one transaction that
 * applies them to the live accounts, family members and holdings. The stream itself is read and
 * checked by the import (backend/services/sync/snapshot/import.ts).
 */

/** The snapshot held: its version, as of when its balances were stated, and when it arrived (0 and nulls before any). */
export async function currentSnapshot(
  db: Knex
): Promise<{ version: number; balancesAsOf: string | null; receivedAt: string | null }> {
  const row = await db('snapshot_state')
    .where({ id: 1 })
    .first<{ version: number; balances_as_of: string | null; received_at: string | null } | undefined>(
      'version',
      'balances_as_of',
      'received_at'
    )
  return {
    version: row?.version ?? 0,
    balancesAsOf: row?.balances_as_of ?? null,
    receivedAt: row?.received_at ?? null
  }
}

/** Balances-as-of of the oldest live account: when no snapshot was ever downloaded (demo data). */
export async function oldestBalanceAsOf(db: Knex): Promise<string | null> {
  const row = await db('accounts')
    .whereNull('removed_at')
    .min<{ oldest: string | null }>({ oldest: 'balance_as_of' })
    .first()
  return row?.oldest ?? null
}

/** One batch's staging rows, as JSON arrays of row arrays (column order as in STAGE_SQL). */
export interface StagingRows {
  readonly accounts: number
  readonly removed: number
  readonly accountsJson: string
  readonly familyJson: string
  readonly holdingsJson: string
  readonly removedJson: string
}

/** What was staged, as the end line confirmed it. */
export interface StagedSnapshot {
  readonly header: SnapshotHeader
  readonly accounts: number
  readonly removed: number
}

export interface SnapshotApplied {
  /** Accounts that left: deleted, or kept as removed where sales refer to them. */
  readonly removed: number
  /** How long the apply transaction held the writer (a sale's commit waits all of it; swipes read on). */
  readonly transactionMs: number
  /** Where that time went, per step, for the log. */
  readonly steps: Record<string, number>
}

/**
 * Staging to live: in one transaction, with the page cache and checkpoint tuned for it (see
 * withApplyTuning). Refuses with the line at fault when the staged rows clash.
 */
export function applyStagedSnapshot(
  db: Knex,
  staging: SnapshotStaging,
  staged: StagedSnapshot,
  options: { now: string; log: Logger }
): Promise<SnapshotApplied> {
  return withApplyTuning(db, options.log, staged.header.full, () =>
    applyStaging(db, staging, staged, options.now)
  )
}

const STAGING_TABLES = [
  'snapshot_staging_accounts',
  'snapshot_staging_family',
  'snapshot_staging_holdings',
  'snapshot_staging_removed'
] as const

const STAGE_SQL = {
  accounts: `insert into snapshot_staging_accounts (line_no, account_no, card_hash, id_hash, pii, region_code, insurance_type, status,
      balance_fen, historical_balance_fen, spent_this_year_fen, fitness_card_transfers_fen)
    select value->>0, value->>1, unhex(value->>2), unhex(value->>3), unhex(value->>4), value->>5, value->>6, value->>7,
      value->>8, value->>9, value->>10, value->>11
    from jsonb_each(?)`,
  family: `insert into snapshot_staging_family (account_no, id_hash, pii, relation, bound_at)
    select value->>0, unhex(value->>1), unhex(value->>2), value->>3, value->>4 from jsonb_each(?)`,
  holdings: `insert into snapshot_staging_holdings (account_no, id_hash, product_code, cover_from, cover_to, policy_no, policy_json)
    select value->>0, unhex(value->>1), value->>2, value->>3, value->>4, value->>5, value->>6 from jsonb_each(?)`,
  removed: `insert into snapshot_staging_removed (line_no, account_no) select value->>0, value->>1 from jsonb_each(?)`
}

function isConstraint(error: unknown, what: string): boolean {
  return (
    error instanceof Error &&
    error.message.includes('UNIQUE constraint failed') &&
    error.message.includes(what)
  )
}

/** The staging tables belong to one import at a time; a second process taking them over makes the first one stop. */
export class SnapshotStaging {
  private readonly importId = randomUUID()
  private claimed = false

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock
  ) {}

  async claim(): Promise<void> {
    await this.db.transaction(async (trx) => {
      for (const table of STAGING_TABLES) await trx.raw(`delete from ${table}`)
      await trx.raw(
        'insert into snapshot_staging_owner (id, import_id, started_at) values (1, ?, ?) on conflict (id) do update set import_id = excluded.import_id, started_at = excluded.started_at',
        [this.importId, this.clock.now().toISOString()]
      )
    })
    this.claimed = true
  }

  async assertOwner(trx: Knex.Transaction): Promise<void> {
    const rows = (await trx.raw('select import_id from snapshot_staging_owner where id = 1')) as Array<{
      import_id: string
    }>
    if (rows[0]?.import_id !== this.importId) throw refused('另一次账户快照导入同时开始，本次导入已停止')
  }

  async write(batch: StagingRows): Promise<void> {
    try {
      await this.db.transaction(async (trx) => {
        await this.assertOwner(trx)
        if (batch.accounts > 0) await trx.raw(STAGE_SQL.accounts, [batch.accountsJson])
        if (batch.familyJson.length > 2) await trx.raw(STAGE_SQL.family, [batch.familyJson])
        if (batch.holdingsJson.length > 2) await trx.raw(STAGE_SQL.holdings, [batch.holdingsJson])
        if (batch.removed > 0) await trx.raw(STAGE_SQL.removed, [batch.removedJson])
      })
    } catch (error) {
      if (isConstraint(error, 'snapshot_staging_accounts.account_no'))
        throw await this.duplicate(batch.accountsJson, 'snapshot_staging_accounts')
      if (isConstraint(error, 'snapshot_staging_removed.account_no'))
        throw await this.duplicate(batch.removedJson, 'snapshot_staging_removed')
      throw error
    }
  }

  /** Which line repeats an account number, within the batch or against earlier batches (only on failure). */
  private async duplicate(json: string, table: string): Promise<Error> {
    const within = (await this.db.raw(
      `select min(value->>0) as earlier, max(value->>0) as line from jsonb_each(?) group by value->>1 having count(*) > 1 order by 2 limit 1`,
      [json]
    )) as Array<{ earlier: number; line: number }>
    const before = (await this.db.raw(
      `select s.line_no as earlier, j.value->>0 as line from jsonb_each(?) j join ${table} s on s.account_no = j.value->>1 order by 2 limit 1`,
      [json]
    )) as Array<{ earlier: number; line: number }>
    const found = [...within, ...before].sort((a, b) => a.line - b.line)[0]
    return found
      ? new LineRefusal(found.line, `：账户编号与第 ${found.earlier} 行重复`)
      : refused('快照中有重复的账户编号')
  }

  /** Emptied after every import, and before the next (a crash leaves rows nobody applies); only while still ours. */
  async clear(): Promise<void> {
    if (!this.claimed) return
    await this.db.transaction(async (trx) => {
      const rows = (await trx.raw('select import_id from snapshot_staging_owner where id = 1')) as Array<{
        import_id: string
      }>
      if (rows[0]?.import_id !== this.importId) return
      for (const table of STAGING_TABLES) await trx.raw(`delete from ${table}`)
      await trx.raw('delete from snapshot_staging_owner where id = 1')
    })
  }
}

/**
 * Page cache while applying a delta: its upserts go into live indexes, whose pages then stay in
 * memory. A full snapshot rebuilds the indexes by sorting instead, measured no faster with it.
 */
const DELTA_APPLY_CACHE_KIB = 64 * 1024

/**
 * Runs the apply without the automatic checkpoint at its commit (and, for a delta, with a larger
 * page cache): that checkpoint would copy every page the apply wrote back into the database file
 * while the counter waits on the one connection. Instead a second connection checkpoints
 * afterwards, which in WAL mode blocks no reader or writer of the first. Both settings are put
 * back; neither touches durability (the commit still syncs the WAL, synchronous = FULL).
 */
async function withApplyTuning<T>(db: Knex, log: Logger, full: boolean, apply: () => Promise<T>): Promise<T> {
  const [{ cache_size: cacheSize }] = (await db.raw('pragma cache_size')) as Array<{ cache_size: number }>
  const [{ wal_autocheckpoint: autocheckpoint }] = (await db.raw('pragma wal_autocheckpoint')) as Array<{
    wal_autocheckpoint: number
  }>
  if (!full) await db.raw(`pragma cache_size = ${-DELTA_APPLY_CACHE_KIB}`)
  await db.raw('pragma wal_autocheckpoint = 0')
  let applied = false
  try {
    const result = await apply()
    applied = true
    return result
  } finally {
    // Once applied, a failure here must not turn the import into a refusal: it is only logged.
    await db
      .raw(`pragma cache_size = ${Number(cacheSize)}`)
      .catch(() => log.error('snapshot_pragma_restore_failed', { pragma: 'cache_size' }))
    if (applied) await checkpointAside(db, log)
    await db
      .raw(`pragma wal_autocheckpoint = ${Number(autocheckpoint)}`)
      .catch(() => log.error('snapshot_pragma_restore_failed', { pragma: 'wal_autocheckpoint' }))
  }
}

/** A checkpoint on a connection of its own: copies the WAL into the database file, then empties it. */
async function checkpointAside(db: Knex, log: Logger): Promise<void> {
  const started = performance.now()
  let aside: Knex | null = null
  try {
    const [main] = (await db.raw("select file from pragma_database_list where name = 'main'")) as Array<{
      file: string
    }>
    if (!main?.file) return
    aside = openDatabase(main.file)
    await aside.raw('pragma wal_checkpoint(passive)')
    // Only now, when nothing is left to copy, does the truncation briefly hold back a writer.
    await aside.raw('pragma wal_checkpoint(truncate)')
    log.info('snapshot_checkpointed', { ms: Math.round(performance.now() - started) })
  } catch (error) {
    // The connection's own checkpoints catch up later; nothing is lost.
    log.error('snapshot_checkpoint_failed', { error: error instanceof Error ? error.name : 'unknown' })
  } finally {
    await aside?.destroy()
  }
}

/** Tables whose rows point at an account (sales, ledger, …): an account they name is kept as removed, not deleted. */
async function referencingColumns(trx: Knex.Transaction): Promise<Array<{ table: string; column: string }>> {
  const rows = (await trx.raw(
    `select m.name as tbl, p."from" as col from sqlite_master m join pragma_foreign_key_list(m.name) p
     where m.type = 'table' and p."table" = 'accounts' and m.name not in ('family_members', 'holdings')`
  )) as Array<{ tbl: string; col: string }>
  return rows.map((row) => ({ table: row.tbl, column: row.col }))
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

async function changes(trx: Knex.Transaction): Promise<number> {
  const [row] = (await trx.raw('select changes() as n')) as Array<{ n: number }>
  return row.n
}

const UPSERT_ACCOUNTS = `insert into accounts (account_no, card_hash, id_hash, pii, region_code, insurance_type, status, balance_fen,
    historical_balance_fen, spent_this_year_fen, fitness_card_transfers_fen, balance_as_of, updated_at, removed_at)
  select account_no, card_hash, id_hash, pii, region_code, insurance_type, status, balance_fen,
    historical_balance_fen, spent_this_year_fen, fitness_card_transfers_fen, ?, ?, null
  from snapshot_staging_accounts where true order by line_no
  on conflict (account_no) do update set card_hash = excluded.card_hash, id_hash = excluded.id_hash, pii = excluded.pii,
    region_code = excluded.region_code, insurance_type = excluded.insurance_type, status = excluded.status,
    balance_fen = excluded.balance_fen, historical_balance_fen = excluded.historical_balance_fen,
    spent_this_year_fen = excluded.spent_this_year_fen, fitness_card_transfers_fen = excluded.fitness_card_transfers_fen,
    balance_as_of = excluded.balance_as_of, updated_at = excluded.updated_at, removed_at = null`

/**
 * Staging to live in one transaction. Order matters: accounts leave first (so a person who comes
 * back under a new account number does not collide with the row they leave), then the upsert, then
 * family and holdings are replaced for every account in the snapshot. Returns the accounts removed.
 */
async function applyStaging(
  db: Knex,
  staging: SnapshotStaging,
  received: StagedSnapshot,
  now: string
): Promise<SnapshotApplied> {
  const { header } = received
  let started = 0
  // Where the transaction's time goes, for the log: a sale's commit waits all of it (swipes read on).
  const steps: Record<string, number> = {}
  let lap = 0
  const step = (name: string) => {
    const at = performance.now()
    steps[`${name}Ms`] = Math.round(at - lap)
    lap = at
  }
  const removed = await db.transaction(async (trx) => {
    started = performance.now()
    lap = started
    await staging.assertOwner(trx)
    const [count] = (await trx.raw(
      'select (select count(*) from snapshot_staging_accounts) + (select count(*) from snapshot_staging_removed) as n'
    )) as Array<{ n: number }>
    if (count.n !== received.accounts + received.removed)
      throw refused('暂存的数据不完整（可能有另一次导入同时进行）')
    const [conflict] = (await trx.raw(
      `select r.line_no as removed, a.line_no as account from snapshot_staging_removed r
       join snapshot_staging_accounts a on a.account_no = r.account_no order by 1 limit 1`
    )) as Array<{ removed: number; account: number }>
    if (conflict)
      throw new LineRefusal(conflict.removed, `（删除）：该账户在第 ${conflict.account} 行又有账户行`)

    // Accounts reference their region; a region new to this terminal is added under its code until its rules name it.
    for (const code of header.regionCodes) {
      await trx.raw('insert into regions (code, name) values (?, ?) on conflict (code) do nothing', [
        code,
        code
      ])
    }

    // A full snapshot rewrites every row: the secondary indexes are dropped first and built again at
    // the end (a sort), far faster than maintaining them through a million deletes and inserts, and
    // their uniqueness is checked once over the final rows. A delta keeps them and works row by row.
    const rebuilt = header.full ? await dropSecondaryIndexes(trx) : []
    if (header.full) {
      // Every account still in the snapshot is in staging: its family and holdings are replaced below.
      await trx.raw('delete from family_members')
      await trx.raw('delete from holdings')
    } else {
      const leaving =
        'select a.id from snapshot_staging_removed r join accounts a on a.account_no = r.account_no'
      await trx.raw(`delete from family_members where account_id in (${leaving})`)
      await trx.raw(`delete from holdings where account_id in (${leaving})`)
      const staged =
        'select a.id from snapshot_staging_accounts s join accounts a on a.account_no = s.account_no'
      await trx.raw(`delete from family_members where account_id in (${staged})`)
      await trx.raw(`delete from holdings where account_id in (${staged})`)
    }
    step('replacing')

    const references = await referencingColumns(trx)
    const referenced =
      references.length === 0
        ? 'false'
        : references
            .map((r) => `exists (select 1 from ${quote(r.table)} x where x.${quote(r.column)} = accounts.id)`)
            .join(' or ')
    // A full snapshot reads every account in rowid order (NOT INDEXED: SQLite would otherwise walk an
    // index and read the rows in random order); a delta goes from its removed lines by account number.
    const [accounts, gone] = header.full
      ? [
          'accounts not indexed',
          'removed_at is null and account_no not in (select account_no from snapshot_staging_accounts)'
        ]
      : ['accounts', 'removed_at is null and account_no in (select account_no from snapshot_staging_removed)']
    await trx.raw(`update ${accounts} set removed_at = ?, updated_at = ? where ${gone} and (${referenced})`, [
      now,
      now
    ])
    const kept = await changes(trx)
    // The rest of the leavers have no sales: deleted, with their family and holdings (on delete cascade).
    await trx.raw(`delete from ${accounts} where ${gone}`)
    const deleted = await changes(trx)
    step('leaving')

    if (header.full) await trx.raw(UPSERT_ACCOUNTS, [header.balancesAsOf, now])
    else await upsertAccounts(trx, header.balancesAsOf, now)
    step('accounts')
    await trx.raw(
      `insert into family_members (account_id, id_hash, pii, relation, bound_at)
       select a.id, f.id_hash, f.pii, f.relation, f.bound_at from snapshot_staging_family f join accounts a on a.account_no = f.account_no`
    )
    await trx.raw(
      `insert into holdings (account_id, id_hash, product_code, cover_from, cover_to, policy_no, policy_json)
       select a.id, h.id_hash, h.product_code, h.cover_from, h.cover_to, h.policy_no, h.policy_json from snapshot_staging_holdings h join accounts a on a.account_no = h.account_no`
    )
    step('familyAndHoldings')
    for (const index of rebuilt) {
      try {
        await trx.raw(index.sql)
      } catch (error) {
        if (isConstraint(error, 'accounts.card_hash')) throw await hashClash(trx, 'card_hash')
        if (isConstraint(error, 'accounts.id_hash')) throw await hashClash(trx, 'id_hash')
        throw error
      }
    }
    step('indexes')
    await trx.raw(
      'update snapshot_state set version = ?, "full" = ?, balances_as_of = ?, received_at = ? where id = 1',
      [header.snapshotVersion, header.full, header.balancesAsOf, now]
    )
    if ((await changes(trx)) !== 1) throw new Error('snapshot_state row missing')
    return kept + deleted
  })
  step('commit')
  return { removed, transactionMs: performance.now() - started, steps }
}

/**
 * Drops the indexes of accounts, family_members and holdings that the apply does not use (all but
 * the unique account number the upsert and the joins go by) and returns them to be created again,
 * exactly as they were defined, in the same transaction.
 */
async function dropSecondaryIndexes(trx: Knex.Transaction): Promise<Array<{ name: string; sql: string }>> {
  const indexes = (await trx.raw(
    `select m.name as name, m.sql as sql from sqlite_master m
     where m.type = 'index' and m.sql is not null and m.tbl_name in ('accounts', 'family_members', 'holdings')
       and not (m.tbl_name = 'accounts' and (select group_concat(i.name) from pragma_index_info(m.name) i) = 'account_no')
     order by m.name`
  )) as Array<{ name: string; sql: string }>
  for (const index of indexes) await trx.raw(`drop index ${quote(index.name)}`)
  return indexes
}

/**
 * The upsert of a delta, in a savepoint: when a card or ID number moves between two accounts that both stay
 * (the centre corrected a record), row-by-row uniqueness trips over the old holder, so the moving
 * hashes are set aside first and the upsert runs again. A real clash (two accounts in the snapshot,
 * or an account in a delta and one not in it, with one card or person) is refused with its line.
 */
async function upsertAccounts(trx: Knex.Transaction, balancesAsOf: string, now: string): Promise<void> {
  try {
    await trx.transaction(async (savepoint) => {
      await savepoint.raw(UPSERT_ACCOUNTS, [balancesAsOf, now])
    })
    return
  } catch (error) {
    if (!isConstraint(error, 'accounts.card_hash') && !isConstraint(error, 'accounts.id_hash')) throw error
  }
  // 17 random bytes, never a 16-byte hash: unique per row until the upsert below overwrites it.
  await trx.raw(
    `update accounts set card_hash = randomblob(17), id_hash = randomblob(17)
     where id in (select a.id from snapshot_staging_accounts s join accounts a on a.account_no = s.account_no
                  where a.removed_at is null and (a.card_hash <> s.card_hash or a.id_hash <> s.id_hash))`
  )
  try {
    await trx.transaction(async (savepoint) => {
      await savepoint.raw(UPSERT_ACCOUNTS, [balancesAsOf, now])
    })
  } catch (error) {
    if (!isConstraint(error, 'accounts.card_hash') && !isConstraint(error, 'accounts.id_hash')) throw error
    throw await hashClash(trx, isConstraint(error, 'accounts.card_hash') ? 'card_hash' : 'id_hash')
  }
}

/** Names the line whose card or ID number another account also has (only on failure). */
async function hashClash(trx: Knex.Transaction, column: 'card_hash' | 'id_hash'): Promise<Error> {
  const what = column === 'card_hash' ? '社会保障卡号' : '身份证号'
  const [inSnapshot] = (await trx.raw(
    `select max(line_no) as line, min(line_no) as earlier from snapshot_staging_accounts group by ${column} having count(*) > 1 order by 1 limit 1`
  )) as Array<{ line: number; earlier: number }>
  if (inSnapshot)
    return new LineRefusal(inSnapshot.line, `（账户）：${what}与第 ${inSnapshot.earlier} 行的账户相同`)
  const [withLive] = (await trx.raw(
    `select s.line_no as line from snapshot_staging_accounts s join accounts a on a.${column} = s.${column}
     where a.removed_at is null and a.account_no <> s.account_no order by 1 limit 1`
  )) as Array<{ line: number }>
  if (withLive) return new LineRefusal(withLive.line, `（账户）：${what}与本机另一个未在快照中更新的账户相同`)
  return refused(`快照中有两个账户的${what}相同`)
}
