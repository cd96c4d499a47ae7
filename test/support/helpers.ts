import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import type { CallContext } from '../../core/api/contract'
import { fixedClock, type Clock } from '../../core/time'
import { createPersonalDataCipher, type PersonalDataCipher } from '../../db/personal-data'
import { DEMO_OPERATORS } from '../../db/seeds/demo-population'
import { createLogger, type Logger } from '../../backend/services/log'
import { openCounterRuntime, type CounterRuntime, type RuntimeOptions } from '../../backend/runtime'

/** A fresh folder per test, removed afterwards: tests use real SQLite files, never a mocked database. */
export async function tempDir(prefix = 'counter-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  onTestFinished(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

/** A logger that keeps its lines, so a test can assert what was (not) logged. */
export function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = []
  return Object.assign(
    createLogger((line) => lines.push(line)),
    { lines }
  )
}

export const TEST_NOW = '2026-11-22T02:30:00.000Z'

/** A personal-data cipher under a fixed test key, for tests that build a database without the runtime. */
export function testCipher(): PersonalDataCipher {
  return createPersonalDataCipher(Buffer.alloc(32, 7))
}

/** The whole service stack on a new data folder, with a fixed clock; closed after the test. */
export async function openTestRuntime(
  options: { clock?: Clock; log?: Logger; dataDir?: string; syncTuning?: RuntimeOptions['syncTuning'] } = {}
): Promise<CounterRuntime> {
  const runtime = await openCounterRuntime({
    dataDir: options.dataDir ?? (await tempDir()),
    clock: options.clock ?? fixedClock(TEST_NOW),
    log: options.log ?? recordingLogger(),
    appVersion: '0.0.0-test',
    syncTuning: options.syncTuning
  })
  onTestFinished(async () => {
    await runtime.close()
  })
  return runtime
}

/** Signs a demo operator in (clerk by default) and returns the context to call as them. */
export async function signedIn(
  runtime: CounterRuntime,
  role: 'clerk' | 'agent' | 'supervisor' = 'clerk'
): Promise<CallContext> {
  const operator = DEMO_OPERATORS.find((o) => o.role === role)
  if (!operator) throw new Error(`no demo ${role}`)
  const result = await runtime.dispatch(
    'auth.signIn',
    { operatorCode: operator.code, pin: operator.pin },
    { transport: 'test' }
  )
  if (!result.ok) throw new Error(result.error.message)
  return { transport: 'test', sessionToken: (result.value as { token: string }).token }
}
