import type { Knex } from 'knex'
import type { Clock } from '../../core/time'
import { DEMO_ACCOUNTS, DEMO_REGIONS } from './demo-population'

/** Writes the demo population in one transaction: all of it or, on any failure, none. */
export async function seedDemoData(db: Knex, clock: Clock): Promise<void> {
  const now = clock.now().toISOString()
  await db.transaction(async (trx) => {
    await trx('regions').insert(DEMO_REGIONS.map(({ code, name }) => ({ code, name }))).onConflict('code').merge()
    for (const account of DEMO_ACCOUNTS) {
      const [{ id }] = await trx('accounts')
        .insert({
          card_number: account.cardNumber,
          id_number: account.idNumber,
          name: account.name,
          region_code: account.regionCode,
          insurance_type: account.insuranceType,
          status: account.status,
          balance_fen: account.balanceFen,
          historical_balance_fen: account.historicalBalanceFen,
          fitness_card_transfers_fen: account.fitnessCardTransfersFen ?? 0,
          balance_as_of: now,
          updated_at: now,
        })
        .returning<Array<{ id: number }>>('id')
      for (const member of account.family) {
        await trx('family_members').insert({
          account_id: id,
          id_number: member.idNumber,
          name: member.name,
          relation: member.relation,
          bound_at: now,
        })
      }
    }
    await trx('settings').insert({ key: 'data_source', value: 'demo' }).onConflict('key').merge()
  })
}
