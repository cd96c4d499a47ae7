import type { Knex } from 'knex'
import type { Clock } from '../../core/time'
import type { PersonalDataCipher } from '../personal-data'
import { sealAccount, sealPerson } from '../sealed-records'
import { DEMO_ACCOUNTS, DEMO_REGIONS, demoAccountNo } from './demo-population'

/** Writes the demo population in one transaction: all of it or, on any failure, none. Personal data is sealed. */
export async function seedDemoData(db: Knex, clock: Clock, cipher: PersonalDataCipher): Promise<void> {
  const now = clock.now().toISOString()
  await db.transaction(async (trx) => {
    await trx('regions')
      .insert(DEMO_REGIONS.map(({ code, name }) => ({ code, name })))
      .onConflict('code')
      .merge()
    for (const account of DEMO_ACCOUNTS) {
      const [{ id }] = await trx('accounts')
        .insert({
          account_no: demoAccountNo(account),
          ...sealAccount(cipher, account),
          region_code: account.regionCode,
          insurance_type: account.insuranceType,
          status: account.status,
          balance_fen: account.balanceFen,
          historical_balance_fen: account.historicalBalanceFen,
          spent_this_year_fen: 0,
          fitness_card_transfers_fen: account.fitnessCardTransfersFen ?? 0,
          balance_as_of: now,
          updated_at: now
        })
        .returning<Array<{ id: number }>>('id')
      for (const member of account.family) {
        await trx('family_members').insert({
          account_id: id,
          ...sealPerson(cipher, member),
          relation: member.relation,
          bound_at: now
        })
      }
    }
    await trx('settings').insert({ key: 'data_source', value: 'demo' }).onConflict('key').merge()
  })
}
