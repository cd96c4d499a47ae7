import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import { describe, expect, it } from 'vitest'
import { parseResidentId } from '../../../core/identifiers'
import { setAccountStatus } from '../../../hub/db/accounts'
import { seedSyntheticAccounts } from '../../../hub/db/seed'
import { openTestHub, register, snapshot } from '../../support/hub'

describe('hub: a synthetic population', () => {
  // How fast the centre seeds: npm run bench:sync (upload phase).
  it('inserts valid accounts, streams them page by page, and a delta among thousands is just the changed one', async () => {
    const { url, db, clock } = await openTestHub()
    await seedSyntheticAccounts(db, 6_000, { clock })
    await seedSyntheticAccounts(db, 30, { clock })
    const { token } = await register(url)

    const full = await snapshot(url, token)
    expect(full.accounts).toHaveLength(6_030 + DEMO_ACCOUNTS.length)
    expect(new Set(full.accounts.map((a) => a.accountNo)).size).toBe(full.accounts.length)
    expect(new Set(full.accounts.map((a) => a.cardNumber)).size).toBe(full.accounts.length)
    expect(new Set(full.accounts.map((a) => a.idNumber)).size).toBe(full.accounts.length)
    for (const account of full.accounts) expect(parseResidentId(account.idNumber, '2026-11-22').ok).toBe(true)

    const changed = full.accounts.find(
      (a) => a.accountNo.includes('S') && a.regionCode === '320500' && a.status === 'active'
    )
    if (!changed) throw new Error('no synthetic account')
    await setAccountStatus(db, changed.accountNo, 'suspended', clock)
    const delta = await snapshot(url, token, full.header.snapshotVersion)
    expect(delta.accounts.map((a) => [a.accountNo, a.status])).toEqual([[changed.accountNo, 'suspended']])
  })
})
