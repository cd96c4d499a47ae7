import { describe, expect, it } from 'vitest'
import type { AppInfo } from '../../../core/api/contract'
import { openTestRuntime } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import { ok, registerTerminal } from '../../support/sync'

/**
 * Registering syncs at once (#16): the terminal works from the centre's rules and accounts within
 * seconds, not after the five-minute schedule, and the header's 演示数据 goes when it does.
 */
describe('right after registration', () => {
  it('the first sync runs at once, and the terminal stops saying it shows demo data', async () => {
    const centre = await openTestHub()
    // The schedule would not sync for an hour: only registration itself can have started this one.
    const runtime = await openTestRuntime({
      clock: centre.clock,
      syncTuning: { intervalMs: 3_600_000, random: () => 0.5 }
    })
    const info = () => ok<AppInfo>(runtime.dispatch('app.info', {}, { transport: 'test' }))
    expect(await info()).toMatchObject({ demoData: true, trust: { demoKey: true } })
    await registerTerminal(runtime, centre.url)
    await expect.poll(async () => (await info()).demoData, { timeout: 10_000, interval: 100 }).toBe(false)
    // Still a demo folder: it trusts the demo key the demo centre signs with.
    expect((await info()).trust.demoKey).toBe(true)
    expect(await runtime.db('snapshot_state').first('version')).toMatchObject({ version: expect.any(Number) })
  })
})
