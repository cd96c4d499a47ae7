import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import type { ReceiptView } from '../../../core/sale'
import { systemClock } from '../../../core/time'
import { openDatabase } from '../../../db/connection'
import type { CounterRuntime } from '../../../backend/runtime'
import { HUB_DB_FILE } from '../../../hub/db/open'
import { ok, registerTerminal, syncStatus } from '../../support/sync'
import { openTestRuntime, tempDir } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import { startHub as startHubProcess } from '../../support/hub-process'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

const root = join(import.meta.dirname, '../../..')
const TUNING = { timeoutMs: 15_000, random: () => 0.5 }

/** Two sales to two accounts, as the counter makes them (with the centre refusing the upload each starts). */
async function sellTwo(runtime: CounterRuntime, clerk: CallContext): Promise<ReceiptView[]> {
  const orders = [
    { card: 'C33080001', productCode: 'QZ-HQB-2027' },
    { card: 'E21010002', productCode: 'SY-HEALTH-DEMO' }
  ]
  const receipts: ReceiptView[] = []
  for (const { card, productCode } of orders) {
    const accountId = await accountIdOf(runtime, clerk, card)
    receipts.push(
      await ok<ReceiptView>(
        commit(
          runtime,
          clerk,
          { accountId, lines: [{ insured: { relation: 'self' }, productCode, units: 1 }] },
          card
        )
      )
    )
  }
  // The upload each sale starts in the background is over before the test stages its fault.
  await runtime.sync.uploadNow().catch(() => undefined)
  return receipts
}

/** What the centre holds of these sales: each must be there exactly once, and its money taken once. */
async function centreHas(db: Knex, saleIds: readonly string[]) {
  const sales = await db('hub_sales')
    .whereIn('sale_id', saleIds)
    .select<Array<{ sale_id: string; total_fen: number }>>('sale_id', 'total_fen')
  const results = await db('item_results')
    .whereIn('item_id', saleIds)
    .select<Array<{ item_id: string; outcome: string }>>('item_id', 'outcome')
  return { sales: sales.length, accepted: results.filter((r) => r.outcome === 'accepted').length }
}

async function balanceSum(db: Knex): Promise<number> {
  const [row] = await db('accounts').sum<Array<{ total: number }>>({ total: 'balance_fen' })
  return Number(row.total)
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('a sale made while a sync is under way', () => {
  it('is uploaded as soon as that sync ends, not at the next scheduled one', async () => {
    const centre = await openTestHub()
    // The snapshot download is slow: the sync is past its upload step for a while.
    let downloading = false
    const slowSnapshot: typeof fetch = async (input, init) => {
      if (String(input).includes('/v1/snapshot')) {
        downloading = true
        await new Promise((resolve) => setTimeout(resolve, 1_500))
      }
      return fetch(input, init)
    }
    const runtime = await openTestRuntime({
      clock: centre.clock,
      syncTuning: { ...TUNING, fetch: slowSnapshot }
    })
    await registerTerminal(runtime, centre.url)
    const clerk = await onShift(runtime)
    const syncing = runtime.dispatch('sync.now', {}, clerk)
    await waitFor(() => Promise.resolve(downloading), 'the sync to reach its download')
    const sale = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: await accountIdOf(runtime, clerk, 'C33080001'),
          lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }]
        },
        'C33080001'
      )
    )
    await ok(syncing)
    // Nobody syncs again, and the schedule does not run in tests: only the follow-up upload can bring it.
    await waitFor(
      async () => (await centreHas(centre.db, [sale.saleId])).accepted === 1,
      'the sale at the centre',
      10_000
    )
    await waitFor(
      async () => (await syncStatus(runtime, clerk)).queue.count === 0,
      'the queue to empty',
      10_000
    )
  }, 60_000)
})

describe('faults between terminal and centre: every transaction reaches the centre exactly once', () => {
  it('the answer lost after the centre committed: the resend is answered "already accepted" and nothing is taken twice', async () => {
    const centre = await openTestHub()
    const runtime = await openTestRuntime({ clock: centre.clock, syncTuning: TUNING })
    await registerTerminal(runtime, centre.url)
    const clerk = await onShift(runtime)
    await ok(runtime.dispatch('sync.now', {}, clerk))
    const before = await balanceSum(centre.db)

    // The counter's own upload after each sale would race the fault: the centre is closed to it first.
    centre.faults.unavailable = 1_000
    const sales = await sellTwo(runtime, clerk)
    centre.faults.unavailable = 0
    centre.faults.dropResponseAfterCommit = 1
    expect(await runtime.dispatch('sync.now', {}, clerk)).toMatchObject({
      ok: false,
      error: { code: 'SYNC_FAILED' }
    })
    const ids = sales.map((sale) => sale.saleId)
    expect(await centreHas(centre.db, ids)).toEqual({ sales: 2, accepted: 2 })
    // Unknown here: still queued, and no longer voidable outright (the centre may have it).
    const waiting = await syncStatus(runtime, clerk)
    expect(waiting.queue.count).toBe(2)
    // Counted in 待上传, and said to be sent without an answer (待确认), as the sales' own status says.
    expect(waiting.queue.awaitingAnswer).toBe(2)
    expect((await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: ids[0] }, clerk))).status).toBe(
      'uploaded'
    )

    // The same batch again, twice over.
    await ok(runtime.dispatch('sync.now', {}, clerk))
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect(await syncStatus(runtime, clerk)).toMatchObject({
      queue: { count: 0 },
      rejectedCount: 0,
      connection: 'online'
    })
    expect(await centreHas(centre.db, ids)).toEqual({ sales: 2, accepted: 2 })
    expect(await balanceSum(centre.db)).toBe(before - sales.reduce((sum, sale) => sum + sale.totalFen, 0))
    for (const id of ids)
      expect((await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: id }, clerk))).status).toBe(
        'accepted'
      )
  }, 30_000)

  it('the centre killed while it holds a batch: after its restart every sale is there once', async () => {
    const hubDir = await tempDir('hub-process-')
    let hub = await startHubProcess(hubDir)
    try {
      const runtime = await openTestRuntime({ clock: systemClock, syncTuning: TUNING })
      await registerTerminal(runtime, hub.url)
      const clerk = await onShift(runtime)
      await ok(runtime.dispatch('sync.now', {}, clerk))
      await fetch(`${hub.url}/v1/_test/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ unavailable: 1000 })
      })
      const sales = await sellTwo(runtime, clerk)
      // The centre will settle the batch and then hold its answer; it dies while holding it.
      await fetch(`${hub.url}/v1/_test/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ unavailable: 0, delayMs: 30_000 })
      })
      const upload = runtime.dispatch('sync.now', {}, clerk)
      const hubDb = openDatabase(join(hubDir, HUB_DB_FILE))
      try {
        await waitFor(
          async () =>
            (
              await centreHas(
                hubDb,
                sales.map((s) => s.saleId)
              )
            ).sales === 2,
          'the centre to settle the batch'
        )
      } finally {
        await hubDb.destroy()
      }
      await hub.kill()
      expect(await upload).toMatchObject({ ok: false, error: { code: 'SYNC_FAILED' } })
      expect((await syncStatus(runtime, clerk)).queue.count).toBe(2)

      hub = await startHubProcess(hubDir, { port: hub.port })
      const resent = await runtime.dispatch('sync.now', {}, clerk)
      if (!resent.ok) throw new Error(`${resent.error.message}\n${hub.output()}`)
      expect(await syncStatus(runtime, clerk)).toMatchObject({ queue: { count: 0 }, rejectedCount: 0 })
      const check = openDatabase(join(hubDir, HUB_DB_FILE))
      try {
        expect(
          await centreHas(
            check,
            sales.map((s) => s.saleId)
          )
        ).toEqual({ sales: 2, accepted: 2 })
      } finally {
        await check.destroy()
      }
    } finally {
      await hub.kill()
    }
  }, 90_000)

  it('the terminal killed while waiting for the answer: after a restart the queue goes up again, and once', async () => {
    const centre = await openTestHub()
    const dataDir = await tempDir()
    let runtime = await openTestRuntime({ dataDir, clock: centre.clock, syncTuning: TUNING })
    await registerTerminal(runtime, centre.url)
    let clerk = await onShift(runtime)
    await ok(runtime.dispatch('sync.now', {}, clerk))
    centre.faults.unavailable = 1_000
    const sales = await sellTwo(runtime, clerk)
    await runtime.close()
    centre.faults.unavailable = 0
    centre.faults.delayMs = 30_000

    // `npm run cli -- sync` is the terminal here: one process (tsx as a loader), killed outright.
    const child = spawn(process.execPath, ['--import', 'tsx', 'backend/cli/main.ts', 'sync'], {
      cwd: root,
      env: { ...process.env, COUNTER_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await waitFor(
      async () =>
        (
          await centreHas(
            centre.db,
            sales.map((s) => s.saleId)
          )
        ).sales === 2,
      'the centre to receive the batch'
    ).catch((error: unknown) => {
      child.kill('SIGKILL')
      throw new Error(`${String(error)}\n${output}`)
    })
    child.kill('SIGKILL')
    await exited
    centre.faults.delayMs = 0

    runtime = await openTestRuntime({ dataDir, clock: centre.clock, syncTuning: TUNING })
    clerk = await onShift(runtime)
    expect((await syncStatus(runtime, clerk)).queue.count).toBe(2)
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect(await syncStatus(runtime, clerk)).toMatchObject({ queue: { count: 0 }, rejectedCount: 0 })
    expect(
      await centreHas(
        centre.db,
        sales.map((s) => s.saleId)
      )
    ).toEqual({ sales: 2, accepted: 2 })
  }, 90_000)
})
