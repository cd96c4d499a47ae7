import { describe, expect, it } from 'vitest'
import { stampPending } from '../../../hub/db/state'
import { createBundleCache } from '../../../hub/rules'
import { AccountLineCache, writeSnapshot } from '../../../hub/snapshot'
import { openTestHub, parseSnapshot, register, saleFor, upload } from '../../support/hub'

const QUZHOU = 'C33080001'

describe('hub: account lines shared by the terminals following a region', () => {
  it('builds a line once for every terminal, again once its account changes or the line is a minute old', async () => {
    const { url, db, clock } = await openTestHub()
    const { token, terminalId } = await register(url)
    const cache = new AccountLineCache()
    const bundles = createBundleCache()
    // The queries that build lines: a page's family, and the holdings of its persons and payers.
    const built: unknown[][] = []
    let taking = false
    db.on('query', (query: { sql: string; bindings?: unknown[] }) => {
      if (taking && /family_members/.test(query.sql)) built.push(query.bindings ?? [])
    })
    const take = async () => {
      await stampPending(db, clock.now().toISOString())
      let text = ''
      taking = true
      await writeSnapshot(
        db,
        {
          regionCodes: ['330800'],
          since: null,
          regionsSinceVersion: 0,
          clock,
          bundles,
          protocol: 2,
          lineCache: cache
        },
        async (chunk) => void (text += chunk)
      )
      taking = false
      return parseSnapshot(text).accounts
    }
    const lineOf = (accounts: Awaited<ReturnType<typeof take>>) =>
      accounts.find((a) => a.cardNumber === QUZHOU)

    const first = await take()
    expect(first.length).toBeGreaterThan(1)
    expect(built).toHaveLength(1)
    // The next terminal gets the same lines, none built again.
    expect(await take()).toEqual(first)
    expect(built).toHaveLength(1)

    // A sale: its account's line is built again (new balance, new holding), and only that one.
    const [settled] = await upload(url, token, terminalId, [
      saleFor(QUZHOU, [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }])
    ])
    expect(settled.outcome).toBe('accepted')
    const afterSale = await take()
    expect(lineOf(afterSale)?.balanceFen).toBe((lineOf(first)?.balanceFen ?? 0) - 10_000)
    expect(lineOf(afterSale)?.holdings.map((h) => h.productCode)).toContain('QZ-HQB-2027')
    expect(afterSale.filter((a) => a.cardNumber !== QUZHOU)).toEqual(
      first.filter((a) => a.cardNumber !== QUZHOU)
    )
    expect(built).toHaveLength(2)
    expect(built[1]).toHaveLength(1)

    // A minute on, every line is built afresh: a line also depends on the time (ended cover drops out).
    clock.advance(61_000)
    expect(await take()).toEqual(afterSale)
    expect(built).toHaveLength(3)
    expect(built[2]).toHaveLength(first.length)
  })

  it('holds at most its number of lines, the oldest going first', () => {
    const cache = new AccountLineCache(2, 60_000)
    cache.set('2:1', 'row 1', 'line 1', 0)
    cache.set('2:2', 'row 2', 'line 2', 0)
    expect(cache.get('2:1', 'row 1', 0)).toBe('line 1')
    cache.set('2:3', 'row 3', 'line 3', 0)
    expect(cache.size).toBe(2)
    expect(cache.get('2:1', 'row 1', 0)).toBeUndefined()
    expect(cache.get('2:3', 'row 3', 0)).toBe('line 3')
    // Another row for the same account (a new balance, a new version) is not its line.
    expect(cache.get('2:3', 'row 3 changed', 0)).toBeUndefined()
  })
})
