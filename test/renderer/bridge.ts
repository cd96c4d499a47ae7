import { defineComponent } from 'vue'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { onTestFinished } from 'vitest'
import type { CounterBridge } from '../../core/api/contract'
import type { Clock } from '../../core/time'
import type { CounterRuntime } from '../../backend/runtime'
import { setSessionToken } from '../../renderer/src/api/client'
import { openTestRuntime, signedIn } from '../support/helpers'

export interface RealBridge extends CounterBridge {
  readonly calls: string[]
  readonly runtime: CounterRuntime
  /** Until every call made so far has been answered: a test ends before the database closes under one. */
  idle(): Promise<void>
}

/**
 * Installs the same kind of bridge the preload exposes, backed by the real services on a fresh
 * SQLite file: renderer tests exercise real lookups, not canned answers. A clock or an existing
 * data folder gives a terminal at another time (near an offline limit, say).
 */
export async function installRealBridge(
  options: { clock?: Clock; dataDir?: string; role?: 'clerk' | 'agent' | 'supervisor' } = {}
): Promise<RealBridge> {
  const runtime = await openTestRuntime({ clock: options.clock, dataDir: options.dataDir })
  const calls: string[] = []
  const pending = new Set<Promise<unknown>>()
  const bridge: RealBridge = {
    calls,
    runtime,
    invoke: (call: string, args: unknown, sessionToken?: string) => {
      calls.push(call)
      // Electron's IPC copies both ways with the structured clone algorithm: a Vue proxy, a function
      // or a class instance that it cannot carry fails here as it would in the app.
      const answer = Promise.resolve()
        .then(() => runtime.dispatch(call, structuredClone(args), { transport: 'test', sessionToken }))
        .then((result) => structuredClone(result))
      pending.add(answer)
      void answer.finally(() => pending.delete(answer))
      return answer
    },
    idle: async () => {
      await Promise.allSettled([...pending])
    }
  }
  Object.defineProperty(window, 'counter', { value: bridge, configurable: true })
  // Signed in as the demo clerk (or the role asked for), as the sign-in screen would leave it.
  setSessionToken((await signedIn(runtime, options.role)).sessionToken)
  onTestFinished(() => {
    Reflect.deleteProperty(window, 'counter')
    setSessionToken(undefined)
  })
  return bridge
}

/** A router whose routes render nothing: for components that link to screens a test does not mount. */
export function blankRouter(paths: readonly string[]): Router {
  const Blank = defineComponent({ template: '<div />' })
  return createRouter({
    history: createMemoryHistory(),
    routes: paths.map((path) => ({ path, name: path.split('/')[1], component: Blank }))
  })
}
