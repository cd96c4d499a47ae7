import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCardInput } from '../../../core/identifiers'
import { fixedClock } from '../../../core/time'
import { openDatabase } from '../../../db/connection'
import { migrateToLatest } from '../../../db/migrate'
import { createMigrations } from '../../../db/migrations/index'
import { sealAccount } from '../../../db/sealed-records'
import { seedDemoData } from '../../../db/seeds/demo'
import { DEMO_BUNDLE_ENVELOPES, DEMO_BUNDLE_REGIONS } from '../../../db/seeds/demo-bundles'
import { DEMO_TRUSTED_KEYS } from '../../../backend/services/rules/keys'
import { verifyBundle } from '../../../backend/services/rules/load'
import { DEMO_ACCOUNTS, DEMO_REGIONS, demoAccountNo } from '../../../db/seeds/demo-population'
import { tempDir, testCipher } from '../../support/helpers'
import type { Knex } from 'knex'

const clock = fixedClock('2026-11-22T02:30:00Z')
const cipher = testCipher()
let db: Knex | null = null

afterEach(async () => {
  await db?.destroy()
  db = null
})

async function migrated(): Promise<Knex> {
  const dir = await tempDir()
  db = openDatabase(join(dir, 'counter.sqlite3'))
  await migrateToLatest(db, { backupDir: join(dir, 'backups'), clock, migrations: createMigrations(cipher) })
  return db
}

describe('the demo population', () => {
  it('covers the six regions of the source documents', () => {
    expect(DEMO_REGIONS.map((region) => region.name)).toEqual([
      '云南省省本级',
      '西藏自治区',
      '衢州市',
      '苏州市区',
      '沈阳市',
      '上海市'
    ])
    for (const region of DEMO_REGIONS) {
      expect(
        DEMO_ACCOUNTS.some((account) => account.regionCode === region.code),
        region.name
      ).toBe(true)
    }
  })

  it('names the region of each demo bundle rightly (a first start repairs missing regions by it)', () => {
    expect(
      DEMO_BUNDLE_ENVELOPES.map((envelope) => {
        const verified = verifyBundle(envelope, DEMO_TRUSTED_KEYS)
        return verified.ok ? verified.value.bundle.region.code : verified.message
      })
    ).toEqual(DEMO_BUNDLE_REGIONS)
  })

  it('has only card and ID numbers that the counter itself accepts', () => {
    for (const account of DEMO_ACCOUNTS) {
      expect(parseCardInput(account.cardNumber, '2026-11-22'), account.cardNumber).toMatchObject({ ok: true })
      expect(parseCardInput(account.idNumber, '2026-11-22'), account.cardNumber).toMatchObject({ ok: true })
      for (const member of account.family)
        expect(parseCardInput(member.idNumber, '2026-11-22')).toMatchObject({ ok: true })
    }
  })

  it('is written whole, with its family bindings', async () => {
    const db = await migrated()
    await seedDemoData(db, clock, cipher)
    expect(await db('accounts').count({ n: '*' })).toEqual([{ n: DEMO_ACCOUNTS.length }])
    const members = DEMO_ACCOUNTS.reduce((sum, account) => sum + account.family.length, 0)
    expect(await db('family_members').count({ n: '*' })).toEqual([{ n: members }])
    expect(await db('settings').where({ key: 'data_source' }).first()).toEqual({
      key: 'data_source',
      value: 'demo'
    })
  })

  it('is written in one transaction: a failure half-way leaves nothing behind', async () => {
    const db = await migrated()
    // A pre-existing account with the last demo card number makes the last insert fail.
    const last = DEMO_ACCOUNTS[DEMO_ACCOUNTS.length - 1]
    await db('regions').insert({ code: last.regionCode, name: '占位' })
    await db('accounts').insert({
      account_no: demoAccountNo(last),
      ...sealAccount(cipher, { cardNumber: last.cardNumber, idNumber: '11010519491231002X', name: '占位' }),
      region_code: last.regionCode,
      insurance_type: 'resident',
      status: 'active',
      balance_fen: 0,
      historical_balance_fen: 0,
      balance_as_of: clock.now().toISOString(),
      updated_at: clock.now().toISOString()
    })

    await expect(seedDemoData(db, clock, cipher)).rejects.toThrow(/UNIQUE/)
    expect(await db('accounts').count({ n: '*' })).toEqual([{ n: 1 }])
    expect(await db('family_members').count({ n: '*' })).toEqual([{ n: 0 }])
    expect(await db('regions').pluck('name')).toEqual(['占位'])
    // Only the personal-data key check, written by the migration.
    expect(await db('settings').pluck('key')).toEqual(['personal_data_check'])
  })
})
