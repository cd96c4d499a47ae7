/**
 * `npm run bench:centre`: the centre at province scale, on PostgreSQL (`--database-url`, default
 * the local server's database `test`; each run in a schema of its own, dropped after). Phases:
 *
 * - settle: two centre processes on one database; `--terminals` (200) simulated terminals upload
 *   `--sales` (100,000) sales in all, concurrently, in batches of 100 as a terminal does, while ten
 *   more terminals ask `--authorization-rate` (50) online authorizations a second between them, on
 *   time as customers pay (0: one after another, each terminal waiting for its last answer), and
 *   `--followers` (10) follow the deltas of the region, each asking again a second after its last
 *   delta. The centre starts in its second year (each account holds last year's policy). Reports settlements per
 *   second, the authorization's p50/p95 under that load, delta snapshots served, each process's
 *   peak memory, where the machine's CPU went, and checks every sale was settled exactly once.
 * - compare: the 10,000-sale upload of `bench:sync` from one terminal to one centre process, on
 *   SQLite and on PostgreSQL: sales per second, CPU per sale, and where the centre's CPU goes
 *   (its `--cpu-prof`, self time by module).
 * - import: a `--rows` (1,000,000) row account export (CSV) into PostgreSQL through
 *   `npm run hub -- import-accounts`: time and peak memory; then the same file again (no changes).
 *
 * `--phases settle,compare` runs only those. Prints figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { Knex } from 'knex'
import { uuidv7 } from '../core/ids'
import { coverPeriodOf } from '../core/rules/cover'
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  registrationResponseSchema,
  uploadResponseSchema,
  type ItemResult,
  type SaleItem
} from '../core/sync/protocol'
import { systemClock } from '../core/time'
import { sealPinBlock } from '../backend/shared'
import { DEMO_TRUSTED_KEYS } from '../backend/services/rules/keys'
import { verifyBundle } from '../backend/services/rules/load'
import { newTerminalFileKey } from '../backend/services/sync/files/file-crypto'
import { DEMO_BUNDLE_ENVELOPES } from '../db/seeds/demo-bundles'
import { DEMO_CENTRE_FILE_KEY } from '../db/seeds/demo-centre-file-key'
import { ACCOUNT_EXPORT_COLUMNS } from '../hub/accounts-import'
import { openHubDatabase } from '../hub/db/open'
import { openPostgres } from '../hub/db/postgres'
import { addEnrolmentCode, seedSyntheticAccounts, syntheticAccount } from '../hub/db/seed'
import { generateKeyPairSync } from 'node:crypto'

const root = fileURLToPath(new URL('..', import.meta.url))
const { values: args } = parseArgs({
  options: {
    phases: { type: 'string', default: 'settle,compare,import' },
    sales: { type: 'string', default: '100000' },
    terminals: { type: 'string', default: '200' },
    'compare-sales': { type: 'string', default: '10000' },
    rows: { type: 'string', default: '1000000' },
    followers: { type: 'string', default: '10' },
    'authorization-rate': { type: 'string', default: '50' },
    profile: { type: 'boolean', default: false },
    'database-url': { type: 'string', default: 'postgres://127.0.0.1:5432/test' }
  }
})
const SALES = Number(args.sales)
const TERMINALS = Number(args.terminals)
/** How long every terminal's first upload, sent at the same moment, takes to get through. */
const AFTER_START_MS = 5_000
/** Online authorizations a second during the upload, sent on time whatever the answers; 0: ten terminals back to back. */
const AUTHORIZATION_RATE = Number(args['authorization-rate'])
const REGION = '539900'
const BATCH = 100
type Row = readonly [label: string, value: string]

/** Where a long phase is, on stderr (the figures go to stdout). */
const progress = (text: string) =>
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`)
const n = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 1 })
const ms = (value: number) => `${value.toFixed(1)} ms`
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
/** `p50 / p95`, and `/ max` when asked, of times in ms. */
function spread(values: readonly number[], withMax = false): string {
  const sorted = [...values].sort((a, b) => a - b)
  const figures = [percentile(sorted, 50), percentile(sorted, 95), ...(withMax ? [sorted.at(-1) ?? 0] : [])]
  return figures.map(ms).join(' / ')
}

/** The whole machine's CPU time so far, busy and idle, in ms (/proc/stat counts in 1/100 s). */
function machineCpuMs(): { busy: number; idle: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number)
  return { busy: (user + nice + system + irq + softirq + steal) * 10, idle: (idle + iowait) * 10 }
}

/**
 * The CPU time of this machine's PostgreSQL processes so far, in ms: the live ones, and through the
 * server's parent process (its children's time, `cutime` and `cstime`) the backends that ended.
 * Only when the server runs here; the settle phase's database is found by its processes' name.
 */
function postgresCpuMs(): number {
  let ticks = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue // ended meanwhile
    }
    if (!stat.includes('(postgres)')) continue
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
  }
  return ticks * 10
}

/** This process's CPU time so far, in ms: the simulated terminals' share of the machine. */
const benchCpuMs = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** A schema of the bench's own on the server; its URL, and how to drop it. */
async function benchSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `bench_${randomBytes(5).toString('hex')}`
  const admin = openPostgres(args['database-url'], 1)
  await admin.raw(`create schema ${schema}`)
  await admin.destroy()
  const url = new URL(args['database-url'])
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    url: url.toString(),
    drop: async () => {
      const db = openPostgres(args['database-url'], 1)
      await db.raw(`drop schema if exists ${schema} cascade`)
      await db.destroy()
    }
  }
}

interface Centre {
  readonly url: string
  readonly child: ChildProcess
  /** Peak resident memory so far (VmHWM), kB. */
  peakKb(): Promise<number>
  cpuMs(): Promise<number>
  /** The error events it logged (event names and counts). */
  errorEvents(): string
  /** The time each authorization took to settle, as the centre logged it (after its request was read). */
  readonly authorizationSettleMs: number[]
  stop(): Promise<void>
}

async function startCentre(
  env: Record<string, string>,
  options: { cpuProfDir?: string } = {}
): Promise<Centre> {
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const child = spawn(
    process.execPath,
    [
      ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []),
      '--import',
      'tsx',
      'hub/main.ts'
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HUB_RATE_LIMIT_TERMINAL: 'off',
        HUB_RATE_LIMIT_ADDRESS: 'off',
        ...env
      },
      stdio: ['ignore', 'ignore', 'pipe']
    }
  )
  let errors = ''
  const errorCounts = new Map<string, number>()
  const authorizationSettleMs: number[] = []
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString()
    for (const match of text.matchAll(/"event":"sale_authorized"[^\n]*?"ms":(\d+)/g))
      authorizationSettleMs.push(Number(match[1]))
    if (errors.length < 20_000) errors += text
    for (const match of text.matchAll(
      /"level":"error","event":"([^"]+)"(?:,"path":"([^"]*)")?(?:,"error":"([^"]*)")?/g
    )) {
      const key = [match[1], match[2], match[3]].filter(Boolean).join(' ')
      errorCounts.set(key, (errorCounts.get(key) ?? 0) + 1)
    }
  })
  let stopping = false
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      // A centre that dies under load says so, with the end of what it wrote.
      if (!stopping) progress(`centre on port ${port} exited (${signal ?? code}):\n${errors.slice(-4000)}`)
      resolve()
    })
  )
  const url = `http://127.0.0.1:${port}`
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`centre exited: ${errors}`)
    const up = await fetch(`${url}/v1/health`).catch(() => null)
    if (up?.ok) break
    if (tries > 600) throw new Error(`centre did not start: ${errors}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  // Read synchronously: /proc files are tiny, and a read on the thread pool can wait behind other work.
  const proc = (file: string) => {
    try {
      return readFileSync(`/proc/${child.pid}/${file}`, 'utf8')
    } catch {
      return ''
    }
  }
  const status = async (field: string) => {
    const text = proc('status')
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0)
  }
  return {
    url,
    child,
    peakKb: () => status('VmHWM'),
    authorizationSettleMs,
    errorEvents: () => [...errorCounts].map(([key, count]) => `${key} ×${count}`).join(', ') || 'none',
    async cpuMs() {
      const stat = proc('stat').split(') ')[1]?.split(' ')
      return stat ? ((Number(stat[11]) + Number(stat[12])) * 1000) / 100 : 0
    },
    async stop() {
      stopping = true
      child.kill('SIGTERM')
      await exited
    }
  }
}

interface Terminal {
  readonly terminalId: string
  readonly token: string
}

async function post(url: string, path: string, body: unknown, token?: string): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
      ...(token ? { authorization: `Bearer ${token}` } : {})
    },
    body: JSON.stringify(body)
  })
}

async function register(url: string, terminalId: string, code: string): Promise<Terminal> {
  const { publicKey } = generateKeyPairSync('ed25519')
  const answer = await post(url, '/v1/terminals', {
    enrolmentCode: code,
    terminalId,
    territory: '压力测试',
    appVersion: '0.1.0',
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    filePublicKeyPem: newTerminalFileKey().publicKeyPem
  })
  if (answer.status !== 201) throw new Error(`register: ${answer.status} ${await answer.text()}`)
  const { token } = registrationResponseSchema.parse(await answer.json())
  return { terminalId, token }
}

const yunnan = (() => {
  for (const envelope of DEMO_BUNDLE_ENVELOPES) {
    const verified = verifyBundle(envelope, DEMO_TRUSTED_KEYS)
    if (verified.ok && verified.value.bundle.region.code === REGION) return verified.value.bundle
  }
  throw new Error('bench: no Yunnan bundle')
})()
const product = (() => {
  const found = yunnan.products.find((p) => p.code === 'YN-JRAK')
  if (!found || found.pricing.kind !== 'perUnit') throw new Error('bench: no YN-JRAK')
  return { product: found, premiumFen: found.pricing.bands[0].unitPriceFen }
})()
const PREMIUM = product.premiumFen

/** A sale of one unit of 吉瑞安康 by synthetic account `k` for themself, as a terminal sends it. */
function saleOf(k: number, terminalId: string): SaleItem {
  const payer = syntheticAccount(k, [REGION])
  const at = new Date().toISOString()
  const saleId = uuidv7(Date.now(), randomBytes(10))
  const cover = coverPeriodOf(product.product, at)
  return {
    type: 'sale',
    saleId,
    terminalId,
    operatorCode: '1001',
    createdAt: at,
    payer: { cardNumber: payer.cardNumber, idNumber: payer.idNumber, regionCode: REGION },
    rules: { regionCode: REGION, version: yunnan.version },
    totalFen: PREMIUM,
    applicant: { mobile: '13912345678' },
    payment: {
      method: 'card',
      entry: 'swiped',
      pinBlock: sealPinBlock('123456', saleId, DEMO_CENTRE_FILE_KEY)
    },
    lines: [
      {
        lineNo: 1,
        relation: 'self',
        insuredIdNumber: payer.idNumber,
        insuredName: payer.name,
        productCode: product.product.code,
        units: 1,
        premiumFen: PREMIUM,
        coverFrom: cover.from,
        coverTo: cover.to
      }
    ]
  }
}

/** As the terminal's uploader does: a busy centre (503) is asked again after the time it names. */
async function upload(url: string, terminal: Terminal, items: readonly SaleItem[]): Promise<ItemResult[]> {
  for (;;) {
    // A cut connection (a keep-alive socket the centre closed as it was reused) is sent again, as
    // the terminal's uploader does; the centre answers a resend from what it stored.
    const answer = await post(
      url,
      '/v1/transactions',
      { terminalId: terminal.terminalId, items },
      terminal.token
    ).catch(() => null)
    if (answer === null) {
      resent += 1
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      continue
    }
    if (answer.status === 503) {
      busyAnswers += 1
      await answer.text()
      await new Promise((resolve) =>
        setTimeout(resolve, Number(answer.headers.get('retry-after') ?? 1) * 1000)
      )
      continue
    }
    if (answer.status !== 200) throw new Error(`upload: ${answer.status} ${await answer.text()}`)
    return uploadResponseSchema.parse(await answer.json()).results
  }
}
let busyAnswers = 0
let resent = 0

/** A centre database with the demo, `accounts` synthetic accounts of Yunnan and a reusable code for it. */
async function preparedDatabase(
  dataDir: string,
  databaseUrl: string | undefined,
  accounts: number
): Promise<void> {
  const db: Knex = await openHubDatabase(dataDir, { clock: systemClock, databaseUrl })
  try {
    await seedSyntheticAccounts(db, accounts, { clock: systemClock, regionCodes: [REGION] })
    await addEnrolmentCode(db, 'BENCH-539900', [REGION], systemClock, true)
    if (databaseUrl !== undefined) await seedLastYear(db)
  } finally {
    await db.destroy()
  }
}

/**
 * A centre in its second year: each account bought one policy last year, settled, issued and
 * expired. Without a history the run starts on empty tables, where PostgreSQL's statistics lag the
 * burst of inserts and its planner scans whole tables that a centre in service never would.
 */
async function seedLastYear(db: Knex): Promise<void> {
  const sale = `'H' || lpad(a.id::text, 35, '0')`
  const from = (table: string, columns: string, values: string) =>
    db.raw(`insert into ${table} (${columns}) select ${values} from accounts a order by a.id`)
  await from(
    'hub_sales',
    'sale_id, terminal_id, account_id, total_fen, from_historical_fen, from_current_fen, year_from, created_at, settled_at',
    `${sale}, 'T-HISTORY', a.id, ${PREMIUM}, 0, ${PREMIUM}, '2025-01-01', '2025-06-01T02:00:00.000Z', '2025-06-01T02:00:05.000Z'`
  )
  await from(
    'item_results',
    'item_id, terminal_id, type, outcome, settled_at, content_sha256, reference',
    `${sale}, 'T-HISTORY', 'sale', 'accepted', '2025-06-01T02:00:05.000Z', repeat('0', 64), 'H' || a.id`
  )
  await from(
    'received_sales',
    'sale_id, terminal_id, operator_code, created_at, region_code, rules_region_code, rules_version, total_fen',
    `${sale}, 'T-HISTORY', '1001', '2025-06-01T02:00:00.000Z', a.region_code, a.region_code, 1, ${PREMIUM}`
  )
  await from(
    'received_sale_lines',
    'sale_id, line_no, relation, product_code, premium_fen',
    `${sale}, 1, 'self', '${product.product.code}', ${PREMIUM}`
  )
  await from('spending_years', 'account_id, year_from, spent_fen', `a.id, '2025-01-01', ${PREMIUM}`)
  await from(
    'policies',
    'sale_id, line_no, terminal_id, region_code, product_code, insured_id_number, cover_from, cover_to, premium_fen, issue_due_at, policy_no, issued_at, issued_seq, units',
    `${sale}, 1, 'T-HISTORY', a.region_code, '${product.product.code}', a.id_number, '2025-06-01T16:00:00.000Z', '2026-06-01T16:00:00.000Z', ${PREMIUM}, '2025-06-01T02:00:05.000Z', 'HP' || a.id, '2025-06-01T02:10:00.000Z', a.id, 1`
  )
  await db.raw(
    `insert into holdings (insured_id_number, product_code, cover_from, cover_to, payer_account_id, sale_id, bought_at, line_no, policy_no, policy_id)
     select p.insured_id_number, p.product_code, p.cover_from, p.cover_to, h.account_id, p.sale_id, h.created_at, 1, p.policy_no, p.id
     from policies p join hub_sales h on h.sale_id = p.sale_id order by p.id`
  )
  for (const table of [
    'hub_sales',
    'item_results',
    'received_sales',
    'received_sale_lines',
    'spending_years',
    'policies',
    'holdings',
    'accounts'
  ])
    await db.raw(`vacuum analyze ${table}`)
}

const settlePhase = {
  name: 'settle',
  async run(dir: string): Promise<Row[]> {
    const schema = await benchSchema()
    const probes = 10
    try {
      const started = performance.now()
      await preparedDatabase(join(dir, 'settle'), schema.url, SALES + 20_000)
      const seeded = performance.now() - started
      const env = { DATABASE_URL: schema.url, HUB_DATA_DIR: join(dir, 'settle') }
      progress(`seeded ${n(SALES + 20_000)} accounts; starting two centres`)
      const profileDir = args.profile ? join(dir, 'settle-profile') : undefined
      const centres = await Promise.all([0, 1].map(() => startCentre(env, { cpuProfDir: profileDir })))
      const rows: Row[] = []
      try {
        const uploaders: Terminal[] = []
        for (let t = 0; t < TERMINALS; t++)
          uploaders.push(await register(centres[t % 2].url, `T-BU${String(t).padStart(6, '0')}`, 'DEMO-ALL'))
        const authorizers: Terminal[] = []
        const followers: Array<Terminal & { since?: number }> = []
        for (let t = 0; t < probes; t++)
          authorizers.push(
            await register(centres[t % 2].url, `T-BA${String(t).padStart(6, '0')}`, 'DEMO-ALL')
          )
        for (let t = 0; t < Number(args.followers); t++)
          followers.push(
            await register(centres[t % 2].url, `T-BF${String(t).padStart(6, '0')}`, 'BENCH-539900')
          )
        progress('terminals registered; followers take a full snapshot')
        // Followers start from a full snapshot of the region, taken before the load.
        for (const [t, follower] of followers.entries()) {
          const full = await fetch(`${centres[t % 2].url}/v1/snapshot`, {
            headers: { authorization: `Bearer ${follower.token}`, [PROTOCOL_HEADER]: '2' }
          })
          const text = await full.text()
          follower.since = (
            JSON.parse(text.slice(0, text.indexOf('\n'))) as { snapshotVersion: number }
          ).snapshotVersion
        }
        progress('making the sales')
        // Every sale made before the clock starts: sealing PIN blocks is the terminals' work, not the centre's.
        const perTerminal = Math.ceil(SALES / TERMINALS)
        const batches = uploaders.map((terminal, t) => {
          const sales: SaleItem[] = []
          for (let k = t * perTerminal; k < Math.min(SALES, (t + 1) * perTerminal); k++)
            sales.push(saleOf(k, terminal.terminalId))
          return sales
        })
        progress(`made ${n(SALES)} sales`)
        // Making them kept the event loop busy for seconds: let the fetch client see the
        // connections the centres closed meanwhile, instead of sending the first calls on them.
        await new Promise((resolve) => setTimeout(resolve, 500))
        const cpuBefore = await Promise.all(centres.map((c) => c.cpuMs()))
        const machineBefore = machineCpuMs()
        const postgresBefore = postgresCpuMs()
        const benchBefore = benchCpuMs()
        let loading = true
        const outcomes = new Map<string, number>()
        const count = (results: readonly ItemResult[]) => {
          for (const result of results) outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1)
        }
        /** Each answered authorization: when it was sent (after the clock started) and how long it took. */
        const authorizations: Array<{ readonly sentMs: number; readonly ms: number }> = []
        // The load generator's own event loop: how late it notices an answer that has arrived.
        const lag = monitorEventLoopDelay({ resolution: 5 })
        lag.enable()
        let authorizedAccepted = 0
        const deltaMs: number[] = []
        let deltaAccounts = 0
        let deltaFailures = 0
        let authorizationFailures = 0
        progress('uploading')
        const loadStarted = performance.now()
        const load = Promise.all(
          uploaders.map(async (terminal, t) => {
            const sales = batches[t]
            for (let i = 0; i < sales.length; i += BATCH)
              count(await upload(centres[(t + i / BATCH) % 2].url, terminal, sales.slice(i, i + BATCH)))
          })
        ).finally(() => (loading = false))
        /** One sale of synthetic account `k` paid online, timed from the request to the whole answer. */
        const authorize = async (terminal: Terminal, k: number) => {
          const sale = saleOf(k, terminal.terminalId)
          const at = performance.now()
          // A terminal that gets no answer in time queues the sale instead (counted here).
          const answer = await post(
            centres[k % 2].url,
            '/v1/authorizations',
            { terminalId: terminal.terminalId, saleId: sale.saleId, items: [sale] },
            terminal.token
          ).catch(() => null)
          const text = answer ? await answer.text().catch(() => null) : null
          if (!answer || answer.status !== 200 || text === null) {
            authorizationFailures += 1
            return
          }
          authorizations.push({ sentMs: at - loadStarted, ms: performance.now() - at })
          const last = uploadResponseSchema.parse(JSON.parse(text)).results.at(-1)
          if (last?.outcome === 'accepted') authorizedAccepted += 1
        }
        const authorizing =
          AUTHORIZATION_RATE > 0
            ? // Customers pay when they pay: at a steady rate, whether or not earlier answers are back.
              (async () => {
                const inFlight = new Set<Promise<void>>()
                for (let i = 0; loading; i++) {
                  const wait = loadStarted + (i * 1000) / AUTHORIZATION_RATE - performance.now()
                  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
                  if (!loading) break
                  const one: Promise<void> = authorize(authorizers[i % probes], SALES + i).finally(() =>
                    inFlight.delete(one)
                  )
                  inFlight.add(one)
                }
                await Promise.all(inFlight)
              })()
            : Promise.all(
                authorizers.map(async (terminal, t) => {
                  for (let k = SALES + t; loading; k += probes) await authorize(terminal, k)
                })
              )
        const following = Promise.all(
          followers.map(async (follower, t) => {
            while (loading) {
              const at = performance.now()
              // A terminal whose delta failed tries again at its next sync.
              const text = await fetch(`${centres[t % 2].url}/v1/snapshot?since=${follower.since}`, {
                headers: { authorization: `Bearer ${follower.token}`, [PROTOCOL_HEADER]: '2' }
              })
                .then((answer) => (answer.ok ? answer.text() : null))
                .catch(() => null)
              if (text === null) {
                deltaFailures += 1
                continue
              }
              deltaMs.push(performance.now() - at)
              const lines = text.trimEnd().split('\n')
              follower.since = (JSON.parse(lines[0]) as { snapshotVersion: number }).snapshotVersion
              deltaAccounts += lines.length - 2
              await new Promise((resolve) => setTimeout(resolve, 1_000))
            }
          })
        )
        await load
        const loadMs = performance.now() - loadStarted
        lag.disable()
        await Promise.all([authorizing, following])
        const cpuAfter = await Promise.all(centres.map((c) => c.cpuMs()))
        const machineAfter = machineCpuMs()
        const postgresUsed = postgresCpuMs() - postgresBefore
        const benchUsed = benchCpuMs() - benchBefore
        const peaks = await Promise.all(centres.map((c) => c.peakKb()))
        // Exactly once: one stored result per sale sent, one settled sale per accepted one.
        const db = openPostgres(schema.url, 1)
        // The bench's terminals only (the demo seeds one settled sale of its own, the history more).
        const ours = (table: string) => db(table).where('terminal_id', 'like', 'T-B%')
        const [{ results }] = await ours('item_results').count<Array<{ results: number }>>({ results: '*' })
        const [{ settled }] = await ours('hub_sales').count<Array<{ settled: number }>>({ settled: '*' })
        // The insurer's numbers given meanwhile (on each delta's call): each stamps its holder's account again.
        const [{ issued }] = await ours('policies')
          .whereNotNull('policy_no')
          .count<Array<{ issued: number }>>({ issued: '*' })
        const [{ policies }] = await ours('policies').count<Array<{ policies: number }>>({ policies: '*' })
        await db.destroy()
        const accepted = (outcomes.get('accepted') ?? 0) + authorizedAccepted
        const answered = authorizations.length
        const cpu = cpuAfter.reduce((s, v, i) => s + v - cpuBefore[i], 0)
        rows.push(
          [
            "accounts seeded (synthetic, Yunnan; each with last year's policy)",
            `${n(SALES + 20_000)} in ${n(seeded / 1000)} s`
          ],
          [
            'terminals uploading / centre processes',
            `${n(TERMINALS)} / 2 (PostgreSQL ${args['database-url']})`
          ],
          ['sales uploaded, batches of 100', n(SALES)],
          ['outcomes', [...outcomes].map(([outcome, k]) => `${n(k)} ${outcome}`).join(', ')],
          ['wall time of the upload', `${n(loadMs / 1000)} s`],
          [
            'settled a second: uploads / authorizations / in all',
            [SALES, answered, SALES + answered].map((items) => n(items / (loadMs / 1000))).join(' / ')
          ],
          ['uploads answered 503 (busy, sent again later)', n(busyAnswers)],
          ['uploads cut and sent again', n(resent)],
          ['online authorizations meanwhile', n(answered)],
          ['authorizations without an answer (the terminal queues the sale)', n(authorizationFailures)],
          [
            'authorization p50 / p95 / max',
            spread(
              authorizations.map((a) => a.ms),
              true
            )
          ],
          [
            // Every terminal's first batch arrives at the same moment, as after an outage.
            `the same, sent after the first ${AFTER_START_MS / 1000} s`,
            spread(
              authorizations.filter((a) => a.sentMs > AFTER_START_MS).map((a) => a.ms),
              true
            )
          ],
          [
            'of which settling in the centre (its log) p50 / p95',
            spread(centres.flatMap((c) => c.authorizationSettleMs))
          ],
          [
            "the simulated terminals' own event-loop delay p50 / p95 (in the figures above)",
            `${ms(lag.percentile(50) / 1e6)} / ${ms(lag.percentile(95) / 1e6)}`
          ],
          ['delta snapshots served meanwhile', `${n(deltaMs.length)}, ${n(deltaAccounts)} account lines`],
          ['policies issued meanwhile (of those accepted)', `${n(Number(issued))} of ${n(Number(policies))}`],
          ['delta p50 / p95', spread(deltaMs)],
          ['deltas that failed (cut or refused; tried again)', n(deltaFailures)],
          ['centre errors logged', centres.map((c) => c.errorEvents()).join(' / ')],
          ['centre CPU per settled item (both processes)', ms(cpu / (SALES + answered))],
          ['centre peak RSS (each process)', peaks.map(mb).join(' / ')],
          [
            'machine CPU meanwhile: centres / simulated terminals / PostgreSQL / the rest / idle',
            [
              cpu,
              benchUsed,
              postgresUsed,
              machineAfter.busy - machineBefore.busy - cpu - benchUsed - postgresUsed,
              machineAfter.idle - machineBefore.idle
            ]
              .map((used) => `${n(used / 1000)} s`)
              .join(' / ')
          ],
          [
            'exactly once',
            `${n(results)} results for ${n(SALES + answered + authorizationFailures)} sales sent (unanswered authorizations included); ${n(settled)} settled, ${n(accepted)} of them answered accepted`
          ]
        )
      } finally {
        await Promise.all(centres.map((c) => c.stop()))
        if (profileDir)
          rows.push(
            ['where one centre process’s CPU went (self time)', ''],
            ...(await whereCpuGoes(profileDir))
          )
      }
      return rows
    } finally {
      await schema.drop()
    }
  }
}

/** Self time of a --cpu-prof profile by where the code lives. */
async function whereCpuGoes(profileDir: string): Promise<Row[]> {
  const files = (await readdir(profileDir)).filter((file) => file.endsWith('.cpuprofile'))
  if (files.length === 0) return [['CPU profile', 'none written']]
  interface Profile {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>
    samples: number[]
    timeDeltas: number[]
  }
  const profile = JSON.parse(await readFile(join(profileDir, files[0]), 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const buckets = new Map<string, number>()
  const functions = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)
    const url = frame?.url ?? ''
    const name = frame?.functionName ?? ''
    if (name !== '(idle)') {
      // An anonymous function by its line (callFrame lines count from 0).
      const where = `${name || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/)?/, '')}${name ? '' : `:${(frame?.lineNumber ?? -1) + 1}`}`
      functions.set(where, (functions.get(where) ?? 0) + (profile.timeDeltas[i] ?? 0))
    }
    const bucket =
      name === '(idle)' || name === '(program)' || name === '(garbage collector)'
        ? name
        : /node_modules\/(pg|pg-protocol|pg-types|pg-pool)\//.test(url)
          ? 'pg driver'
          : /node_modules\/knex\//.test(url)
            ? 'knex (query building)'
            : /node_modules\/zod\//.test(url)
              ? 'zod (request check)'
              : /node_modules\/sqlite3\//.test(url)
                ? 'sqlite3 driver'
                : /\/hub\//.test(url)
                  ? 'centre code'
                  : /\/core\//.test(url)
                    ? 'domain core (rules engine)'
                    : /\/backend\//.test(url)
                      ? 'shared backend (PIN block, bundle check)'
                      : url.startsWith('node:') || url === ''
                        ? 'Node itself (http, crypto, JSON, native)'
                        : 'other'
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const busy = [...buckets].filter(([name]) => name !== '(idle)')
  const total = busy.reduce((s, [, us]) => s + us, 0)
  const share = (us: number) => `${((100 * us) / total).toFixed(1)} %`
  const top = [...functions].sort((a, b) => b[1] - a[1]).slice(0, 8)
  return [
    ...busy.sort((a, b) => b[1] - a[1]).map(([name, us]) => [`  ${name}`, share(us)] as const),
    ['  the eight busiest functions', ''],
    ...top.map(([name, us]) => [`    ${name}`, share(us)] as const)
  ]
}

const comparePhase = {
  name: 'compare',
  async run(dir: string): Promise<Row[]> {
    const count = Number(args['compare-sales'])
    const rows: Row[] = []
    for (const database of ['sqlite', 'postgres'] as const) {
      const schema = database === 'postgres' ? await benchSchema() : null
      const dataDir = join(dir, `compare-${database}`)
      try {
        await preparedDatabase(dataDir, schema?.url, count)
        const profileDir = join(dir, `profile-${database}`)
        const centre = await startCentre(
          { HUB_DATA_DIR: dataDir, ...(schema ? { DATABASE_URL: schema.url } : {}) },
          { cpuProfDir: profileDir }
        )
        try {
          const terminal = await register(centre.url, 'T-COMPARE1', 'DEMO-ALL')
          const sales = Array.from({ length: count }, (_, k) => saleOf(k, terminal.terminalId))
          const cpuBefore = await centre.cpuMs()
          const started = performance.now()
          let accepted = 0
          for (let i = 0; i < sales.length; i += BATCH)
            accepted += (await upload(centre.url, terminal, sales.slice(i, i + BATCH))).filter(
              (r) => r.outcome === 'accepted'
            ).length
          const wall = performance.now() - started
          const cpu = (await centre.cpuMs()) - cpuBefore
          rows.push(
            [`${database}: ${n(count)} sales, one terminal, batches of 100`, `${n(accepted)} accepted`],
            [`${database}: sales per second`, n(count / (wall / 1000))],
            [`${database}: centre CPU per sale`, ms(cpu / count)]
          )
        } finally {
          await centre.stop()
        }
        rows.push(
          [`${database}: where the centre's CPU goes (self time, whole run)`, ''],
          ...(await whereCpuGoes(profileDir))
        )
      } finally {
        await schema?.drop()
      }
    }
    return rows
  }
}

const importPhase = {
  name: 'import',
  async run(dir: string): Promise<Row[]> {
    const rows = Number(args.rows)
    const schema = await benchSchema()
    try {
      const dataDir = join(dir, 'import')
      const db = await openHubDatabase(dataDir, { clock: systemClock, databaseUrl: schema.url })
      await db.destroy()
      const file = join(dir, 'accounts.csv')
      const out = createWriteStream(file)
      out.write(`${ACCOUNT_EXPORT_COLUMNS.join(',')}\n`)
      for (let k = 0; k < rows; k++) {
        const a = syntheticAccount(k, ['330800', '539900', '540000', '310000', '320500', '210100'])
        const line = `${a.accountNo},${a.cardNumber},${a.idNumber},${a.name},${a.regionCode},${a.insuranceType},${a.status},${a.balanceFen},${a.historicalBalanceFen},0,\n`
        if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
      }
      await new Promise<void>((resolve) => out.end(() => resolve()))
      const run = async () => {
        const started = performance.now()
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'hub/main.ts', 'import-accounts', file, '--allow-removals'],
          {
            cwd: root,
            env: { ...process.env, HUB_DATA_DIR: dataDir, DATABASE_URL: schema.url },
            stdio: ['ignore', 'pipe', 'pipe']
          }
        )
        let output = ''
        child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
        child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
        let peak = 0
        const sampler = setInterval(() => {
          void readFile(`/proc/${child.pid}/status`, 'utf8')
            .then((text) => (peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0))))
            .catch(() => undefined)
        }, 100)
        await new Promise<void>((resolve) => child.once('exit', () => resolve()))
        clearInterval(sampler)
        return { seconds: (performance.now() - started) / 1000, peak, output: output.trim() }
      }
      const first = await run()
      const again = await run()
      return [
        ['rows (CSV, six regions)', n(rows)],
        ['first import: time / peak RSS', `${n(first.seconds)} s / ${mb(first.peak)}`],
        ['  said', first.output.split('\n').at(-1) ?? ''],
        ['the same file again: time / peak RSS', `${n(again.seconds)} s / ${mb(again.peak)}`],
        ['  said', again.output.split('\n').at(-1) ?? '']
      ]
    } finally {
      await schema.drop()
    }
  }
}

/**
 * The same fixed work on every machine (hashing and JSON, one core), so figures taken on machines of
 * different speed can be compared: machines of this project's kind have differed by more than two
 * times in CPU from one session to the next.
 */
function referenceWork(): Row {
  const started = performance.now()
  const block = randomBytes(1 << 20)
  for (let i = 0; i < 128; i++) createHash('sha256').update(block).digest()
  const records = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `账户${i}`, balanceFen: i * 37 }))
  for (let i = 0; i < 20; i++) JSON.parse(JSON.stringify(records))
  return [
    'this machine: reference work (lower is faster)',
    `${n(performance.now() - started)} ms on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`
  ]
}

async function main(): Promise<void> {
  const phases = [settlePhase, comparePhase, importPhase]
  const wanted = new Set(args.phases.split(',').map((name) => name.trim()))
  const dir = await mkdtemp(join(tmpdir(), 'bench-centre-'))
  const [label, value] = referenceWork()
  console.log(`${label.padEnd(58)} ${value}`)
  try {
    for (const phase of phases.filter((p) => wanted.has(p.name))) {
      const rows = await phase.run(dir)
      console.log(`${phase.name}:`)
      for (const [label, value] of rows) console.log(`  ${label.padEnd(56)} ${value}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
