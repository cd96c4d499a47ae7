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

/** A supervisor registers the terminal with the centre, with the demo code for every region. */
export async function registerTerminal(
  runtime: CounterRuntime,
  centreUrl: string,
  territory = '柯城区医保服务大厅 2 号窗口'
): Promise<void> {
  await ok(
    runtime.dispatch(
      'sync.register',
      { centreUrl, enrolmentCode: 'DEMO-ALL', territory },
      await signedIn(runtime, 'supervisor')
    )
  )
}

export const syncStatus = (runtime: CounterRuntime, as: CallContext) =>
  ok<SyncStatusView>(runtime.dispatch('sync.status', {}, as))
