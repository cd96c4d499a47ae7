/**
 * `npm run bench:lookup`: how fast the counter answers a swipe from the local snapshot.
 * Builds a snapshot of N synthetic accounts (default 200,000; BENCH_ACCOUNTS overrides) in a real
 * SQLite file, then looks up cards and ID numbers through the same dispatcher the UI calls.
 * Prints figures; asserts nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fixedClock } from '../core/time'
import type { PersonalDataCipher } from '../db/personal-data'
import { sealAccount } from '../db/sealed-records'
import { demoIdNumber } from '../db/seeds/demo-population'
import { silentLogger } from '../backend/services/log'
import { openCounterRuntime } from '../backend/runtime'

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 200_000)
const LOOKUPS = 20_000
const BATCH = 500

/** Time spent hashing and sealing (one seal and two hashes per account), as a snapshot import spends it. */
let sealMs = 0

function syntheticAccount(i: number, asOf: string, cipher: PersonalDataCipher) {
  const birth = `19${String(50 + (i % 50)).padStart(2, '0')}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}`
  // Area 530102 plus the index spread over the sequence and the area's last digits keeps IDs unique.
  const area = `53${String(Math.floor(i / 1000) % 10000).padStart(4, '0')}`
  const cardNumber = `S${String(i).padStart(8, '0')}`
  const idNumber = demoIdNumber(area, birth, String(i % 1000).padStart(3, '0'))
  const t0 = performance.now()
  const sealed = sealAccount(cipher, { cardNumber, idNumber, name: '合成' })
  sealMs += performance.now() - t0
  return {
    idNumber,
    row: {
      account_no: `539900${cardNumber.slice(1)}`,
      ...sealed,
      region_code: '539900',
      insurance_type: 'employee_active',
      status: 'active',
      balance_fen: 100_000 + (i % 900_000),
      historical_balance_fen: 50_000,
      balance_as_of: asOf,
      updated_at: asOf
    }
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'counter-bench-'))
  const clock = fixedClock('2026-11-22T02:30:00Z')
  try {
    const openStart = performance.now()
    const runtime = await openCounterRuntime({ dataDir, clock, log: silentLogger, appVersion: 'bench' })
    const openMs = performance.now() - openStart

    const asOf = clock.now().toISOString()
    const ids: string[] = []
    const insertStart = performance.now()
    await runtime.db.transaction(async (trx) => {
      for (let start = 0; start < ACCOUNTS; start += BATCH) {
        const rows = []
        for (let i = start; i < Math.min(start + BATCH, ACCOUNTS); i++) {
          const { row, idNumber } = syntheticAccount(i, asOf, runtime.personalData)
          if (i % 97 === 0) ids.push(idNumber)
          rows.push(row)
        }
        await trx.batchInsert('accounts', rows, BATCH)
      }
    })
    const insertMs = performance.now() - insertStart

    // Lookups are for a signed-in operator, as at the counter.
    const signIn = await runtime.dispatch(
      'auth.signIn',
      { operatorCode: '1001', pin: '111111' },
      { transport: 'test' }
    )
    if (!signIn.ok) throw new Error(`bench: sign-in failed: ${signIn.error.message}`)
    const context = { transport: 'test' as const, sessionToken: (signIn.value as { token: string }).token }

    const latencies: number[] = []
    let found = 0
    const lookupStart = performance.now()
    for (let n = 0; n < LOOKUPS; n++) {
      // Mostly card swipes, some typed ID numbers, one in ten a card the snapshot does not have.
      const input =
        n % 10 === 9
          ? `Z${String(n).padStart(8, '0')}`
          : n % 4 === 3
            ? ids[n % ids.length]
            : `S${String((n * 7919) % ACCOUNTS).padStart(8, '0')}`
      const t0 = performance.now()
      const result = await runtime.dispatch('cardholder.lookup', { input }, context)
      latencies.push(performance.now() - t0)
      if (result.ok) found++
      else if (result.error.code !== 'CARD_NOT_FOUND')
        throw new Error(`bench: lookup refused: ${result.error.message}`)
    }
    const lookupMs = performance.now() - lookupStart
    latencies.sort((a, b) => a - b)
    await runtime.close()

    const rows: Array<[string, string]> = [
      ['accounts in snapshot', ACCOUNTS.toLocaleString('en-US')],
      ['open fresh data folder (migrate + demo seed)', `${openMs.toFixed(0)} ms`],
      [
        'snapshot insert (sealed)',
        `${Math.round(ACCOUNTS / (insertMs / 1000)).toLocaleString('en-US')} accounts/s`
      ],
      ['seal + 2 hashes per account', `${((sealMs * 1000) / ACCOUNTS).toFixed(1)} µs`],
      [
        'lookups (card, ID, unknown)',
        `${LOOKUPS.toLocaleString('en-US')} (${found.toLocaleString('en-US')} found)`
      ],
      ['lookup throughput', `${Math.round(LOOKUPS / (lookupMs / 1000)).toLocaleString('en-US')} /s`],
      [
        'lookup latency p50 / p99 / max',
        `${percentile(latencies, 50).toFixed(3)} / ${percentile(latencies, 99).toFixed(3)} / ${latencies[latencies.length - 1].toFixed(3)} ms`
      ],
      ['peak RSS', `${Math.round(process.resourceUsage().maxRSS / 1024)} MB`]
    ]
    const width = Math.max(...rows.map(([label]) => label.length))
    console.log(`bench:lookup  node ${process.version}`)
    for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}

void main()
