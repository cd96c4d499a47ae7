import type { Knex } from 'knex'
import { describe, expect, it } from 'vitest'
import type { AppInfo } from '../../../core/api/contract'
import type { RecordsCheckView } from '../../../core/supervision'
import type { CounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, signedIn, tempDir } from '../../support/helpers'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'
import { openTestHub } from '../../support/hub'
import { ok, registerTerminal } from '../../support/sync'

/**
 * The audit log and the close reports cannot be edited unseen (#15): someone with the database
 * file and a SQLite shell drops the triggers and changes, re-dates, deletes or forges rows, or cuts
 * the end off; the terminal finds it at its next start and on the audit screen, and the centre
 * finds a cut tail from the heads each sync reported.
 */

/** A terminal with a day of work: sign-ins, a shift, a sale, a day close. */
async function workedTerminal(dataDir?: string): Promise<CounterRuntime> {
  const runtime = await openTestRuntime({ dataDir: dataDir ?? (await tempDir()) })
  const clerk = await onShift(runtime)
  const accountId = await accountIdOf(runtime, clerk, 'C33080001')
  const order = {
    accountId,
    lines: [{ insured: { relation: 'self' as const }, productCode: 'QZ-HQB-2027', units: 1 }]
  }
  await ok(commit(runtime, clerk, order, 'C33080001'))
  await ok(runtime.dispatch('report.closeDay', { date: '2026-11-22' }, await signedIn(runtime, 'supervisor')))
  return runtime
}

const verify = async (runtime: CounterRuntime) =>
  ok<RecordsCheckView>(runtime.dispatch('audit.verify', {}, await signedIn(runtime, 'supervisor')))

/** What an attacker with a SQLite shell does first: the append-only triggers go. */
async function dropTriggers(db: Knex): Promise<void> {
  for (const name of [
    'audit_log_immutable_update',
    'audit_log_immutable_delete',
    'close_reports_immutable_update',
    'close_reports_immutable_delete'
  ])
    await db.raw(`drop trigger ${name}`)
}

/** Edits the folder with the terminal closed, then starts it again on the same folder. */
async function tamperAndRestart(
  runtime: CounterRuntime,
  edit: (db: Knex) => Promise<void>
): Promise<CounterRuntime> {
  await dropTriggers(runtime.db)
  await edit(runtime.db)
  const dataDir = runtime.dataDir
  await runtime.close()
  return openTestRuntime({ dataDir })
}

const info = (runtime: CounterRuntime) => ok<AppInfo>(runtime.dispatch('app.info', {}, { transport: 'test' }))

describe('records that cannot be edited unseen', () => {
  it('a worked terminal checks out: both chains whole, at start and on the audit screen', async () => {
    const runtime = await workedTerminal()
    const checked = await verify(runtime)
    expect(checked.intact).toBe(true)
    expect(checked.chains.find((c) => c.chain === 'closes')).toEqual({
      chain: 'closes',
      length: 1,
      brokenAt: null
    })
    expect(checked.chains.find((c) => c.chain === 'audit')?.length).toBeGreaterThan(4)
    expect((await info(runtime)).recordsIntact).toBe(true)
  })

  it('the audit log refuses edits while its triggers stand', async () => {
    const runtime = await workedTerminal()
    await expect(runtime.db('audit_log').where({ action: 'sale' }).delete()).rejects.toThrow(/append-only/)
    await expect(runtime.db('audit_log').update({ operator_id: null })).rejects.toThrow(/append-only/)
  })

  it.each([
    [
      'a re-dated sale line',
      async (db: Knex) => {
        await db('audit_log').where({ action: 'sale' }).limit(1).update({ at: '2026-11-21T02:30:00.000Z' })
      }
    ],
    [
      'a deleted sale line',
      async (db: Knex) => {
        const first = await db('audit_log')
          .where({ action: 'sale' })
          .orderBy('id')
          .first<{ id: number }>('id')
        await db('audit_log').where({ id: first.id }).delete()
      }
    ],
    [
      'a void written in between with a made-up MAC',
      async (db: Knex) => {
        const rows = await db('audit_log').orderBy('id').select<Array<{ id: number }>>('id')
        await db('audit_log').where('id', '>', rows[1].id).delete()
        await db('audit_log').insert({
          at: '2026-11-22T02:30:00.000Z',
          operator_id: 1,
          action: 'void',
          subject: 'x',
          chain_mac: 'f'.repeat(64)
        })
      }
    ]
  ])('%s is found at the next start and shown to the supervisor', async (_what, edit) => {
    const runtime = await tamperAndRestart(await workedTerminal(), edit)
    expect((await info(runtime)).recordsIntact).toBe(false)
    const checked = await verify(runtime)
    expect(checked.intact).toBe(false)
    expect(checked.chains.find((c) => c.chain === 'audit')?.brokenAt).toMatchObject({
      position: expect.any(Number)
    })
    expect(checked.chains.find((c) => c.chain === 'closes')?.brokenAt).toBeNull()
  })

  it('a day close whose total was changed after dropping its trigger is found', async () => {
    const runtime = await tamperAndRestart(await workedTerminal(), async (db) => {
      await db('close_reports').where({ number: 1 }).update({ total_fen: 1 })
    })
    const checked = await verify(runtime)
    expect(checked.chains.find((c) => c.chain === 'closes')?.brokenAt).toEqual({
      position: 1,
      at: '2026-11-22T02:30:00.000Z'
    })
    expect(checked.intact).toBe(false)
  })

  it('a cut tail leaves a whole chain here, and the centre and the terminal both catch it at the next sync', async () => {
    const centre = await openTestHub()
    const runtime = await openTestRuntime({ clock: centre.clock, syncTuning: { random: () => 0.5 } })
    await registerTerminal(runtime, centre.url)
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const order = {
      accountId,
      lines: [{ insured: { relation: 'self' as const }, productCode: 'QZ-HQB-2027', units: 1 }]
    }
    expect(await commit(runtime, clerk, order, 'C33080001')).toMatchObject({ ok: true })
    await ok(runtime.dispatch('sync.now', {}, clerk))
    const reported = await centre
      .db('record_heads')
      .where({ chain: 'audit' })
      .first<{ length: number }>('length')
    expect(reported.length).toBe(
      await runtime
        .db('audit_log')
        .count({ n: '*' })
        .then(([r]) => Number(r.n))
    )

    // The last three lines (the sale and what followed) go; what remains is a whole, shorter chain.
    const dataDir = runtime.dataDir
    await dropTriggers(runtime.db)
    const last = await runtime.db('audit_log').orderBy('id', 'desc').limit(3).pluck('id')
    await runtime.db('audit_log').whereIn('id', last).delete()
    await runtime.close()
    const restarted = await openTestRuntime({
      dataDir,
      clock: centre.clock,
      syncTuning: { random: () => 0.5 }
    })
    expect((await info(restarted)).recordsIntact).toBe(true)

    await ok(restarted.dispatch('sync.now', {}, await signedIn(restarted, 'clerk')))
    const checked = await verify(restarted)
    expect(checked.intact).toBe(false)
    expect(checked.cutFound).toEqual([
      expect.objectContaining({ chain: 'audit', centreLength: reported.length })
    ])
    expect((await info(restarted)).recordsIntact).toBe(false)
    expect(await centre.db('record_alarms').select('chain', 'held_length')).toEqual([
      { chain: 'audit', held_length: reported.length }
    ])
    // Told once: another sync adds no second finding at either end.
    await ok(restarted.dispatch('sync.now', {}, await signedIn(restarted, 'clerk')))
    expect((await verify(restarted)).cutFound).toHaveLength(1)
    expect(await centre.db('record_alarms').count({ n: '*' })).toEqual([{ n: 1 }])
  })
})
