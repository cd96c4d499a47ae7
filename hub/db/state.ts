import type { Knex } from 'knex'
import { greatestOf, lockRowsById } from './dialect'

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

/** Accounts whose line shows these persons (as holder or bound family): their lines change with the persons' holdings. */
export async function accountsShowing(
  trx: Knex.Transaction,
  idNumbers: readonly string[]
): Promise<number[]> {
  if (idNumbers.length === 0) return []
  const rows: Array<{ id: number }> = await trx('accounts')
    .whereIn('id_number', idNumbers)
    .select('id')
    .unionAll((family) => {
      void family.from('family_members').whereIn('id_number', idNumbers).select('account_id as id')
    })
  return rows.map((row) => row.id)
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
