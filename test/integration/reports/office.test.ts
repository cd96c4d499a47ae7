import { describe, expect, it } from 'vitest'
import type { AppInfo, CallContext, ExportedReportView } from '../../../core/api/contract'
import type { ReportDocument } from '../../../core/report/document'
import type { SummaryReportView } from '../../../core/report/summary'
import type { ReceiptView } from '../../../core/sale'
import type { CounterRuntime } from '../../../backend/runtime'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import { ok, registerTerminal } from '../../support/sync'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

/** Quick timeouts and no jitter, as in the sync loop test. */
const TUNING = { timeoutMs: 3_000, random: () => 0.5 }
const OFFICE = '柯城区医保服务大厅'
const DAY = { from: '2026-11-22', to: '2026-11-22' }

async function sell(
  runtime: CounterRuntime,
  as: CallContext,
  card: string,
  productCode: string
): Promise<ReceiptView> {
  return ok<ReceiptView>(
    commit(
      runtime,
      as,
      {
        accountId: await accountIdOf(runtime, as, card),
        lines: [{ insured: { relation: 'self' }, productCode, units: 1 }]
      },
      card
    )
  )
}

const terminalIdOf = async (runtime: CounterRuntime, as: CallContext) =>
  (await ok<AppInfo>(runtime.dispatch('app.info', {}, as))).terminalId

describe('report.officeSummary: the office’s (网点) summary from the centre', () => {
  it('shows the sales of every window of the office the centre has received, fen for fen, and exports them with the terminal of each', async () => {
    const centre = await openTestHub()
    const east = await openTestRuntime({ clock: centre.clock, syncTuning: TUNING })
    const west = await openTestRuntime({ clock: centre.clock, syncTuning: TUNING })
    const away = await openTestRuntime({ clock: centre.clock, syncTuning: TUNING })
    await registerTerminal(east, centre.url, OFFICE)
    await registerTerminal(west, centre.url, ` ${OFFICE}`)
    await registerTerminal(away, centre.url, '衢江区医保服务大厅')

    const eastClerk = await onShift(east)
    const westClerk = await onShift(west)
    const awayClerk = await onShift(away)
    const one = await sell(east, eastClerk, 'C33080001', 'QZ-HQB-2027')
    const two = await sell(west, westClerk, 'E21010002', 'SY-HEALTH-DEMO')
    const elsewhere = await sell(away, awayClerk, 'A53000003', 'YN-JRAK')
    for (const [runtime, as] of [
      [east, eastClerk],
      [west, westClerk],
      [away, awayClerk]
    ] as const)
      await ok(runtime.dispatch('sync.now', {}, as))

    const supervisor = await signedIn(east, 'supervisor')
    const view = await ok<SummaryReportView>(east.dispatch('report.officeSummary', DAY, supervisor))
    const eastId = await terminalIdOf(east, supervisor)
    const westId = await terminalIdOf(west, westClerk)
    expect(view.terminalId).toBeNull()
    expect(view.office?.territory).toBe(OFFICE)
    expect([...(view.office?.terminalIds ?? [])].sort()).toEqual([eastId, westId].sort())
    expect(view.office?.asOf).toBe(centre.clock.now().toISOString())
    expect(view.sales.map((s) => [s.terminalId, s.saleId, s.status, s.totalFen]).sort()).toEqual(
      [
        [eastId, one.saleId, 'accepted', one.totalFen],
        [westId, two.saleId, 'accepted', two.totalFen]
      ].sort()
    )
    expect(view.summary.totals.all).toEqual({
      saleCount: 2,
      lineCount: 2,
      amountFen: one.totalFen + two.totalFen
    })
    expect(view.summary.totals.net.amountFen).toBe(one.totalFen + two.totalFen)
    expect(view.sales.some((s) => s.saleId === elsewhere.saleId)).toBe(false)
    expect(
      view.byHour.reduce(
        (sum, h) => sum + Object.values(h.byProduct).reduce((acc, p) => acc + p.amountFen, 0),
        0
      )
    ).toBe(one.totalFen + two.totalFen)

    // The terminal's own summary is unchanged: its own sale only.
    const own = await ok<SummaryReportView>(east.dispatch('report.summary', DAY, supervisor))
    expect(own.sales.map((s) => s.saleId)).toEqual([one.saleId])
    expect(own.office).toBeUndefined()

    const document = await ok<ReportDocument>(
      east.dispatch('report.document', { source: { kind: 'office', ...DAY } }, supervisor)
    )
    expect(document.title).toBe('网点日结汇总表')
    expect(document.fields.find((f) => f.label === '网点')?.value).toBe(OFFICE)
    expect(document.fields.find((f) => f.label === '终端')?.value).toBe(
      `2 台：${[eastId, westId].sort().join('、')}`
    )
    const list = document.tables.find((t) => t.title === '交易清单')
    expect(list?.columns.map((c) => c.label)).toContain('终端')
    expect(list?.note).toContain('中心已收到')
    // The centre knows operators by code only: the code, not "1001 1001".
    expect(document.tables.find((t) => t.title === '按操作员')?.rows.map((r) => r[0])).toEqual(['1001'])

    const csv = await ok<ExportedReportView>(
      east.dispatch('report.export', { source: { kind: 'office', ...DAY }, format: 'csv' }, supervisor)
    )
    const text = Buffer.from(csv.base64, 'base64').toString('utf8')
    expect(csv.fileName).toMatch(/^网点日结汇总-.*\.csv$/)
    expect(text).toContain(eastId)
    expect(text).toContain(westId)
    expect(text).toContain('网点日结汇总表')
    // Nothing personal in the file.
    for (const card of ['C33080001', 'E21010002']) {
      const holder = DEMO_ACCOUNTS.find((a) => a.cardNumber === card)
      expect(text).not.toContain(card)
      expect(text).not.toContain(holder?.idNumber)
      expect(text).not.toContain(holder?.name)
    }
    const xlsx = await ok<ExportedReportView>(
      east.dispatch('report.export', { source: { kind: 'office', ...DAY }, format: 'xlsx' }, supervisor)
    )
    expect(xlsx.fileName).toMatch(/\.xlsx$/)
  })

  it('is for supervisors; needs registration; says so in Chinese when the centre is away, while the terminal’s own summary still answers', async () => {
    const centre = await openTestHub()
    const unregistered = await openTestRuntime({ clock: centre.clock, syncTuning: TUNING })
    expect(
      await unregistered.dispatch('report.officeSummary', DAY, await signedIn(unregistered, 'supervisor'))
    ).toMatchObject({ ok: false, error: { code: 'NOT_REGISTERED' } })

    const runtime = await openTestRuntime({ clock: centre.clock, syncTuning: TUNING })
    await registerTerminal(runtime, centre.url, OFFICE)
    const clerk = await onShift(runtime)
    const sale = await sell(runtime, clerk, 'C33080001', 'QZ-HQB-2027')
    expect(await runtime.dispatch('report.officeSummary', DAY, clerk)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    const supervisor = await signedIn(runtime, 'supervisor')
    expect(
      await runtime.dispatch('report.officeSummary', { from: '2026-10-01', to: '2026-11-22' }, supervisor)
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })

    await centre.hub.close()
    const answer = await runtime.dispatch('report.officeSummary', DAY, supervisor)
    expect(answer).toMatchObject({ ok: false, error: { code: 'SYNC_FAILED' } })
    if (answer.ok) throw new Error('expected a failure')
    expect(answer.error.message).toContain('网点汇总需要连接医保中心')
    expect(answer.error.message).toContain('本终端自己的日结汇总')
    expect(
      await runtime.dispatch(
        'report.export',
        { source: { kind: 'office', ...DAY }, format: 'csv' },
        supervisor
      )
    ).toMatchObject({ ok: false, error: { code: 'SYNC_FAILED' } })

    const own = await ok<SummaryReportView>(runtime.dispatch('report.summary', DAY, supervisor))
    expect(own.sales.map((s) => s.saleId)).toEqual([sale.saleId])
  })
})
