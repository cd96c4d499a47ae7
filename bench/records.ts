/**
 * `npm run bench:records`: what the tamper check of the audit log and close reports costs. A real
 * SQLite file gets N audit lines (default 200,000: a hall's busy year at about 550 lines a day;
 * BENCH_AUDIT_LINES overrides) and 365 day closes, each linked as the product links them; then the
 * terminal is opened again (the check runs at every start) and the supervisor's 重新校验 is timed.
 * Prints figures; asserts nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fixedClock } from '../core/time'
import { appendAudit, appendClose } from '../db/record-chain'
import { DEMO_OPERATORS } from '../db/seeds/demo-population'
import { silentLogger } from '../backend/services/log'
import { openCounterRuntime } from '../backend/runtime'

const LINES = Number(process.env.BENCH_AUDIT_LINES ?? 200_000)
const clock = fixedClock('2026-11-22T02:30:00.000Z')

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-records-'))
  const open = () => openCounterRuntime({ dataDir, clock, log: silentLogger, appVersion: 'bench' })
  try {
    let runtime = await open()
    const started = performance.now()
    for (let written = 0; written < LINES; written += 5_000) {
      await runtime.db.transaction(async (trx) => {
        for (let i = written; i < Math.min(LINES, written + 5_000); i++)
          await appendAudit(trx, runtime.personalData, {
            at: new Date(Date.parse('2025-11-22T00:00:00Z') + i * 150_000).toISOString(),
            operatorId: 1,
            action: i % 3 === 0 ? 'sale' : 'sign_in',
            subject: `T-BENCH-${i}`,
            details: i % 3 === 0 ? { payerProof: 'swiped' } : null
          })
      })
    }
    const supervisorCode = DEMO_OPERATORS.find((o) => o.role === 'supervisor')?.code ?? '9001'
    const supervisor = await runtime
      .db('operators')
      .where({ code: supervisorCode })
      .first<{ id: number }>('id')
    await runtime.db.transaction(async (trx) => {
      for (let day = 1; day <= 365; day++)
        await appendClose(trx, runtime.personalData, {
          terminal_id: 'T-BENCH',
          number: day,
          kind: 'day',
          business_date: new Date(Date.parse('2025-11-22T00:00:00Z') + day * 86_400_000)
            .toISOString()
            .slice(0, 10),
          shift_id: null,
          closed_at: clock.now().toISOString(),
          closed_by: supervisor.id,
          late: false,
          report_json: JSON.stringify({ summary: { lines: Array.from({ length: 20 }, (_, i) => i) } }),
          sale_count: 200,
          total_fen: 2_000_000
        })
    })
    console.log(
      `${LINES} audit lines and 365 closes written, linked: ${(performance.now() - started).toFixed(0)} ms`
    )
    await runtime.close()

    const opening = performance.now()
    runtime = await open()
    console.log(
      `start, with both chains checked:                ${(performance.now() - opening).toFixed(0)} ms`
    )
    const signIn = await runtime.dispatch(
      'auth.signIn',
      { operatorCode: '9001', pin: '999999' },
      { transport: 'test' }
    )
    if (!signIn.ok) throw new Error(signIn.error.message)
    const token = (signIn.value as { token: string }).token
    const verifying = performance.now()
    const checked = await runtime.dispatch('audit.verify', {}, { transport: 'test', sessionToken: token })
    console.log(
      `audit.verify (重新校验):                          ${(performance.now() - verifying).toFixed(0)} ms`
    )
    console.log(`intact: ${checked.ok && (checked.value as { intact: boolean }).intact}`)
    console.log(`RSS at the end: ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB`)
    await runtime.close()
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}

void main()
