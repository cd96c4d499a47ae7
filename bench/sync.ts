/**
 * `npm run bench:sync`: how the terminal's sync copes with a large region, phase by phase.
 *
 * - import: writes a full snapshot of N synthetic accounts (default 1,000,000; `--accounts N`) to
 *   a file, streamed with the test writer, opens a fresh terminal in a temporary folder and imports
 *   the file through `importSnapshot` from a file stream, while a simulated counter looks a card up
 *   every 50 ms. Reports the import's time and rate, the apply transaction (the time the counter
 *   waits), the counter's slowest answer, and peak RSS sampled every 50 ms.
 *
 * `--phases import` runs only the named phases. Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { CallContext } from '../core/api/contract'
import { systemClock } from '../core/time'
import { DEMO_REGIONS } from '../db/seeds/demo-population'
import { silentLogger, type LogFields } from '../electron/services/log'
import { FILE_KEY_FILE } from '../electron/services/personal-data-key'
import { openCounterRuntime, type CounterRuntime } from '../electron/services/runtime'
import { importSnapshot } from '../electron/services/sync/snapshot-import'
import { syntheticAccounts, writeSnapshotFile } from '../test/support/snapshot-writer'

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    phases: { type: 'string', default: 'import' },
    /** Worker threads for hashing and sealing (default: the importer's; 0: main thread only). */
    workers: { type: 'string' },
    /** Internal: write the snapshot file and exit (run in a child, so its garbage is not in the import's RSS). */
    'write-snapshot': { type: 'string' },
  },
})
const ACCOUNTS = Number(args.accounts)
if (!Number.isSafeInteger(ACCOUNTS) || ACCOUNTS < 1 || ACCOUNTS >= 10_000_000) throw new Error('bench: --accounts must be 1 to 9,999,999')

type Row = readonly [label: string, value: string]

interface BenchContext {
  readonly dir: string
  /** A fresh terminal (migrated, demo data) in its own folder, with its personal-data key. */
  openTerminal(name: string): Promise<{ runtime: CounterRuntime; personalDataKey: Buffer }>
}

interface Phase {
  readonly name: string
  run(context: BenchContext): Promise<Row[]>
}

const n = (value: number) => Math.round(value).toLocaleString('en-US')
const mb = (bytes: number) => `${n(bytes / 1024 / 1024)} MB`

/** Resident set size every 50 ms (and at the end) while `work` runs: [ms since start, bytes]. */
async function withRssSamples<T>(work: () => Promise<T>): Promise<{ value: T; samples: Array<[number, number]> }> {
  const started = performance.now()
  const samples: Array<[number, number]> = []
  const sample = () => samples.push([performance.now() - started, process.memoryUsage().rss])
  sample()
  const timer = setInterval(sample, 50)
  try {
    const value = await work()
    sample()
    return { value, samples }
  } finally {
    clearInterval(timer)
  }
}

const peak = (samples: ReadonlyArray<[number, number]>, from = 0, to = Infinity) =>
  Math.max(0, ...samples.filter(([at]) => at >= from && at <= to).map(([, rss]) => rss))

/** A clerk swiping a card every 50 ms while `work` runs: how long each answer took. */
async function withCounter<T>(runtime: CounterRuntime, work: () => Promise<T>): Promise<{ value: T; latencies: number[] }> {
  const signIn = await runtime.dispatch('auth.signIn', { operatorCode: '1001', pin: '111111' }, { transport: 'test' })
  if (!signIn.ok) throw new Error(`bench: sign-in failed: ${signIn.error.message}`)
  const context: CallContext = { transport: 'test', sessionToken: (signIn.value as { token: string }).token }
  const latencies: number[] = []
  let done = false
  const counter = (async () => {
    while (!done) {
      const started = performance.now()
      const result = await runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, context)
      latencies.push(performance.now() - started)
      if (!result.ok && result.error.code !== 'CARD_NOT_FOUND') throw new Error(`bench: lookup refused: ${result.error.message}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
  try {
    return { value: await work(), latencies }
  } finally {
    done = true
    await counter
  }
}

const REGION_CODES = DEMO_REGIONS.map((region) => region.code)

async function writeSnapshot(file: string, balancesAsOf: string): Promise<{ count: number }> {
  return writeSnapshotFile(file, { snapshotVersion: 1, full: true, regionCodes: REGION_CODES, balancesAsOf }, syntheticAccounts(0, ACCOUNTS, REGION_CODES))
}

/** The same script in a child process (tsx's loader flags included) writes the file. */
async function writeInChild(file: string, balancesAsOf: string): Promise<{ count: number }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--accounts', String(ACCOUNTS), '--write-snapshot', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_BALANCES_AS_OF: balancesAsOf },
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`bench: writing the snapshot failed (${code})`)
  return JSON.parse(output) as { count: number }
}

const importPhase: Phase = {
  name: 'import',
  async run(context) {
    const file = join(context.dir, 'snapshot.ndjson')
    const balancesAsOf = systemClock.now().toISOString()
    const writeStarted = performance.now()
    const written = await writeInChild(file, balancesAsOf)
    const writeMs = performance.now() - writeStarted

    const { runtime, personalDataKey } = await context.openTerminal('import')
    try {
      // The importer logs how long staging and the apply took; the bench reads it from there.
      let imported: LogFields = {}
      const log = {
        info: (event: string, fields?: LogFields) => {
          if (event === 'snapshot_imported' && fields) imported = fields
        },
        error: (event: string, fields?: LogFields) => console.error(event, fields),
      }
      const workers = args.workers === undefined ? undefined : Number(args.workers)
      const started = performance.now()
      const cpuBefore = process.cpuUsage()
      const { value, samples } = await withRssSamples(() =>
        withCounter(runtime, () =>
          importSnapshot(
            { db: runtime.db, cipher: runtime.personalData, clock: systemClock, log, personalDataKey },
            createReadStream(file, { highWaterMark: 256 * 1024 }),
            { workers },
          ),
        ),
      )
      const cpu = process.cpuUsage(cpuBefore)
      const seconds = (performance.now() - started) / 1000
      const latencies = [...value.latencies].sort((a, b) => a - b)
      const fileBytes = (await stat(file)).size
      return [
        ['accounts', n(value.value.accounts)],
        ['snapshot file', `${mb(fileBytes)} (${n(written.count)} lines, written in ${(writeMs / 1000).toFixed(1)} s)`],
        ['import', `${seconds.toFixed(1)} s`],
        ['accounts per second', n(value.value.accounts / seconds)],
        ['  reading, checking, sealing, staging', `${(Number(imported.stageMs) / 1000).toFixed(1)} s`],
        ['  apply transaction (the counter waits)', `${(Number(imported.transactionMs) / 1000).toFixed(1)} s`],
        ['  checkpoint on a second connection', `${((Number(imported.applyMs) - Number(imported.transactionMs)) / 1000).toFixed(1)} s (the counter does not wait)`],
        ['counter lookups during the import', `${latencies.length}, median ${latencies[latencies.length >> 1]?.toFixed(1)} ms, slowest ${latencies.at(-1)?.toFixed(0)} ms`],
        ['CPU time (all threads)', `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`],
        ['peak RSS (sampled every 50 ms)', `${mb(peak(samples))}: ${mb(peak(samples, 0, Number(imported.stageMs)))} staging, ${mb(peak(samples, Number(imported.stageMs)))} applying`],
      ]
    } finally {
      await runtime.close()
    }
  },
}

const PHASES: readonly Phase[] = [importPhase]

async function main(): Promise<void> {
  if (args['write-snapshot']) {
    const written = await writeSnapshot(args['write-snapshot'], process.env.BENCH_BALANCES_AS_OF ?? systemClock.now().toISOString())
    process.stdout.write(JSON.stringify(written))
    return
  }
  const wanted = new Set(args.phases.split(',').map((name) => name.trim()))
  const unknown = [...wanted].filter((name) => !PHASES.some((phase) => phase.name === name))
  if (unknown.length > 0) throw new Error(`bench: unknown phase ${unknown.join(', ')}; known: ${PHASES.map((p) => p.name).join(', ')}`)
  const dir = await mkdtemp(join(tmpdir(), 'counter-bench-sync-'))
  const context: BenchContext = {
    dir,
    async openTerminal(name) {
      const dataDir = join(dir, name)
      const runtime = await openCounterRuntime({ dataDir, clock: systemClock, log: silentLogger, appVersion: 'bench' })
      // Outside Electron the key is a plain file beside the database (personal-data-key.ts).
      const personalDataKey = Buffer.from((await readFile(join(dataDir, FILE_KEY_FILE), 'utf8')).trim(), 'base64')
      return { runtime, personalDataKey }
    },
  }
  try {
    console.log(`bench:sync  node ${process.version}  ${n(ACCOUNTS)} accounts  ${availableParallelism()} cores`)
    for (const phase of PHASES.filter((p) => wanted.has(p.name))) {
      const rows = await phase.run(context)
      const width = Math.max(...rows.map(([label]) => label.length))
      console.log(`${phase.name}:`)
      for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
