import { expect } from 'vitest'
import type { CallContext } from '../../core/api/contract'
import type { SyncStatusView } from '../../core/sync/status'
import type { CounterRuntime } from '../../backend/runtime'
import { signedIn } from './helpers'

type Answer = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }

/** The value of a call that must succeed; its code and message when it does not. */
export async function ok<T>(promise: Promise<Answer>): Promise<T> {
  const result = await promise
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value as T
}

/**
 * A supervisor registers the terminal with the centre, with the demo code for every region, and
 * the sync registration starts is let finish: what a test does next is not raced by it.
 */
export async function registerTerminal(
  runtime: CounterRuntime,
  centreUrl: string,
  territory = '柯城区医保服务大厅 2 号窗口'
): Promise<void> {
  const supervisor = await signedIn(runtime, 'supervisor')
  await ok(runtime.dispatch('sync.register', { centreUrl, enrolmentCode: 'DEMO-ALL', territory }, supervisor))
  await expect
    .poll(async () => (await ok<SyncStatusView>(runtime.dispatch('sync.status', {}, supervisor))).busy, {
      timeout: 15_000,
      interval: 50
    })
    .toBe(false)
}

export const syncStatus = (runtime: CounterRuntime, as: CallContext) =>
  ok<SyncStatusView>(runtime.dispatch('sync.status', {}, as))
