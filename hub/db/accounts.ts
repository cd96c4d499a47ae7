import type { Knex } from 'knex'
import type { EnrolmentStatus } from '../../core/cardholder'
import type { Clock } from '../../core/time'
import { nextVersion, stampAccounts } from './state'

/**
 * Changes the centre's own staff make to the population (tests and demos use them): each takes a
 * new snapshot version, so the next delta carries it.
 */

export async function setAccountStatus(
  db: Knex,
  accountNo: string,
  status: EnrolmentStatus,
  clock: Clock
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const account = await trx('accounts')
      .where({ account_no: accountNo })
      .first<{ id: number } | undefined>('id')
    if (!account) return false
    await trx('accounts').where({ account_no: accountNo }).update({ status })
    await stampAccounts(trx, [account.id], clock.now().toISOString())
    return true
  })
}

/** The account is closed here: it leaves a removal, and terminals serving its region forget it. */
export async function removeAccount(db: Knex, accountNo: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const account = await trx('accounts')
      .where({ account_no: accountNo })
      .first<{ id: number; region_code: string } | undefined>('id', 'region_code')
    if (!account) return false
    // The row first (locked by the delete), the version last: see nextVersion.
    await trx('accounts').where({ id: account.id }).delete()
    const version = await nextVersion(trx)
    await trx('removals').insert({ account_no: accountNo, region_code: account.region_code, version })
    return true
  })
}
