import { onTestFinished } from 'vitest'
import type { CounterBridge } from '../../core/api/contract'
import { setSessionToken } from '../../renderer/src/api/client'
import { openTestRuntime, signedIn } from '../helpers'

/**
 * Installs the same kind of bridge the preload exposes, backed by the real services on a fresh
 * SQLite file: renderer tests exercise real lookups, not canned answers.
 */
export async function installRealBridge(): Promise<CounterBridge & { calls: string[] }> {
  const runtime = await openTestRuntime()
  const calls: string[] = []
  const bridge = {
    calls,
    invoke: (call: string, args: unknown, sessionToken?: string) => {
      calls.push(call)
      return runtime.dispatch(call, args, { transport: 'test', sessionToken })
    },
  }
  Object.defineProperty(window, 'counter', { value: bridge, configurable: true })
  // Signed in as the demo clerk, as the sign-in screen would leave it.
  setSessionToken((await signedIn(runtime)).sessionToken)
  onTestFinished(() => {
    Reflect.deleteProperty(window, 'counter')
    setSessionToken(undefined)
  })
  return bridge
}
