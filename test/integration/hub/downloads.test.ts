import { describe, expect, it } from 'vitest'
import { rulesResponseSchema } from '../../../core/sync/protocol'
import { DEMO_TRUSTED_KEYS } from '../../../backend/services/rules/keys'
import { verifyBundle } from '../../../backend/services/rules/load'
import { removeAccount, setAccountStatus } from '../../../hub/db/accounts'
import { pruneRemovals } from '../../../hub/db/state'
import { createBundleCache, withdrawRules } from '../../../hub/rules'
import { newBatchOrder, settleItems } from '../../../hub/settle'
import { writeSnapshot } from '../../../hub/snapshot'
import { silentLogger } from '../../../backend/services/log'
import { snapshotReaderFor } from '../../../hub/db/open'
import { findTerminal } from '../../../hub/terminals'
import {
  call,
  demoAccount,
  openTestHub,
  parseSnapshot,
  register,
  saleFor,
  snapshot,
  upload
} from '../../support/hub'

describe('hub: rules', () => {
  it('serves the signed envelope with its tag, 304 for the tag the terminal holds', async () => {
    const { url } = await openTestHub()
    const { token } = await register(url)
    const answer = await call(url, '/v1/rules?region=330800', { token })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('etag')).toBe('"330800-v2"')
    const verified = verifyBundle(rulesResponseSchema.parse(answer.json()).envelope, DEMO_TRUSTED_KEYS)
    expect(verified.ok && verified.value.bundle.region.code).toBe('330800')

    const unchanged = await call(url, '/v1/rules?region=330800', {
      token,
      headers: { 'if-none-match': '"330800-v2"' }
    })
    expect(unchanged.status).toBe(304)
    expect(unchanged.text).toBe('')
    expect(
      (await call(url, '/v1/rules?region=330800', { token, headers: { 'if-none-match': '"330800-v0"' } }))
        .status
    ).toBe(200)
  })

  it('refuses a region that is not the terminal’s (403), a malformed one (400), and has none once withdrawn (404)', async () => {
    const { url, db, clock } = await openTestHub()
    const { token } = await register(url, 'T-TIBET001', 'DEMO-540000')
    const other = await call(url, '/v1/rules?region=330800', { token })
    expect(other.status).toBe(403)
    expect(other.error()).toEqual({ code: 'FORBIDDEN', message: expect.stringContaining('330800') })
    expect((await call(url, '/v1/rules?region=54', { token })).error().code).toBe('BAD_REQUEST')

    await withdrawRules(db, '540000', 2, '测试', clock)
    // The format-1 version is still there, and a terminal of protocol 2 reads it too.
    expect((await call(url, '/v1/rules?region=540000', { token })).headers.get('etag')).toBe('"540000-v1"')
    await withdrawRules(db, '540000', 1, '测试', clock)
    const gone = await call(url, '/v1/rules?region=540000', { token })
    expect(gone.status).toBe(404)
    expect(gone.error().code).toBe('NOT_FOUND')
  })
})

describe('hub: snapshot', () => {
  it('streams a full snapshot of the terminal’s regions: header, accounts with family, end line with count and digest', async () => {
    const { url } = await openTestHub()
    const { token } = await register(url, 'T-TIBET001', 'DEMO-540000')
    const answer = await call(url, '/v1/snapshot', { token })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
    const full = parseSnapshot(answer.text)
    expect(full.header).toMatchObject({
      full: true,
      baseVersion: null,
      regionCodes: ['540000'],
      balancesAsOf: '2026-11-22T02:30:00.000Z'
    })
    expect(full.accounts.map((a) => a.cardNumber).sort()).toEqual(['B54000001', 'B54000002', 'B54000003'])
    expect(full.end.count).toBe(3)
    const tenzin = full.accounts.find((a) => a.cardNumber === 'B54000001')
    expect(tenzin).toMatchObject({
      accountNo: '54000054000001',
      balanceFen: 320_000,
      historicalBalanceFen: 200_000,
      spentThisSettlementYearFen: 0,
      holdings: []
    })
    expect(tenzin?.family.map((m) => m.relation)).toEqual(['spouse', 'child'])
    expect(full.accounts.find((a) => a.cardNumber === 'B54000003')?.status).toBe('suspended')
  })

  it('a delta after a settlement carries only the changed account, with the new balance, spending and holdings', async () => {
    const { url } = await openTestHub()
    const terminal = await register(url, 'T-QUZHOU01', 'DEMO-330800')
    const before = await snapshot(url, terminal.token)
    const sale = saleFor(
      'C33080001',
      [
        { productCode: 'QZ-HQB-2027', premiumFen: 10_000 },
        { relation: 'spouse', productCode: 'QZ-HQB-2027', premiumFen: 10_000 }
      ],
      { terminalId: 'T-QUZHOU01' }
    )
    expect((await upload(url, terminal.token, 'T-QUZHOU01', [sale]))[0].outcome).toBe('accepted')

    const delta = await snapshot(url, terminal.token, before.header.snapshotVersion)
    expect(delta.header).toMatchObject({ full: false, baseVersion: before.header.snapshotVersion })
    expect(delta.header.snapshotVersion).toBeGreaterThan(before.header.snapshotVersion)
    expect(delta.accounts).toHaveLength(1)
    const account = delta.accounts[0]
    expect(account).toMatchObject({
      cardNumber: 'C33080001',
      balanceFen: 98_000 - 20_000,
      historicalBalanceFen: 35_000 - 20_000,
      spentThisSettlementYearFen: 20_000
    })
    const covered = account.holdings.map((h) => h.idNumber)
    expect(covered).toEqual([demoAccount('C33080001').idNumber, sale.lines[1].insuredIdNumber])
    expect(account.holdings[0]).toMatchObject({
      productCode: 'QZ-HQB-2027',
      coverFrom: '2026-12-31T16:00:00.000Z',
      coverTo: '2027-12-31T16:00:00.000Z'
    })

    // Nothing since: an empty delta, still with its end line.
    const nothing = await snapshot(url, terminal.token, delta.header.snapshotVersion)
    expect(nothing.header).toMatchObject({ full: false, snapshotVersion: delta.header.snapshotVersion })
    expect(nothing.end.count).toBe(0)
  })

  it('a delta carries status changes and removed accounts; a version the centre cannot serve as a delta gets a full snapshot', async () => {
    const { url, db, clock } = await openTestHub()
    const terminal = await register(url, 'T-YUNNAN01', 'DEMO-539900')
    const base = (await snapshot(url, terminal.token)).header.snapshotVersion
    await setAccountStatus(db, demoAccount('A53000002').accountNo, 'suspended', clock)
    await removeAccount(db, demoAccount('A53000003').accountNo)
    // An account in another region changes too: not this terminal's business.
    await setAccountStatus(db, demoAccount('C33080002').accountNo, 'suspended', clock)

    const delta = await snapshot(url, terminal.token, base)
    expect(delta.accounts.map((a) => [a.cardNumber, a.status])).toEqual([['A53000002', 'suspended']])
    expect(delta.removed).toEqual([demoAccount('A53000003').accountNo])
    expect(delta.end.count).toBe(2)

    // From the future (the centre's data was reset) or from before the terminal's regions changed: full.
    const future = await snapshot(url, terminal.token, delta.header.snapshotVersion + 100)
    expect(future.header).toMatchObject({ full: true, baseVersion: null })
    expect(future.accounts).toHaveLength(3)
    const widened = await register(url, 'T-YUNNAN01', 'DEMO-ALL')
    const afterWidening = await snapshot(url, widened.token, delta.header.snapshotVersion)
    expect(afterWidening.header.full).toBe(true)
    expect(afterWidening.accounts).toHaveLength(15)
    expect((await call(url, '/v1/snapshot?since=abc', { token: widened.token })).error().code).toBe(
      'BAD_REQUEST'
    )
  })

  it('answers a delta from before the removals it has forgotten (prune-removals) with a full snapshot', async () => {
    const { url, db } = await openTestHub()
    const terminal = await register(url, 'T-YUNNAN01', 'DEMO-539900')
    const base = (await snapshot(url, terminal.token)).header.snapshotVersion
    await removeAccount(db, demoAccount('A53000003').accountNo)
    const withRemoval = await snapshot(url, terminal.token, base)
    expect(withRemoval.header).toMatchObject({ full: false, baseVersion: base })
    expect(withRemoval.removed).toEqual([demoAccount('A53000003').accountNo])

    // The removal is forgotten: a delta from before it could no longer say the account left.
    expect(await pruneRemovals(db, withRemoval.header.snapshotVersion)).toBe(
      withRemoval.header.snapshotVersion
    )
    expect(await db('removals').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 0 }])
    const fromBefore = await snapshot(url, terminal.token, base)
    expect(fromBefore.header).toMatchObject({ full: true, baseVersion: null })
    expect(fromBefore.accounts.map((a) => a.cardNumber)).not.toContain('A53000003')
    // From the floor on, deltas are served again.
    const fromFloor = await snapshot(url, terminal.token, withRemoval.header.snapshotVersion)
    expect(fromFloor.header).toMatchObject({ full: false, baseVersion: withRemoval.header.snapshotVersion })
    // The floor only rises.
    expect(await pruneRemovals(db, base)).toBe(withRemoval.header.snapshotVersion)
  })

  it('is one consistent version while a settlement commits in the middle of the stream', async () => {
    const { url, db, clock } = await openTestHub()
    const registered = await register(url, 'T-YUNNAN01', 'DEMO-539900')
    const terminal = await findTerminal(db, 'T-YUNNAN01')
    if (!terminal) throw new Error('not registered')
    const { reader, own } = snapshotReaderFor(db)
    const bundles = createBundleCache()
    let text = ''
    let settled = false
    // Two accounts a page; after the first page the writer settles a sale for the last account.
    const written = await writeSnapshot(
      reader,
      {
        regionCodes: ['539900'],
        since: null,
        regionsSinceVersion: 0,
        clock,
        bundles,
        pageSize: 2,
        protocol: 2
      },
      async (chunk) => {
        text += chunk
        if (!settled && chunk.includes('"type":"account"')) {
          settled = true
          const sale = saleFor('A53000003', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
            terminalId: 'T-YUNNAN01'
          })
          const [result] = await settleItems(
            db,
            { terminal, clock, bundles, isLocked: () => false, log: silentLogger },
            [sale],
            newBatchOrder()
          )
          expect(result.outcome).toBe('accepted')
        }
      }
    )
    if (own) await reader.destroy()
    const parsed = parseSnapshot(text)
    expect(parsed.header.snapshotVersion).toBe(written.header.snapshotVersion)
    expect(parsed.accounts.find((a) => a.cardNumber === 'A53000003')?.balanceFen).toBe(1_265_050)
    // The sale is in the next delta, not lost between the two.
    const delta = await snapshot(url, registered.token, parsed.header.snapshotVersion)
    expect(delta.accounts.map((a) => [a.cardNumber, a.balanceFen])).toEqual([
      ['A53000003', 1_265_050 - 50_000]
    ])
  })
})
