import type { Knex } from 'knex'
import { describe, expect, it, onTestFinished } from 'vitest'
import { uploadResponseSchema, type ItemResult, type SaleItem } from '../../core/sync/protocol'
import { demoIdNumber } from '../../db/seeds/demo-population'
import { openPostgres } from '../../hub/db/postgres'
import { tempDir } from '../support/helpers'
import { call, demoAccount, register, saleFor, snapshot, type RegisteredTerminal } from '../support/hub'
import { startHub, type HubProcess } from '../support/hub-process'
import { freshPostgresUrl } from '../support/postgres'

/**
 * Several centre processes on one PostgreSQL database, as a province runs them: every sale sent
 * to both at once, from many terminals, for the same account, is settled exactly once, in the
 * account's order, and never past the balance, also while one of the processes is killed.
 */

// 王磊 (Yunnan): 1,265,050 fen, of which only what is above 1,000 yuan may be spent: 1,165,050,
// so 23 sales of 500 yuan and not one more.
const CARD = 'A53000003'
const PREMIUM = 50_000
const START_BALANCE = demoAccount(CARD).balanceFen
const ALLOWED = Math.floor((START_BALANCE - 100_000) / PREMIUM)

async function twoCentres(): Promise<{ url: string; centres: HubProcess[]; db: Knex }> {
  const url = await freshPostgresUrl()
  // Started together: one migrates and seeds, the other waits for it and finds it done. The
  // insurer issues no policy meanwhile, so only the settlements' own stamps carry the balances
  // into the deltas.
  const env = { DATABASE_URL: url, HUB_POLICY_DELAY_SECONDS: '86400' }
  const centres = await Promise.all([
    startHub(await tempDir('hub-a-'), { env }),
    startHub(await tempDir('hub-b-'), { env })
  ])
  const db = openPostgres(url, 2)
  onTestFinished(async () => {
    await Promise.all(centres.map((centre) => centre.kill()))
    await db.destroy()
  })
  return { url, centres, db }
}

async function terminals(centres: readonly HubProcess[], count: number): Promise<RegisteredTerminal[]> {
  const registered: RegisteredTerminal[] = []
  for (let n = 0; n < count; n++)
    registered.push(await register(centres[n % centres.length].url, `T-PG${String(n).padStart(6, '0')}`))
  return registered
}

/** Sends the items as an upload; a centre killed meanwhile is an answer of none. */
async function sendUpload(
  centre: HubProcess,
  terminal: RegisteredTerminal,
  items: readonly SaleItem[]
): Promise<ItemResult[] | null> {
  try {
    const answer = await call(centre.url, '/v1/transactions', {
      token: terminal.token,
      body: { terminalId: terminal.terminalId, items }
    })
    if (answer.status !== 200) throw new Error(`upload: ${answer.status} ${answer.text}`)
    return (answer.json() as { results: ItemResult[] }).results
  } catch (error) {
    if (error instanceof TypeError) return null // fetch failed: the process is gone
    throw error
  }
}

async function sendAuthorization(
  centre: HubProcess,
  terminal: RegisteredTerminal,
  sale: SaleItem
): Promise<ItemResult[]> {
  const answer = await call(centre.url, '/v1/authorizations', {
    token: terminal.token,
    body: { terminalId: terminal.terminalId, saleId: sale.saleId, items: [sale] }
  })
  if (answer.status !== 200) throw new Error(`authorization: ${answer.status} ${answer.text}`)
  return uploadResponseSchema.parse(answer.json()).results
}

interface Settled {
  readonly accepted: Set<string>
  readonly balance: number
  readonly spent: number
  readonly holdings: number
  readonly results: number
}

async function settledFor(db: Knex, saleIds: readonly string[]): Promise<Settled> {
  const account = await db('accounts')
    .where({ card_number: CARD })
    .first<{ id: number; balance_fen: number }>('id', 'balance_fen')
  const accepted = await db('item_results')
    .whereIn('item_id', saleIds)
    .where({ outcome: 'accepted' })
    .pluck<string[]>('item_id')
  const [{ n: sales }] = await db('hub_sales')
    .where({ account_id: account.id })
    .count<Array<{ n: number }>>({ n: '*' })
  expect(sales).toBe(accepted.length)
  const spent = await db('spending_years')
    .where({ account_id: account.id })
    .sum<Array<{ s: number | null }>>({ s: 'spent_fen' })
  const [{ n: holdings }] = await db('holdings')
    .whereIn('sale_id', saleIds)
    .count<Array<{ n: number }>>({ n: '*' })
  const [{ n: results }] = await db('item_results')
    .whereIn('item_id', saleIds)
    .count<Array<{ n: number }>>({ n: '*' })
  return {
    accepted: new Set(accepted),
    balance: account.balance_fen,
    spent: Number(spent[0].s ?? 0),
    holdings,
    results
  }
}

/** Each terminal's sales were settled in its order: the accepted ones are the first of its list. */
function inTerminalOrder(
  byTerminal: ReadonlyArray<readonly SaleItem[]>,
  accepted: ReadonlySet<string>
): boolean {
  return byTerminal.every((sales) => {
    const flags = sales.map((sale) => accepted.has(sale.saleId))
    return flags.indexOf(false) === -1 || flags.slice(flags.indexOf(false)).every((flag) => !flag)
  })
}

describe('two centre processes on one PostgreSQL database', () => {
  it('settles each sale once and never past the balance, with every sale sent to both at once', async () => {
    const { centres, db } = await twoCentres()
    const registered = await terminals(centres, 10)
    // Four sales a terminal, 40 in all for one account that can pay 23.
    const byTerminal = registered.map((terminal) =>
      Array.from({ length: 4 }, () =>
        saleFor(CARD, [{ productCode: 'YN-JRAK', premiumFen: PREMIUM }], { terminalId: terminal.terminalId })
      )
    )
    // A terminal following the deltas while the sales settle, from either process in turn: a
    // version that committed out of order would leave it with a balance it never hears about again.
    const follower = registered[0]
    let racing = true
    let since: number | undefined
    let seen = START_BALANCE
    const follow = async (centre: HubProcess) => {
      const delta = await snapshot(centre.url, follower.token, since)
      since = delta.header.snapshotVersion
      seen = delta.accounts.find((a) => a.cardNumber === CARD)?.balanceFen ?? seen
    }
    const following = (async () => {
      for (let n = 0; racing; n++) await follow(centres[n % 2])
    })()
    // Half the terminals upload their four at once to both processes; the other half ask each
    // sale's authorization, one after the other, alternating between the processes, and also
    // upload the same sales to the other process at the same time (a terminal that timed out).
    const answers = await Promise.all(
      registered.flatMap((terminal, n) => {
        const sales = byTerminal[n]
        if (n % 2 === 0) return centres.map((centre) => sendUpload(centre, terminal, sales))
        return [
          (async () => {
            const results: ItemResult[] = []
            for (const [i, sale] of sales.entries())
              results.push(...(await sendAuthorization(centres[i % 2], terminal, sale)))
            return results
          })(),
          sendUpload(centres[(n + 1) % 2], terminal, sales)
        ]
      })
    )
    racing = false
    await following
    await follow(centres[1])
    const all = byTerminal.flat()
    const settled = await settledFor(
      db,
      all.map((sale) => sale.saleId)
    )
    expect(settled.accepted.size).toBe(ALLOWED)
    expect(settled.balance).toBe(START_BALANCE - ALLOWED * PREMIUM)
    expect(seen).toBe(settled.balance)
    expect(settled.spent).toBe(ALLOWED * PREMIUM)
    expect(settled.holdings).toBe(ALLOWED)
    expect(settled.results).toBe(all.length)
    expect(inTerminalOrder(byTerminal, settled.accepted)).toBe(true)
    // Every answer agrees with what was stored: a sale accepted once is "accepted" or "already
    // accepted" everywhere, a refused one refused everywhere, with one settlement number.
    const references = new Map<string, string>()
    for (const result of answers.flatMap((answer) => answer ?? [])) {
      if (settled.accepted.has(result.itemId)) {
        expect(['accepted', 'alreadyAccepted']).toContain(result.outcome)
        if ('reference' in result && result.reference) {
          expect(references.get(result.itemId) ?? result.reference).toBe(result.reference)
          references.set(result.itemId, result.reference)
        }
      } else expect(result.outcome).not.toMatch(/^(accepted|alreadyAccepted)$/)
    }
    expect(new Set(references.values()).size).toBe(references.size)
  }, 120_000)

  it('loses nothing and settles nothing twice when one process is killed mid-batch and started again', async () => {
    const { url, centres, db } = await twoCentres()
    const registered = await terminals(centres, 6)
    const byTerminal = registered.map((terminal) =>
      Array.from({ length: 8 }, () =>
        saleFor(CARD, [{ productCode: 'YN-JRAK', premiumFen: PREMIUM }], { terminalId: terminal.terminalId })
      )
    )
    // Everything goes to the first process, which is killed while it settles.
    const inFlight = Promise.all(
      registered.map((terminal, n) => sendUpload(centres[0], terminal, byTerminal[n]))
    )
    await new Promise((resolve) => setTimeout(resolve, 40 + Math.random() * 120))
    await centres[0].kill()
    const beforeRestart = await inFlight
    // The terminals that got no answer resend to the other process; then the killed one comes back
    // on the same database and every terminal sends its whole list once more, to it.
    await Promise.all(
      registered.map((terminal, n) =>
        beforeRestart[n] === null ? sendUpload(centres[1], terminal, byTerminal[n]) : Promise.resolve(null)
      )
    )
    const restarted = await startHub(centres[0].dataDir, { env: { DATABASE_URL: url } })
    onTestFinished(() => restarted.kill())
    const resent = await Promise.all(
      registered.map((terminal, n) => sendUpload(restarted, terminal, byTerminal[n]))
    )
    const all = byTerminal.flat()
    const settled = await settledFor(
      db,
      all.map((sale) => sale.saleId)
    )
    expect(settled.accepted.size).toBe(ALLOWED)
    expect(settled.balance).toBe(START_BALANCE - ALLOWED * PREMIUM)
    expect(settled.holdings).toBe(ALLOWED)
    expect(settled.results).toBe(all.length)
    expect(inTerminalOrder(byTerminal, settled.accepted)).toBe(true)
    // The last answers are all from what was stored: nothing settled anew.
    for (const result of resent.flatMap((answer) => answer ?? []))
      expect(result.outcome).toBe(settled.accepted.has(result.itemId) ? 'alreadyAccepted' : 'rejected')
  }, 120_000)

  it('one payer buying for four people at once, through both processes: the balance pays three', async () => {
    const { centres, db } = await twoCentres()
    const registered = await terminals(centres, 4)
    // 徐 (Quzhou) buys 惠衢保 2027 from his historical balance (350.00) for himself, his wife,
    // his son and his father at the same moment, each at another window: four persons, so nothing
    // but the lock on his account keeps the four from each seeing the whole 350.00.
    const relations = ['self', 'spouse', 'child', 'parent'] as const
    const sales = registered.map((terminal, n) =>
      saleFor('C33080001', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000, relation: relations[n] }], {
        terminalId: terminal.terminalId
      })
    )
    await Promise.all(
      registered.flatMap((terminal, n) => centres.map((centre) => sendUpload(centre, terminal, [sales[n]])))
    )
    const accepted = await db('item_results')
      .whereIn(
        'item_id',
        sales.map((sale) => sale.saleId)
      )
      .where({ outcome: 'accepted' })
      .pluck('item_id')
    expect(accepted).toHaveLength(3)
    expect(
      await db('accounts').where({ card_number: 'C33080001' }).first('balance_fen', 'historical_balance_fen')
    ).toEqual({ balance_fen: 98_000 - 30_000, historical_balance_fen: 35_000 - 30_000 })
  }, 60_000)

  it('lets two payers buying the same cover for one person at once have it once', async () => {
    const { centres, db } = await twoCentres()
    const registered = await terminals(centres, 4)
    // 周慧, bound to 徐 (C33080001) as his spouse. 惠衢保 2027 covers a person once a period, and
    // Quzhou lets an account pay for any near relative insured in the city: her mother, with an
    // account of her own, buys it for her at the same moment as her husband.
    const spouse = demoAccount('C33080001').family.find((member) => member.relation === 'spouse')
    if (!spouse) throw new Error('no spouse')
    const mother = {
      cardNumber: 'C33089901',
      idNumber: demoIdNumber('330802', '19520304', '042'),
      regionCode: '330800'
    }
    await db('accounts').insert({
      account_no: '33080033089901',
      card_number: mother.cardNumber,
      id_number: mother.idNumber,
      name: '周母',
      region_code: mother.regionCode,
      insurance_type: 'employee_retired',
      status: 'active',
      balance_fen: 500_000,
      historical_balance_fen: 500_000,
      version: 1,
      updated_at: new Date().toISOString()
    })
    const line = { productCode: 'QZ-HQB-2027', premiumFen: 10_000 }
    const sales = registered.map((terminal, n) => {
      const byHusband = saleFor('C33080001', [{ ...line, relation: 'spouse' }], {
        terminalId: terminal.terminalId
      })
      const byMother: SaleItem = {
        ...byHusband,
        payer: mother,
        lines: [{ ...byHusband.lines[0], relation: 'child' }]
      }
      return { terminal, sale: n % 2 === 0 ? byHusband : byMother }
    })
    const answers = await Promise.all(
      sales.flatMap(({ terminal, sale }) => centres.map((centre) => sendUpload(centre, terminal, [sale])))
    )
    const ids = sales.map(({ sale }) => sale.saleId)
    const accepted = await db('item_results')
      .whereIn('item_id', ids)
      .where({ outcome: 'accepted' })
      .pluck('item_id')
    expect(accepted).toHaveLength(1)
    const [{ n: covers }] = await db('holdings')
      .where({ insured_id_number: spouse.idNumber, product_code: 'QZ-HQB-2027' })
      .count<Array<{ n: number }>>({ n: '*' })
    expect(covers).toBe(1)
    const refusals = answers
      .flatMap((answer) => answer ?? [])
      .filter((result) => result.outcome === 'rejected')
    expect(new Set(refusals.map((result) => (result.outcome === 'rejected' ? result.code : '')))).toEqual(
      new Set(['DUPLICATE_COVER'])
    )
  }, 120_000)
})
