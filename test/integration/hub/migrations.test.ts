import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../../db/connection'
import { migrateToLatest } from '../../../db/migrate'
import { HUB_DB_FILE } from '../../../hub/db/open'
import { hubMigrations } from '../../../hub/db/migrations/index'
import { tempDir } from '../../support/helpers'
import { testClock } from '../../support/hub'

/** The reference centre's migrations that rebuild a table keep what was in it. */
describe('hub migrations', () => {
  it('hub_0008_cancellations: every stored result stays, with its rowid (settlement numbers are made from it)', async () => {
    const dir = await tempDir('hub-migrate-')
    const clock = testClock()
    const db = openDatabase(join(dir, HUB_DB_FILE))
    try {
      const upTo = hubMigrations.findIndex((m) => m.name === 'hub_0008_cancellations')
      await migrateToLatest(db, {
        backupDir: join(dir, 'b'),
        clock,
        migrations: hubMigrations.slice(0, upTo)
      })
      for (const [n, type] of [
        [1, 'sale'],
        [2, 'reversal'],
        [3, 'sale']
      ] as const)
        await db('item_results').insert({
          item_id: `01a24b91-7afb-7ee1-9fdc-48bfcc7ac4a${n}`,
          terminal_id: 'T-TEST0001',
          type,
          outcome: 'accepted',
          settled_at: clock.now().toISOString(),
          content_sha256: '0'.repeat(64),
          reference: `ZX2026112200000${n}`
        })
      await db('item_results').where({ item_id: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4a2' }).delete()
      const before = await db.raw('select rowid, * from item_results order by rowid')
      await migrateToLatest(db, { backupDir: join(dir, 'b'), clock, migrations: hubMigrations })
      expect(await db.raw('select rowid, * from item_results order by rowid')).toEqual(before)
      await db('item_results').insert({
        item_id: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4b1',
        terminal_id: 'T-TEST0001',
        type: 'cancellation',
        outcome: 'accepted',
        settled_at: clock.now().toISOString(),
        content_sha256: '0'.repeat(64)
      })
      await expect(
        db('item_results').insert({
          item_id: '01a24b91-7afb-7ee1-9fdc-48bfcc7ac4b2',
          terminal_id: 'T-TEST0001',
          type: 'refund',
          outcome: 'accepted',
          settled_at: clock.now().toISOString(),
          content_sha256: '0'.repeat(64)
        })
      ).rejects.toThrow(/CHECK/)
    } finally {
      await db.destroy()
    }
  })
})
