/**
 * `npm run bench:report`: the supervisor's reports over a busy month. A real SQLite file gets N
 * sales (default 30,000: a hall of five windows selling 200 a day each for a month; BENCH_SALES
 * overrides), cloned from a few real sales made through the services, spread over 30 days and
 * 08:00–18:00. Then, through the same dispatcher the UI calls: the month's summary, its printable
 * document, its Excel and CSV exports, and the day close of one day. Prints figures; asserts nothing.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { CallContext } from '../core/api/contract'
import { fixedClock } from '../core/time'
import { DEMO_OPERATORS } from '../db/seeds/demo-population'
import { silentLogger } from '../backend/services/log'
import { openCounterRuntime, type CounterRuntime } from '../backend/runtime'
import { pemOfRawKey, sealPinBlock } from '../backend/services/payment/pin-block'
import type { PaymentStart } from '../core/sale'

const SALES = Number(process.env.BENCH_SALES ?? 30_000)
const DAYS = 30
const MONTH_END = '2026-11-30'
const MONTH_START = '2026-11-01'

const SIGNATURE = { width: 400, height: 150, strokes: ['M10 100 L60 40 L110 120'] }
const TEMPLATES: Array<{ card: string; productCode: string; units?: number; amountFen?: number }> = [
  { card: 'C33080001', productCode: 'QZ-HQB-2027', units: 1 },
  { card: 'E21010002', productCode: 'SY-HEALTH-DEMO', units: 1 },
  { card: 'A53000001', productCode: 'YN-JRAK', units: 1 },
  { card: 'D32050001', productCode: 'SZ-HEALTH-DEMO', amountFen: 50_000 },
  { card: 'B54000001', productCode: 'XZ-CARE', units: 1 }
]

async function call<T>(runtime: CounterRuntime, name: string, args: unknown, as: CallContext): Promise<T> {
  const result = await runtime.dispatch(name, args, as)
  if (!result.ok) throw new Error(`${name}: ${result.error.code} ${result.error.message}`)
  return result.value as T
}

async function signIn(runtime: CounterRuntime, role: 'clerk' | 'supervisor'): Promise<CallContext> {
  const operator = DEMO_OPERATORS.find((o) => o.role === role)
  if (!operator) throw new Error(role)
  const { token } = await call<{ token: string }>(
    runtime,
    'auth.signIn',
    { operatorCode: operator.code, pin: operator.pin },
    { transport: 'test' }
  )
  return { transport: 'test', sessionToken: token }
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now()
  const value = await run()
  console.log(`${label.padEnd(44)} ${(performance.now() - started).toFixed(0).padStart(7)} ms`)
  return value
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-report-'))
  const runtime = await openCounterRuntime({
    dataDir,
    clock: fixedClock(`${MONTH_END}T10:00:00.000Z`),
    log: silentLogger,
    appVersion: 'bench'
  })
  try {
    const clerk = await signIn(runtime, 'clerk')
    await call(runtime, 'auth.openShift', {}, clerk)
    for (const template of TEMPLATES) {
      const { accountId } = await call<{ accountId: number }>(
        runtime,
        'cardholder.lookup',
        { input: template.card },
        clerk
      )
      const line = {
        insured: { relation: 'self' },
        productCode: template.productCode,
        units: template.units,
        amountFen: template.amountFen
      }
      const begun = await call<PaymentStart>(runtime, 'sale.begin', { accountId }, clerk)
      if (!begun.pinKey) throw new Error('no key to seal the password to')
      // The demo card's initial password, sealed as the pay step seals it.
      const pinBlock = sealPinBlock('123456', begun.saleId, {
        keyId: begun.pinKey.keyId,
        publicKeyPem: pemOfRawKey(begun.pinKey.publicKey)
      })
      await call(
        runtime,
        'sale.commit',
        {
          saleId: begun.saleId,
          order: { accountId, lines: [line] },
          payment: { method: 'card', entry: 'swiped', card: template.card, pinBlock },
          termsAcknowledged: true,
          signature: SIGNATURE
        },
        clerk
      )
    }

    // Clones of the real sales (sealed insured people and all), each with its own id, time and status.
    const sales = (await runtime.db('sales').select('*')) as Array<Record<string, unknown>>
    const lines = (await runtime.db('sale_lines').select('*')) as Array<Record<string, unknown>>
    const statuses = ['accepted', 'accepted', 'accepted', 'uploaded', 'queued', 'rejected', 'voided']
    const started = performance.now()
    for (let done = 0; done < SALES;) {
      await runtime.db.transaction(async (trx) => {
        const saleRows: Array<Record<string, unknown>> = []
        const lineRows: Array<Record<string, unknown>> = []
        for (let i = 0; i < 500 && done < SALES; i++, done++) {
          const template = sales[done % sales.length]
          const day = done % DAYS
          const minute = 8 * 60 + ((done * 7) % (10 * 60))
          const at = new Date(
            Date.parse(`${MONTH_START}T00:00:00+08:00`) +
              day * 86_400_000 +
              minute * 60_000 +
              (done % 60) * 1000
          )
          const id = randomUUID()
          saleRows.push({
            ...template,
            id,
            created_at: at.toISOString(),
            status: statuses[done % statuses.length]
          })
          for (const line of lines.filter((l) => l.sale_id === template.id)) {
            lineRows.push({ ...line, id: undefined, sale_id: id })
          }
        }
        await trx.batchInsert('sales', saleRows, 100)
        await trx.batchInsert('sale_lines', lineRows, 100)
      })
    }
    console.log(
      `${SALES.toLocaleString('en')} sales over ${DAYS} days written in ${((performance.now() - started) / 1000).toFixed(1)} s`
    )

    const supervisor = await signIn(runtime, 'supervisor')
    const range = { from: MONTH_START, to: MONTH_END }
    const source = { kind: 'summary', ...range }
    const summary = await timed('report.summary (the month)', () =>
      call<{ sales: unknown[] }>(runtime, 'report.summary', range, supervisor)
    )
    const document = await timed('report.document (the month)', () =>
      call<{ tables: unknown[] }>(runtime, 'report.document', { source }, supervisor)
    )
    const xlsx = await timed('report.export xlsx (the month)', () =>
      call<{ base64: string }>(runtime, 'report.export', { source, format: 'xlsx' }, supervisor)
    )
    const csv = await timed('report.export csv (the month)', () =>
      call<{ base64: string }>(runtime, 'report.export', { source, format: 'csv' }, supervisor)
    )
    const day = await timed('report.closeDay (one day)', () =>
      call<{ saleCount: number }>(runtime, 'report.closeDay', { date: '2026-11-15' }, supervisor)
    )
    await timed('report.close (reprint of that close)', () =>
      call(runtime, 'report.close', { number: 1 }, supervisor)
    )
    console.log(
      `month: ${summary.sales.length.toLocaleString('en')} sales in the list; ${document.tables.length} tables; xlsx ${mb((xlsx.base64.length * 3) / 4)}, csv ${mb((csv.base64.length * 3) / 4)}`
    )
    console.log(`day close: ${day.saleCount.toLocaleString('en')} sales`)
    const memory = process.memoryUsage()
    console.log(`RSS ${mb(memory.rss)}, heap used ${mb(memory.heapUsed)}`)
  } finally {
    await runtime.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}

await main()
