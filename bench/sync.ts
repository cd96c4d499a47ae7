/**
 * `npm run bench:sync`: how the terminal's sync copes with a large region, phase by phase.
 *
 * - import: writes a full snapshot of N synthetic accounts (default 1,000,000; `--accounts N`) to
 *   a file, streamed with the test writer in a child process, opens a fresh terminal in a
 *   temporary folder and imports the file through `importSnapshot` from a file stream (with the
 *   personal-data key, so on worker threads; `--workers 0` for the main thread only), while a
 *   simulated clerk looks a card up every 50 ms. Reports the import's time and rate, the apply
 *   transaction (the time a sale's commit would wait; swipes read on), the clerk's slowest answer, CPU and peak RSS sampled
 *   every 50 ms. `--again` then imports the same accounts as a second full snapshot.
 * - upload: see uploadPhase (`--uploads N`, default 10,000).
 * - check: the snapshot line check against the protocol's zod schema, per line.
 * - authorize: see authorizePhase (`--authorizations N`, default 300): online payment latency.
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
import { silentLogger, type LogFields } from '../backend/services/log'
import { FILE_KEY_FILE } from '../backend/services/personal-data-key'
import { pemOfRawKey, sealPinBlock } from '../backend/services/payment/pin-block'
import { openCounterRuntime, type CounterRuntime } from '../backend/runtime'
import { checkSnapshotLine } from '../backend/services/sync/snapshot/check'
import { importSnapshot } from '../backend/services/sync/snapshot/import'
import { accountLineSchema } from '../core/sync/protocol'
import { syntheticAccounts, writeSnapshotFile } from '../fixtures/snapshot-writer'
import { randomBytes } from 'node:crypto'
import { uuidv7 } from '../core/ids'
import { coverPeriodOf } from '../core/rules/cover'
import { createSalesRepository } from '../db/repositories/sales'
import { openAccount } from '../db/sealed-records'
import { openHubDatabase } from '../hub/db/open'
import { seedSyntheticAccounts } from '../hub/db/seed'
import { startHub } from '../hub/server'
import { parseRuleBundleText } from '../core/rules/bundle'

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    phases: { type: 'string', default: 'check,import,upload,authorize' },
    /** Sales paid online for the authorize phase. */
    authorizations: { type: 'string', default: '300' },
    /** Queued transactions for the upload phase. */
    uploads: { type: 'string', default: '10000' },
    /** Worker threads for hashing and sealing (default: the importer's; 0: main thread only). */
    workers: { type: 'string' },
    /** Also import a second full snapshot of the same accounts over the first (a re-import). */
    again: { type: 'boolean', default: false },
    /** Internal: write the snapshot file and exit (run in a child, so its garbage is not in the import's RSS). */
    'write-snapshot': { type: 'string' },
    version: { type: 'string', default: '1' }
  }
})
const ACCOUNTS = Number(args.accounts)
const UPLOADS = Number(args.uploads)
if (!Number.isSafeInteger(UPLOADS) || UPLOADS < 1 || UPLOADS > 1_000_000)
  throw new Error('bench: --uploads must be 1 to 1,000,000')
if (!Number.isSafeInteger(ACCOUNTS) || ACCOUNTS < 1 || ACCOUNTS >= 10_000_000)
  throw new Error('bench: --accounts must be 1 to 9,999,999')

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
async function withRssSamples<T>(
  work: () => Promise<T>
): Promise<{ value: T; samples: Array<[number, number]> }> {
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
async function withCounter<T>(
  runtime: CounterRuntime,
  work: () => Promise<T>
): Promise<{ value: T; latencies: number[] }> {
  const signIn = await runtime.dispatch(
    'auth.signIn',
    { operatorCode: '1001', pin: '111111' },
    { transport: 'test' }
  )
  if (!signIn.ok) throw new Error(`bench: sign-in failed: ${signIn.error.message}`)
  const context: CallContext = { transport: 'test', sessionToken: (signIn.value as { token: string }).token }
  const latencies: number[] = []
  let done = false
  const counter = (async () => {
    while (!done) {
      const started = performance.now()
      const result = await runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, context)
      latencies.push(performance.now() - started)
      if (!result.ok && result.error.code !== 'CARD_NOT_FOUND')
        throw new Error(`bench: lookup refused: ${result.error.message}`)
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

async function writeSnapshot(
  file: string,
  snapshotVersion: number,
  balancesAsOf: string
): Promise<{ count: number }> {
  return writeSnapshotFile(
    file,
    { snapshotVersion, full: true, regionCodes: REGION_CODES, balancesAsOf },
    syntheticAccounts(0, ACCOUNTS, REGION_CODES)
  )
}

/** The same script in a child process (tsx's loader flags included) writes the file. */
async function writeInChild(file: string, snapshotVersion: number): Promise<{ count: number; ms: number }> {
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--accounts',
      String(ACCOUNTS),
      '--write-snapshot',
      file,
      '--version',
      String(snapshotVersion)
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] }
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`bench: writing the snapshot failed (${code})`)
  return { ...(JSON.parse(output) as { count: number }), ms: performance.now() - started }
}

/** One import of `file` into `runtime`, timed, with a clerk swiping meanwhile. */
async function timedImport(runtime: CounterRuntime, personalDataKey: Buffer, file: string): Promise<Row[]> {
  // The importer logs how long staging and the apply took; the bench reads it from there.
  let imported: LogFields = {}
  const log = {
    info: (event: string, fields?: LogFields) => {
      if (event === 'snapshot_imported' && fields) imported = fields
    },
    error: (event: string, fields?: LogFields) => console.error(event, fields)
  }
  const workers = args.workers === undefined ? undefined : Number(args.workers)
  const started = performance.now()
  const cpuBefore = process.cpuUsage()
  const { value, samples } = await withRssSamples(() =>
    withCounter(runtime, () =>
      importSnapshot(
        { db: runtime.db, cipher: runtime.personalData, clock: systemClock, log, personalDataKey },
        createReadStream(file, { highWaterMark: 256 * 1024 }),
        { workers }
      )
    )
  )
  const cpu = process.cpuUsage(cpuBefore)
  const seconds = (performance.now() - started) / 1000
  const latencies = [...value.latencies].sort((a, b) => a - b)
  const stageMs = Number(imported.stageMs)
  return [
    ['accounts', n(value.value.accounts)],
    ['import', `${seconds.toFixed(1)} s`],
    ['accounts per second', n(value.value.accounts / seconds)],
    ['  reading, checking, sealing, staging', `${(stageMs / 1000).toFixed(1)} s`],
    [
      '  apply transaction (a sale commit waits; swipes do not)',
      `${(Number(imported.transactionMs) / 1000).toFixed(1)} s`
    ],
    [
      '    emptying, leaving, accounts, family+holdings, indexes, commit',
      ['replacingMs', 'leavingMs', 'accountsMs', 'familyAndHoldingsMs', 'indexesMs', 'commitMs']
        .map((key) => (Number(imported[key]) / 1000).toFixed(1))
        .join(' / ') + ' s'
    ],
    [
      '  checkpoint on a second connection',
      `${((Number(imported.applyMs) - Number(imported.transactionMs)) / 1000).toFixed(1)} s (the counter does not wait)`
    ],
    [
      'counter lookups during the import',
      `${latencies.length}, median ${latencies[latencies.length >> 1]?.toFixed(1)} ms, slowest ${latencies.at(-1)?.toFixed(0)} ms`
    ],
    ['CPU time (all threads)', `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`],
    [
      'peak RSS (sampled every 50 ms)',
      `${mb(peak(samples))}: ${mb(peak(samples, 0, stageMs))} staging, ${mb(peak(samples, stageMs))} applying`
    ]
  ]
}

const importPhase: Phase = {
  name: 'import',
  async run(context) {
    const file = join(context.dir, 'snapshot.ndjson')
    const written = await writeInChild(file, 1)
    const rows: Row[] = [
      [
        'snapshot file',
        `${mb((await stat(file)).size)} (${n(written.count)} lines, written in ${(written.ms / 1000).toFixed(1)} s)`
      ]
    ]
    const { runtime, personalDataKey } = await context.openTerminal('import')
    try {
      rows.push(...(await timedImport(runtime, personalDataKey, file)))
      if (args.again) {
        // The same accounts again as a new full snapshot: every row is rewritten, none added.
        await writeInChild(file, 2)
        rows.push(
          ['again, over the first', ''],
          ...(await timedImport(runtime, personalDataKey, file)).map(([label, value]): Row => [
            `  ${label}`,
            value
          ])
        )
      }
      return rows
    } finally {
      await runtime.close()
    }
  }
}

/**
 * upload: a reference centre (in this process, on loopback) holding `--uploads` synthetic Quzhou
 * accounts; a terminal registered with it and synced; one queued sale per account written through
 * the sales repository; then the timed part: the whole queue uploaded, in the terminal's batches,
 * settled one by one against the centre's balances, and the answers applied.
 */
const uploadPhase: Phase = {
  name: 'upload',
  async run(context) {
    const clock = systemClock
    const hubDb = await openHubDatabase(join(context.dir, 'hub'), { clock })
    const seedStarted = performance.now()
    await seedSyntheticAccounts(hubDb, UPLOADS, { clock, regionCodes: ['330800'] })
    const seedMs = performance.now() - seedStarted
    const hub = await startHub({ db: hubDb, clock, port: 0 })
    const { runtime } = await context.openTerminal('upload')
    const cli: CallContext = { transport: 'cli' }
    try {
      const { shiftId } = await registeredClerk(runtime, hub.url)
      const operator = await runtime.db('operators').where({ code: '1001' }).first<{ id: number }>('id')
      const terminalId = (
        (await runtime.dispatch('app.info', {}, cli)) as { ok: true; value: { terminalId: string } }
      ).value.terminalId

      // Setup, not measured: the queue is written without waiting for the disk on every sale.
      const parsed = parseRuleBundleText(
        await readFile(
          fileURLToPath(new URL('../bundles/sources/330800-quzhou.json', import.meta.url)),
          'utf8'
        )
      )
      if (!parsed.ok) throw new Error(parsed.message)
      const { bundle } = parsed
      const product = bundle.products.find((p) => p.code === 'QZ-HQB-2027')
      if (!product) throw new Error('bench: no QZ-HQB-2027 in the demo bundle')
      const at = clock.now().toISOString()
      const cover = coverPeriodOf(product, at)
      const sales = createSalesRepository(runtime.db, runtime.personalData)
      const accounts = await runtime
        .db('accounts')
        .where('account_no', 'like', '330800S%')
        .select<Array<{ id: number; pii: Buffer }>>('id', 'pii')
      const fileKey = await runtime.sync.centreFileKey()
      if (!fileKey) throw new Error('the registered terminal holds no centre file key')
      await runtime.db.raw('pragma synchronous = off')
      for (const account of accounts) {
        const pii = openAccount(runtime.personalData, account.pii)
        const id = uuidv7(Date.now(), randomBytes(10))
        const line = {
          lineNo: 1,
          relation: 'self',
          insuredIdNumber: pii.idNumber,
          insuredName: pii.name,
          productCode: product.code,
          units: 1,
          premiumFen: 10_000,
          coverFrom: cover.from,
          coverTo: cover.to
        }
        const payload = {
          type: 'sale',
          saleId: id,
          terminalId,
          operatorCode: '1001',
          createdAt: at,
          payer: { cardNumber: pii.cardNumber, idNumber: pii.idNumber, regionCode: '330800' },
          rules: { regionCode: '330800', version: bundle.version },
          totalFen: 10_000,
          lines: [line],
          // The synthetic cards' initial password, sealed to the centre as the pay step seals it.
          payment: { method: 'card', entry: 'swiped', pinBlock: sealPinBlock('123456', id, fileKey) }
        }
        await sales.insert({
          id,
          terminalId,
          shiftId,
          operatorId: operator.id,
          accountId: account.id,
          regionCode: '330800',
          rulesVersion: bundle.version,
          totalFen: 10_000,
          createdAt: at,
          termsAcknowledgedAt: at,
          signatureSvg: '<svg/>',
          payerProof: 'swiped',
          keyedApprovedBy: null,
          applicantMobile: null,
          lines: [
            { ...line, productName: product.name, proofSeen: false, decisionJson: '{}', instalment: null }
          ],
          outbox: { id: uuidv7(Date.now(), randomBytes(10)), payloadJson: JSON.stringify(payload) }
        })
      }
      await runtime.db.raw('pragma synchronous = full')

      const started = performance.now()
      const cpuBefore = process.cpuUsage()
      const { samples } = await withRssSamples(() => runtime.sync.uploadNow())
      const cpu = process.cpuUsage(cpuBefore)
      const seconds = (performance.now() - started) / 1000
      const byStatus = await runtime
        .db('sales')
        .groupBy('status')
        .select<Array<{ status: string; n: number }>>('status', runtime.db.raw('count(*) as n'))
      const count = (status: string) => byStatus.find((row) => row.status === status)?.n ?? 0
      return [
        ['centre seeded with synthetic accounts', `${n(UPLOADS)} in ${(seedMs / 1000).toFixed(1)} s`],
        ['queued transactions', n(accounts.length)],
        ['upload (terminal and centre in one process)', `${seconds.toFixed(1)} s`],
        ['transactions per second', n(accounts.length / seconds)],
        [
          'answers',
          `${n(count('accepted'))} accepted, ${n(count('rejected'))} rejected (the centre's own balances), ${n(count('queued') + count('uploaded'))} still queued`
        ],
        ['CPU time (both sides)', `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`],
        ['peak RSS (sampled every 50 ms)', mb(peak(samples))]
      ]
    } finally {
      await runtime.close()
      await hub.close()
      await hubDb.destroy()
    }
  }
}

/** The terminal registered with the centre for Quzhou and synced, the demo clerk signed in on a shift. */
async function registeredClerk(
  runtime: CounterRuntime,
  centreUrl: string
): Promise<{ clerk: CallContext; shiftId: number }> {
  const cli: CallContext = { transport: 'cli' }
  const must = (result: { ok: true; value: unknown } | { ok: false; error: { message: string } }) => {
    if (!result.ok) throw new Error(`bench: ${result.error.message}`)
    return result.value
  }
  must(
    await runtime.dispatch(
      'sync.register',
      { centreUrl, enrolmentCode: 'DEMO-330800', territory: '压力测试' },
      cli
    )
  )
  must(await runtime.dispatch('sync.now', {}, cli))
  const signIn = must(
    await runtime.dispatch('auth.signIn', { operatorCode: '1001', pin: '111111' }, { transport: 'test' })
  ) as { token: string }
  const clerk: CallContext = { transport: 'test', sessionToken: signIn.token }
  const shift = must(await runtime.dispatch('auth.openShift', {}, clerk)) as { id: number }
  return { clerk, shiftId: shift.id }
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

/**
 * authorize: sales paid at the counter with the centre online (`--authorizations N`, default 300,
 * one per synthetic account): sale.begin, the password sealed as the page seals it, sale.commit,
 * which writes the sale and waits for the centre's authorization. Reports what the clerk waits
 * from 确认付款 to the receipt (p50/p95/max) and the centre's own share (its settlement of the call).
 */
const authorizePhase: Phase = {
  name: 'authorize',
  async run(context) {
    const clock = systemClock
    const count = Number(args.authorizations)
    const hubDb = await openHubDatabase(join(context.dir, 'hub-authorize'), { clock })
    await seedSyntheticAccounts(hubDb, count, { clock, regionCodes: ['330800'] })
    const centreMs: number[] = []
    const hubLog = {
      info: (event: string, fields?: LogFields) => {
        if (event === 'sale_authorized' && fields) centreMs.push(Number(fields.ms))
      },
      error: (event: string, fields?: LogFields) => console.error(event, fields)
    }
    const hub = await startHub({ db: hubDb, clock, port: 0, log: hubLog })
    const { runtime } = await context.openTerminal('authorize')
    try {
      const { clerk } = await registeredClerk(runtime, hub.url)
      const accounts = await runtime
        .db('accounts')
        .where('account_no', 'like', '330800S%')
        .select<Array<{ id: number; pii: Buffer }>>('id', 'pii')
      const waits: number[] = []
      const outcomes = new Map<string, number>()
      for (const account of accounts) {
        const card = openAccount(runtime.personalData, account.pii).cardNumber
        const begun = await runtime.dispatch('sale.begin', { accountId: account.id }, clerk)
        if (!begun.ok) throw new Error(begun.error.message)
        const start = begun.value as { saleId: string; pinKey: { keyId: string; publicKey: string } | null }
        if (!start.pinKey) throw new Error('bench: no key to seal the password to')
        const pinBlock = sealPinBlock('123456', start.saleId, {
          keyId: start.pinKey.keyId,
          publicKeyPem: pemOfRawKey(start.pinKey.publicKey)
        })
        const started = performance.now()
        const sold = await runtime.dispatch(
          'sale.commit',
          {
            saleId: start.saleId,
            order: {
              accountId: account.id,
              lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }]
            },
            payment: { method: 'card', entry: 'swiped', card, pinBlock },
            termsAcknowledged: true,
            signature: { width: 300, height: 100, strokes: ['M10 50 L80 20'] }
          },
          clerk
        )
        waits.push(performance.now() - started)
        const outcome = sold.ok ? (sold.value as { status: string }).status : sold.error.code
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
      }
      const sorted = [...waits].sort((a, b) => a - b)
      const centre = [...centreMs].sort((a, b) => a - b)
      const ms = (value: number) => `${value.toFixed(1)} ms`
      return [
        ['sales paid online (one per synthetic account)', n(accounts.length)],
        ['outcomes', [...outcomes].map(([outcome, k]) => `${n(k)} ${outcome}`).join(', ')],
        [
          '确认付款 to receipt: p50 / p95 / max',
          `${ms(percentile(sorted, 50))} / ${ms(percentile(sorted, 95))} / ${ms(sorted.at(-1) ?? 0)}`
        ],
        [
          'of which the centre settling the call: p50 / p95',
          `${ms(percentile(centre, 50))} / ${ms(percentile(centre, 95))}`
        ]
      ]
    } finally {
      await runtime.close()
      await hub.close()
      await hubDb.destroy()
    }
  }
}

/**
 * check: why the import checks lines by hand rather than with the protocol's zod schema (the
 * schema stays the reference; test/unit/sync/snapshot-check.test.ts holds them to the same verdicts).
 */
const checkPhase: Phase = {
  name: 'check',
  async run() {
    const lines = [...syntheticAccounts(0, 20_000, ['330800'])].map((account) => ({
      type: 'account',
      ...account
    }))
    const perLine = (check: (value: unknown) => unknown) => {
      for (const line of lines.slice(0, 2_000)) check(line) // warm up
      const started = performance.now()
      for (const line of lines) check(line)
      return ((performance.now() - started) * 1000) / lines.length
    }
    const zodUs = perLine((value) => accountLineSchema.safeParse(value))
    const handUs = perLine(checkSnapshotLine)
    return [
      ['zod schema, per account line', `${zodUs.toFixed(2)} µs`],
      [
        'hand-written check, per account line',
        `${handUs.toFixed(2)} µs (${(zodUs / handUs).toFixed(1)}× faster)`
      ]
    ]
  }
}

const PHASES: readonly Phase[] = [checkPhase, importPhase, uploadPhase, authorizePhase]

async function main(): Promise<void> {
  if (args['write-snapshot']) {
    const written = await writeSnapshot(
      args['write-snapshot'],
      Number(args.version),
      systemClock.now().toISOString()
    )
    process.stdout.write(JSON.stringify(written))
    return
  }
  const wanted = new Set(args.phases.split(',').map((name) => name.trim()))
  const unknown = [...wanted].filter((name) => !PHASES.some((phase) => phase.name === name))
  if (unknown.length > 0)
    throw new Error(
      `bench: unknown phase ${unknown.join(', ')}; known: ${PHASES.map((p) => p.name).join(', ')}`
    )
  const dir = await mkdtemp(join(tmpdir(), 'counter-bench-sync-'))
  const context: BenchContext = {
    dir,
    async openTerminal(name) {
      const dataDir = join(dir, name)
      const runtime = await openCounterRuntime({
        dataDir,
        clock: systemClock,
        log: silentLogger,
        appVersion: 'bench'
      })
      // Outside Electron the key is a plain file beside the database (personal-data-key.ts).
      const personalDataKey = Buffer.from(
        (await readFile(join(dataDir, FILE_KEY_FILE), 'utf8')).trim(),
        'base64'
      )
      return { runtime, personalDataKey }
    }
  }
  try {
    console.log(
      `bench:sync  node ${process.version}  ${n(ACCOUNTS)} accounts  ${availableParallelism()} cores`
    )
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
