import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import type {
  CloseReportView,
  DayCloseCheckView,
  ShiftCloseView,
  SummaryReportView
} from '../../../core/report/summary'
import { reconciliationProblems } from '../../../core/report/summary'
import type { ReceiptView } from '../../../core/sale'
import type { Clock } from '../../../core/time'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import type { CounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, signedIn, TEST_NOW } from '../../support/helpers'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

const HQB = 'QZ-HQB-2027'
const spouse = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')?.family.find(
  (m) => m.relation === 'spouse'
)

/** A clock the test moves (the runtime reads it on every call). */
function movableClock(iso: string): Clock & { set(iso: string): void } {
  let at = new Date(iso)
  return { now: () => new Date(at.getTime()), set: (next) => void (at = new Date(next)) }
}

async function sell(
  runtime: CounterRuntime,
  as: CallContext,
  card: string,
  lines: Array<{
    insured: { relation: 'self' | 'spouse'; idNumber?: string; enrolmentConfirmed?: boolean }
    productCode: string
    units?: number
    amountFen?: number
  }>
): Promise<ReceiptView> {
  const result = await commit(runtime, as, { accountId: await accountIdOf(runtime, as, card), lines }, card)
  if (!result.ok) throw new Error(result.error.message)
  return result.value as ReceiptView
}

const self = (productCode: string) => ({ insured: { relation: 'self' as const }, productCode, units: 1 })

async function call<T>(runtime: CounterRuntime, name: string, args: unknown, as: CallContext): Promise<T> {
  const result = await runtime.dispatch(name, args, as)
  if (!result.ok) throw new Error(`${result.error.code} ${result.error.message}`)
  return result.value as T
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

describe('daily summary and closes (日结)', () => {
  it('sums a day by operator, product, region, relation, status and rule bundle, reconciling to the list fen for fen, with no personal data', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime, 'clerk')
    const agent = await onShift(runtime, 'agent')
    const supervisor = await signedIn(runtime, 'supervisor')
    const family = await sell(runtime, clerk, 'C33080001', [
      self(HQB),
      {
        insured: { relation: 'spouse', idNumber: spouse?.idNumber, enrolmentConfirmed: true },
        productCode: HQB,
        units: 1
      }
    ])
    const shenyang = await sell(runtime, clerk, 'E21010002', [self('SY-HEALTH-DEMO')])
    const suzhou = await sell(runtime, agent, 'D32050001', [
      { insured: { relation: 'self' }, productCode: 'SZ-HEALTH-DEMO', amountFen: 50_000 }
    ])
    const rejected = await sell(runtime, agent, 'D32050002', [
      { insured: { relation: 'self' }, productCode: 'SZ-HEALTH-DEMO', amountFen: 50_000 }
    ])
    // States the centre or a void would set, seeded directly: one voided, one rejected, one accepted.
    await runtime.db('sales').where({ id: shenyang.saleId }).update({ status: 'voided' })
    await runtime.db('sales').where({ id: rejected.saleId }).update({ status: 'rejected' })
    await runtime.db('sales').where({ id: suzhou.saleId }).update({ status: 'accepted' })

    const report = await call<SummaryReportView>(
      runtime,
      'report.summary',
      { from: '2026-11-22', to: '2026-11-22' },
      supervisor
    )
    const all = family.totalFen + shenyang.totalFen + suzhou.totalFen + rejected.totalFen
    expect(report.summary.totals.all).toEqual({ saleCount: 4, lineCount: 5, amountFen: all })
    expect(report.summary.totals.net).toEqual({
      saleCount: 2,
      lineCount: 3,
      amountFen: family.totalFen + suzhou.totalFen
    })
    // The list: every sale, and its totals are the summary's, fen for fen.
    expect(report.sales.map((s) => s.saleId).sort()).toEqual(
      [family, shenyang, suzhou, rejected].map((r) => r.saleId).sort()
    )
    expect(sum(report.sales.map((s) => s.totalFen))).toBe(report.summary.totals.all.amountFen)
    expect(sum(report.sales.map((s) => s.lineCount))).toBe(report.summary.totals.all.lineCount)
    expect(
      sum(report.sales.filter((s) => s.status !== 'voided' && s.status !== 'rejected').map((s) => s.totalFen))
    ).toBe(report.summary.totals.net.amountFen)
    expect(reconciliationProblems(report.summary)).toEqual([])

    expect(report.summary.byOperator.map((g) => [g.key, g.name, g.all.saleCount, g.all.amountFen])).toEqual([
      ['1001', '张敏', 2, family.totalFen + shenyang.totalFen],
      ['2001', '李强', 2, suzhou.totalFen + rejected.totalFen]
    ])
    expect(report.summary.byRegion.map((g) => [g.key, g.name, g.all.saleCount])).toEqual([
      ['210100', '沈阳市', 1],
      ['320500', '苏州市区', 2],
      ['330800', '衢州市', 1]
    ])
    expect(report.summary.byProduct.map((g) => [g.key, g.all.lineCount])).toEqual([
      [HQB, 2],
      ['SY-HEALTH-DEMO', 1],
      ['SZ-HEALTH-DEMO', 2]
    ])
    expect(report.summary.byRelation.map((g) => [g.key, g.all.lineCount])).toEqual([
      ['self', 4],
      ['spouse', 1]
    ])
    expect(report.summary.byStatus.map((g) => [g.key, g.all.saleCount, g.all.amountFen])).toEqual([
      ['queued', 1, family.totalFen],
      ['uploaded', 0, 0],
      ['accepted', 1, suzhou.totalFen],
      ['rejected', 1, rejected.totalFen],
      ['voided', 1, shenyang.totalFen]
    ])
    expect(report.summary.rulesVersions.map((g) => [g.key, g.all.saleCount, g.net.saleCount])).toEqual([
      [`210100/${shenyang.rules.version}`, 1, 0],
      [`320500/${suzhou.rules.version}`, 2, 1],
      [`330800/${family.rules.version}`, 1, 1]
    ])
    expect(sum(report.summary.rulesVersions.map((g) => g.all.saleCount))).toBe(4)

    // Only the operator asked for; another day has nothing.
    const clerkOnly = await call<SummaryReportView>(
      runtime,
      'report.summary',
      { from: '2026-11-22', to: '2026-11-22', operatorCode: '1001' },
      supervisor
    )
    expect(clerkOnly.summary.totals.all.amountFen).toBe(family.totalFen + shenyang.totalFen)
    const before = await call<SummaryReportView>(
      runtime,
      'report.summary',
      { from: '2026-11-20', to: '2026-11-21' },
      supervisor
    )
    expect(before.summary.totals.all.saleCount).toBe(0)

    // Relation, product and amounts only: no payer or insured name, no ID number.
    const text = JSON.stringify(report)
    for (const account of DEMO_ACCOUNTS.filter((a) =>
      ['C33080001', 'D32050002', 'E21010002', 'D32050001'].includes(a.cardNumber)
    )) {
      expect(text).not.toContain(account.name)
      expect(text).not.toContain(account.idNumber)
      expect(text).not.toContain(account.cardNumber)
    }
    expect(text).not.toContain(spouse?.idNumber ?? '-')
  })

  it('numbers day closes 1, 2, …, freezes them for reprint, and gives later sales to the next close', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const first = await sell(runtime, clerk, 'C33080001', [self(HQB)])

    const one = await call<CloseReportView>(runtime, 'report.closeDay', { date: '2026-11-22' }, supervisor)
    expect(one).toMatchObject({
      number: 1,
      kind: 'day',
      businessDate: '2026-11-22',
      late: false,
      saleCount: 1,
      totalFen: first.totalFen,
      closedBy: { code: '9001' }
    })
    expect(one.sales.map((s) => s.saleId)).toEqual([first.saleId])

    // Nothing left for the day: refused, and no number is used up.
    expect(await runtime.dispatch('report.closeDay', { date: '2026-11-22' }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'CLOSE_REFUSED', message: expect.stringContaining('没有尚未日结的交易') }
    })

    const later = await sell(runtime, clerk, 'E21010002', [self('SY-HEALTH-DEMO')])
    // A status change after the close does not change the frozen report.
    await runtime.db('sales').where({ id: first.saleId }).update({ status: 'accepted' })
    const two = await call<CloseReportView>(runtime, 'report.closeDay', { date: '2026-11-22' }, supervisor)
    expect(two).toMatchObject({ number: 2, saleCount: 1, totalFen: later.totalFen })
    expect(two.sales.map((s) => s.saleId)).toEqual([later.saleId])

    const reprint = await call<CloseReportView>(runtime, 'report.close', { number: 1 }, supervisor)
    expect(reprint).toEqual(one)
    expect(reprint.summary.byStatus.find((g) => g.key === 'queued')?.all.saleCount).toBe(1)
    expect(
      (await call<CloseReportView[]>(runtime, 'report.closes', {}, supervisor)).map((c) => c.number)
    ).toEqual([1, 2])
    expect(await runtime.dispatch('report.close', { number: 3 }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'CLOSE_NOT_FOUND' }
    })

    const numbers = await runtime.db('close_reports').pluck('number')
    expect(new Set(numbers).size).toBe(numbers.length)
    expect(await runtime.db('sales').whereNull('day_close_id').count({ n: '*' })).toEqual([{ n: 0 }])
  })

  it('refuses to change or delete a close report in the database itself', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    await sell(runtime, clerk, 'C33080001', [self(HQB)])
    await call<CloseReportView>(runtime, 'report.closeDay', { date: '2026-11-22' }, supervisor)
    await expect(runtime.db('close_reports').update({ total_fen: 1 })).rejects.toThrow(/immutable/)
    await expect(runtime.db('close_reports').delete()).rejects.toThrow(/immutable/)
    expect(await runtime.db('close_reports').pluck('number')).toEqual([1])
  })

  it('closes a past date late, and refuses a future date', async () => {
    const clock = movableClock('2026-11-21T02:30:00.000Z')
    const runtime = await openTestRuntime({ clock })
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const yesterday = await sell(runtime, clerk, 'C33080001', [self(HQB)])
    clock.set(TEST_NOW)
    const today = await sell(runtime, clerk, 'E21010002', [self('SY-HEALTH-DEMO')])

    expect(await runtime.dispatch('report.closeDay', { date: '2026-11-23' }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'CLOSE_REFUSED', message: expect.stringContaining('未来') }
    })
    const late = await call<CloseReportView>(runtime, 'report.closeDay', { date: '2026-11-21' }, supervisor)
    expect(late).toMatchObject({
      number: 1,
      businessDate: '2026-11-21',
      late: true,
      saleCount: 1,
      totalFen: yesterday.totalFen
    })
    const onTime = await call<CloseReportView>(runtime, 'report.closeDay', { date: '2026-11-22' }, supervisor)
    expect(onTime).toMatchObject({
      number: 2,
      businessDate: '2026-11-22',
      late: false,
      totalFen: today.totalFen
    })
    expect(
      (
        await call<CloseReportView[]>(
          runtime,
          'report.closes',
          { from: '2026-11-21', to: '2026-11-21' },
          supervisor
        )
      ).map((c) => c.number)
    ).toEqual([1])
  })

  it('closes a shift: its sales, numbered with the day closes, and the shift ends; the day close still takes the whole day', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const sale = await sell(runtime, clerk, 'C33080001', [self(HQB)])
    const session = await call<{ shift: { id: number } }>(runtime, 'auth.session', {}, clerk)

    const shift = await call<CloseReportView>(
      runtime,
      'report.closeShift',
      { shiftId: session.shift.id },
      supervisor
    )
    expect(shift).toMatchObject({
      number: 1,
      kind: 'shift',
      shiftId: session.shift.id,
      businessDate: '2026-11-22',
      saleCount: 1,
      totalFen: sale.totalFen
    })
    expect(await call<{ shift: unknown }>(runtime, 'auth.session', {}, clerk)).toMatchObject({ shift: null })
    expect(
      await runtime.dispatch('report.closeShift', { shiftId: session.shift.id }, supervisor)
    ).toMatchObject({ ok: false, error: { code: 'CLOSE_REFUSED' } })
    expect(await runtime.dispatch('report.closeShift', { shiftId: 999 }, supervisor)).toMatchObject({
      ok: false,
      error: { code: 'CLOSE_REFUSED' }
    })

    const day = await call<CloseReportView>(runtime, 'report.closeDay', { date: '2026-11-22' }, supervisor)
    expect(day).toMatchObject({ number: 2, kind: 'day', saleCount: 1, totalFen: sale.totalFen })
  })

  it('lists the shifts to hand over: open ones and ones with sales on no shift report, with what is left to close', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const first = await sell(runtime, clerk, 'C33080001', [self(HQB)])
    const second = await sell(runtime, clerk, 'E21010002', [self('SY-HEALTH-DEMO')])
    const { shift } = await call<{ shift: { id: number } }>(runtime, 'auth.session', {}, clerk)

    const before = await call<ShiftCloseView[]>(
      runtime,
      'report.shifts',
      { from: '2026-11-22', to: '2026-11-22' },
      supervisor
    )
    expect(before).toEqual([
      {
        shiftId: shift.id,
        operatorCode: '1001',
        operatorName: '张敏',
        openedAt: TEST_NOW,
        closedAt: null,
        unclosedSaleCount: 2,
        unclosedTotalFen: first.totalFen + second.totalFen
      }
    ])
    await call<CloseReportView>(runtime, 'report.closeShift', { shiftId: shift.id }, supervisor)
    // Closed and nothing left over: still listed for its own day, with nothing to close; not for another day.
    expect(
      await call<ShiftCloseView[]>(
        runtime,
        'report.shifts',
        { from: '2026-11-22', to: '2026-11-22' },
        supervisor
      )
    ).toEqual([{ ...before[0], closedAt: TEST_NOW, unclosedSaleCount: 0, unclosedTotalFen: 0 }])
    expect(
      await call<ShiftCloseView[]>(
        runtime,
        'report.shifts',
        { from: '2026-11-23', to: '2026-11-23' },
        supervisor
      )
    ).toEqual([])
  })

  it('a clerk hands over their own shift with a supervisor’s code and PIN; nobody approves their own', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisorOnShift = await onShift(runtime, 'supervisor')
    const sale = await sell(runtime, clerk, 'C33080001', [self(HQB)])
    const { shift } = await call<{ shift: { id: number } }>(runtime, 'auth.session', {}, clerk)

    expect(
      await runtime.dispatch('report.handOver', { supervisorCode: '9001', supervisorPin: '000000' }, clerk)
    ).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } })
    expect(
      await runtime.dispatch('report.handOver', { supervisorCode: '1001', supervisorPin: '111111' }, clerk)
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(
      await runtime.dispatch(
        'report.handOver',
        { supervisorCode: '9001', supervisorPin: '999999' },
        supervisorOnShift
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN', message: expect.stringContaining('另一名主管') }
    })
    // Refused three times: the shift is still open, nothing closed.
    expect(await call<{ shift: { id: number } }>(runtime, 'auth.session', {}, clerk)).toMatchObject({
      shift: { id: shift.id }
    })

    const report = await call<CloseReportView>(
      runtime,
      'report.handOver',
      { supervisorCode: '9001', supervisorPin: '999999' },
      clerk
    )
    expect(report).toMatchObject({
      kind: 'shift',
      shiftId: shift.id,
      saleCount: 1,
      totalFen: sale.totalFen,
      closedBy: { code: '9001' }
    })
    expect(await call<{ shift: unknown }>(runtime, 'auth.session', {}, clerk)).toMatchObject({ shift: null })
    expect(
      await runtime.dispatch('report.handOver', { supervisorCode: '9001', supervisorPin: '999999' }, clerk)
    ).toMatchObject({ ok: false, error: { code: 'NO_SHIFT' } })
    const audit = await runtime
      .db('audit_log')
      .where({ action: 'shift_close' })
      .select<Array<{ operator_id: number; details_json: string }>>('operator_id', 'details_json')
    expect(audit).toHaveLength(1)
    expect(JSON.parse(audit[0].details_json)).toMatchObject({ approvedBy: '9001', saleCount: 1 })
  })

  it('two hand-overs of one shift sent at once (a double press, two windows) make one report', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const { shift } = await call<{ shift: { id: number } }>(runtime, 'auth.session', {}, clerk)
    const approval = { supervisorCode: '9001', supervisorPin: '999999' }
    const answers = await Promise.all([
      runtime.dispatch('report.handOver', approval, clerk),
      runtime.dispatch('report.handOver', approval, clerk),
      runtime.dispatch('report.closeShift', { shiftId: shift.id }, supervisor),
      runtime.dispatch('report.closeShift', { shiftId: shift.id }, supervisor)
    ])
    expect(answers.filter((answer) => answer.ok)).toHaveLength(1)
    expect(
      answers
        .filter((answer) => !answer.ok)
        .map((answer) => !answer.ok && answer.error.code)
        .sort()
    ).toEqual(expect.arrayContaining(['CLOSE_REFUSED']))
    expect(await runtime.db('close_reports').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 1 }])
  })

  it('before a day close, says which shifts are still open and how many sales the centre has not answered', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const queued = await sell(runtime, clerk, 'C33080001', [self(HQB)])
    const sent = await sell(runtime, clerk, 'E21010002', [self('SY-HEALTH-DEMO')])
    const answered = await sell(runtime, clerk, 'A53000001', [self('YN-JRAK')])
    // As the upload leaves them: one sent without an answer, one accepted.
    await runtime.db('sales').where({ id: sent.saleId }).update({ status: 'uploaded' })
    await runtime.db('sales').where({ id: answered.saleId }).update({ status: 'accepted' })

    const check = await call<DayCloseCheckView>(
      runtime,
      'report.closeDayCheck',
      { date: '2026-11-22' },
      supervisor
    )
    expect(check).toMatchObject({
      date: '2026-11-22',
      saleCount: 3,
      unansweredCount: 2,
      unansweredFen: queued.totalFen + sent.totalFen,
      openShifts: [{ operatorCode: '1001', closedAt: null }]
    })
    await call(runtime, 'report.handOver', { supervisorCode: '9001', supervisorPin: '999999' }, clerk)
    await call(runtime, 'report.closeDay', { date: '2026-11-22' }, supervisor)
    expect(
      await call<DayCloseCheckView>(runtime, 'report.closeDayCheck', { date: '2026-11-22' }, supervisor)
    ).toEqual({ date: '2026-11-22', saleCount: 0, unansweredCount: 0, unansweredFen: 0, openShifts: [] })
  })

  it('charts the day by hour and product, net only, on Shanghai hours', async () => {
    const clock = movableClock('2026-11-22T01:05:00.000Z')
    const runtime = await openTestRuntime({ clock })
    const clerk = await onShift(runtime)
    const supervisor = await signedIn(runtime, 'supervisor')
    const nine = await sell(runtime, clerk, 'C33080001', [self(HQB)])
    clock.set('2026-11-22T06:40:00.000Z')
    const twoPm = await sell(runtime, clerk, 'E21010002', [self('SY-HEALTH-DEMO')])
    const voided = await sell(runtime, clerk, 'A53000001', [self('YN-JRAK')])
    await runtime.db('sales').where({ id: voided.saleId }).update({ status: 'voided' })

    const report = await call<SummaryReportView>(
      runtime,
      'report.summary',
      { from: '2026-11-22', to: '2026-11-22' },
      supervisor
    )
    expect(report.byHour).toHaveLength(24)
    expect(report.byHour[9].byProduct).toEqual({ [HQB]: { lineCount: 1, amountFen: nine.totalFen } })
    // The voided sale, in the same hour, took nothing.
    expect(report.byHour[14].byProduct).toEqual({
      'SY-HEALTH-DEMO': { lineCount: 1, amountFen: twoPm.totalFen }
    })
    const charted = report.byHour
      .flatMap((h) => Object.values(h.byProduct))
      .reduce((acc, f) => acc + f.amountFen, 0)
    expect(charted).toBe(report.summary.totals.net.amountFen)
  })

  it('refuses clerks and agents on every report call', async () => {
    const runtime = await openTestRuntime()
    for (const role of ['clerk', 'agent'] as const) {
      const as = await signedIn(runtime, role)
      for (const [name, args] of [
        ['report.summary', { from: '2026-11-22', to: '2026-11-22' }],
        ['report.closeDay', { date: '2026-11-22' }],
        ['report.closeDayCheck', { date: '2026-11-22' }],
        ['report.closeShift', { shiftId: 1 }],
        ['report.closes', {}],
        ['report.close', { number: 1 }],
        ['report.shifts', { from: '2026-11-22', to: '2026-11-22' }]
      ] as const) {
        expect(await runtime.dispatch(name, args, as)).toEqual({
          ok: false,
          error: { code: 'FORBIDDEN', message: expect.any(String) }
        })
      }
    }
    expect(await runtime.dispatch('report.closes', {}, { transport: 'test' })).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' }
    })
    expect(await runtime.db('close_reports').count({ n: '*' })).toEqual([{ n: 0 }])
  })
})
