import type { Knex } from 'knex'
import { dialectOf, greatestOf, lockRowsById, rowsOf, tryLockKey } from './dialect'

/**
 * The change counter behind snapshot versions. Every transaction that changes what a terminal
 * would be sent takes one new version and stamps it on every account it touches, in the same
 * transaction, so a snapshot read at version V holds exactly the changes up to V.
 */

export async function currentVersion(q: Knex | Knex.Transaction): Promise<number> {
  const row = await q('hub_state')
    .where({ key: 'snapshot_version' })
    .first<{ value: number } | undefined>('value')
  if (!row) throw new Error('中心数据库缺少快照版本计数')
  return row.value
}

export async function deltaFloor(q: Knex | Knex.Transaction): Promise<number> {
  const row = await q('hub_state').where({ key: 'delta_floor' }).first<{ value: number } | undefined>('value')
  return row?.value ?? 0
}

/**
 * Takes the next version; only inside the transaction that makes the change. The counter's row
 * stays locked until the transaction commits, so versions commit in their order: a snapshot that
 * reads version V sees every change up to V and none after. Take it last, after every other row
 * the transaction changes (stampAccounts does), so the lock is held for the shortest time and
 * never while waiting for another row.
 */
export async function nextVersion(trx: Knex.Transaction): Promise<number> {
  await trx('hub_state').where({ key: 'snapshot_version' }).increment('value', 1)
  return currentVersion(trx)
}

/**
 * Stamps accounts as changed by this transaction: they go into every delta after the version it
 * takes. Called once, at the end: the rows are locked first (in id order, so two transactions
 * stamping the same accounts cannot deadlock), then the version is taken. Returns the version,
 * or null when there was nothing to stamp.
 */
export async function stampAccounts(
  trx: Knex.Transaction,
  accountIds: Iterable<number>,
  at: string
): Promise<number | null> {
  const ids = [...new Set(accountIds)].sort((a, b) => a - b)
  if (ids.length === 0) return null
  await lockRowsById(trx, 'accounts', ids)
  const version = await nextVersion(trx)
  for (let i = 0; i < ids.length; i += 500) {
    await trx('accounts')
      .whereIn('id', ids.slice(i, i + 500))
      .update({ version, updated_at: at })
  }
  return version
}

/**
 * Accounts a settlement changed, to go into the deltas after it. SQLite stamps them at once (its
 * lone writer waits for no one). PostgreSQL notes them in pending_stamps, and stampPending gives
 * them their version before the next snapshot is read: a settlement that took the version itself
 * held the counter's row until its commit, and every other settlement, authorizations included,
 * queued for it (180 ms on average under bench:centre).
 */
export async function noteChanged(trx: Knex.Transaction, touched: Touched, at: string): Promise<void> {
  const ids = [...touched.accounts]
  const persons = [...touched.persons]
  if (ids.length === 0 && persons.length === 0) return
  if (dialectOf(trx) !== 'postgres') {
    await stampAccounts(trx, [...ids, ...(await accountsShowing(trx, persons))], at)
    return
  }
  // The accounts themselves and those showing the persons, noted in one round trip.
  const showing = showingQuery(trx, persons).toSQL()
  await trx.raw(
    `insert into pending_stamps (account_id)
     select distinct id from (select unnest(?::int[]) as id union all ${showing.sql}) as changed`,
    [ids, ...(showing.bindings as Knex.RawBinding[])]
  )
}

/**
 * What a settlement changed, for the deltas after it: accounts, and persons whose holdings changed
 * (every account whose line shows them, as holder or bound family, changed with them).
 */
export interface Touched {
  readonly accounts: Set<number>
  readonly persons: Set<string>
}

export const nothingTouched = (): Touched => ({ accounts: new Set(), persons: new Set() })

/** Accounts stamped by one call at most; the rest go into the next version. */
const STAMPED_AT_ONCE = 50_000

/**
 * Gives the noted accounts (noteChanged) one new version, before a snapshot is read. One process
 * at a time: one that finds another stamping leaves it and reads; an account noted but not yet
 * stamped goes into a later delta, never missed, since only a committed stamp moves the counter.
 * Returns how many were stamped.
 */
export async function stampPending(db: Knex, at: string): Promise<number> {
  if (dialectOf(db) !== 'postgres') return 0
  // Cheap when nothing waits: no write transaction at all.
  if (!(await db('pending_stamps').first('account_id'))) return 0
  return db.transaction(async (trx) => {
    if (!(await tryLockKey(trx, 'stamp-pending'))) return 0
    const taken = rowsOf<{ account_id: number }>(
      await trx.raw(
        'delete from pending_stamps where ctid in (select ctid from pending_stamps limit ?) returning account_id',
        [STAMPED_AT_ONCE]
      )
    )
    await stampAccounts(
      trx,
      taken.map((row) => row.account_id),
      at
    )
    return taken.length
  })
}

/** Accounts whose line shows these persons (as holder or bound family): their lines change with the persons' holdings. */
export async function accountsShowing(
  trx: Knex.Transaction,
  idNumbers: readonly string[]
): Promise<number[]> {
  if (idNumbers.length === 0) return []
  const rows: Array<{ id: number }> = await showingQuery(trx, idNumbers)
  return rows.map((row) => row.id)
}

/** The query of accountsShowing: ids, perhaps more than once. */
function showingQuery(trx: Knex.Transaction, idNumbers: readonly string[]): Knex.QueryBuilder {
  return trx('accounts')
    .whereIn('id_number', idNumbers)
    .select('id')
    .unionAll((family) => {
      void family.from('family_members').whereIn('id_number', idNumbers).select('account_id as id')
    })
}

/**
 * Maintenance (`npm run hub -- prune-removals <version>`): forget removals up to `version`; a
 * delta from before it is then answered with a full snapshot. Returns the delta floor now.
 */
export async function pruneRemovals(db: Knex, upToVersion: number): Promise<number> {
  return db.transaction(async (trx) => {
    await trx('removals').where('version', '<=', upToVersion).delete()
    await trx('hub_state')
      .where({ key: 'delta_floor' })
      .update({ value: greatestOf(trx, 'value, ?', [upToVersion]) })
    return deltaFloor(trx)
  })
}
