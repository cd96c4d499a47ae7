import { openTestHub } from './hub'
import { openTestRuntime } from './helpers'
import { onShift } from './sale-fixtures'
import { ok, registerTerminal } from './sync'

/**
 * A fresh reference centre and a terminal registered with it and synced once, on the centre's
 * clock, with a clerk on shift: the setup of every test of what happens after an online sale.
 */
export async function onlineTerminal() {
  const centre = await openTestHub()
  const runtime = await openTestRuntime({
    clock: centre.clock,
    syncTuning: { timeoutMs: 5_000, random: () => 0.5 }
  })
  await registerTerminal(runtime, centre.url)
  const clerk = await onShift(runtime)
  await ok(runtime.dispatch('sync.now', {}, clerk))
  return { centre, runtime, clerk }
}
