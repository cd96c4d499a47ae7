import { onTestFinished } from 'vitest'
import type { CounterBridge } from '../../core/api/contract'
import { openTestRuntime } from '../helpers'

/**
 * Installs the same kind of bridge the preload exposes, backed by the real services on a fresh
 * SQLite file: renderer tests exercise real lookups, not canned answers.
 */
export async function installRealBridge(): Promise<CounterBridge & { calls: string[] }> {
  const runtime = await openTestRuntime()
  const calls: string[] = []
  const bridge = {
    calls,
    invoke: (call: string, args: unknown) => {
      calls.push(call)
      return runtime.dispatch(call, args, { transport: 'test' })
    },
  }
  Object.defineProperty(window, 'counter', { value: bridge, configurable: true })
  onTestFinished(() => {
    Reflect.deleteProperty(window, 'counter')
  })
  return bridge
}
