import type { Knex } from 'knex'
import type { Caller } from '../../core/api/contract'
import { AppError } from '../../core/errors'
import {
  hourly,
  reconciliationProblems,
  summarise,
  type CloseReportView,
  type DayCloseCheckView,
  type DailySummaryView,
  type ReportSaleRow,
  type ShiftCloseView,
  type SummaryLine,
  type SummaryReportView
} from '../../core/report/summary'
import { OFFICE_REPORT_MAX_DAYS, type OfficeReportResponse } from '../../core/sync/protocol'
import { shanghaiDate, type Clock } from '../../core/time'
import type { OperatorsRepository } from '../../db/repositories/operators'
import type { CloseRecord, ReportsRepository } from '../../db/repositories/reports'
import type { Logger } from './log'

export interface ReportsService {
  summary(request: {
    from: string
    to: string
    terminalId?: string
    operatorCode?: string
  }): Promise<SummaryReportView>
  /**
   * The office's (网点) summary, from the centre: every terminal registered with this one's
   * territory, only what the centre has received. Read-only; needs the centre (SYNC_FAILED without it).
   */
  officeSummary(request: { from: string; to: string }): Promise<SummaryReportView>
  /** What a day close would leave open: shifts not handed over, sales the centre has not answered. */
  closeDayCheck(request: { date: string }): Promise<DayCloseCheckView>
  closeDay(caller: Caller, request: { date: string }): Promise<CloseReportView>
  closeShift(caller: Caller, request: { shiftId: number }): Promise<CloseReportView>
  /**
   * 交班 asked for by the operator on shift, confirmed at the counter by a supervisor's code and PIN
   * (another person: the one who counts the hand-over). Closes the caller's own open shift.
   */
  handOver(
    caller: Caller,
    approval: { supervisorCode: string; supervisorPin: string }
  ): Promise<CloseReportView>
  closes(request: { from?: string; to?: string }): Promise<CloseReportView[]>
  /** Shifts opened in the range (Shanghai dates), and every shift still open or with sales on no shift report. */
  shifts(request: { from: string; to: string }): Promise<ShiftCloseView[]>
  close(request: { number: number }): Promise<CloseReportView>
}

export interface ReportsDeps {
  readonly reports: ReportsRepository
  readonly operators: OperatorsRepository
  readonly db: Knex
  readonly clock: Clock
  readonly terminalId: string
  readonly log: Logger
  /** A supervisor's code and PIN given at the counter (AuthService.approveBySupervisor). */
  readonly approveBySupervisor: (code: string, pin: string) => Promise<{ id: number; code: string }>
  /** The caller's open shift on this terminal; refused when there is none (AuthService.requireShift). */
  readonly requireShift: (caller: Caller) => Promise<{ id: number }>
  /** The centre's office report (the sync service's call); absent: no office summary (NOT_REGISTERED). */
  readonly office?: (range: { from: string; to: string }) => Promise<OfficeReportResponse>
}

/** The UTC instant a Shanghai calendar date starts (Shanghai has no daylight saving: always +08:00). */
export function shanghaiDayStartUtc(date: string): string {
  return new Date(`${date}T00:00:00+08:00`).toISOString()
}

export function nextDate(date: string): string {
  const next = new Date(`${date}T00:00:00Z`)
  next.setUTCDate(next.getUTCDate() + 1)
  return next.toISOString().slice(0, 10)
}

const MAX_RANGE_DAYS = 366

/** The centre's lines as the summary's: one sale row per sale, in the centre's order (oldest first). */
export function officeLinesAndSales(report: OfficeReportResponse): {
  lines: SummaryLine[]
  sales: ReportSaleRow[]
} {
  const lines: SummaryLine[] = report.lines.map(({ terminalId: _terminal, instalmentNo, ...line }) => ({
    ...line,
    kind: instalmentNo === undefined ? 'new' : 'renewal'
  }))
  const sales = new Map<string, ReportSaleRow & { totalFen: number; lineCount: number }>()
  for (const line of report.lines) {
    const sale = sales.get(line.saleId)
    if (sale) {
      sale.totalFen += line.premiumFen
      sale.lineCount += 1
      continue
    }
    sales.set(line.saleId, {
      saleId: line.saleId,
      createdAt: line.createdAt,
      status: line.status,
      operatorCode: line.operatorCode,
      operatorName: line.operatorName,
      regionCode: line.regionCode,
      terminalId: line.terminalId,
      totalFen: line.premiumFen,
      lineCount: 1
    })
  }
  return { lines, sales: [...sales.values()] }
}

/**
 * The daily summary (日结) and the close reports (交班 / 日结单). Supervisor only (the contract).
 * A close is numbered per terminal inside the transaction that writes it, so numbers never repeat;
 * it freezes the summary and the transaction list as they were, for reprint.
 */
export function createReportsService(deps: ReportsDeps): ReportsService {
  function checked(summary: DailySummaryView): DailySummaryView {
    const problems = reconciliationProblems(summary)
    // Cannot happen with summarise(); if it ever does, say so instead of printing wrong figures.
    if (problems.length > 0) {
      deps.log.error('summary_not_reconciled', { problems: problems.join(',') })
      throw new AppError('INTERNAL', '汇总数据核对不平，请联系技术支持')
    }
    return summary
  }

  function view({ id: _id, ...record }: CloseRecord): CloseReportView {
    return record
  }

  async function closed(
    record: CloseRecord,
    caller: Caller,
    approvedBy?: { code: string }
  ): Promise<CloseReportView> {
    await deps.operators.audit({
      at: record.closedAt,
      operatorId: caller.operatorId,
      action: record.kind === 'day' ? 'day_close' : 'shift_close',
      subject: String(record.number),
      details: {
        businessDate: record.businessDate,
        late: record.late,
        saleCount: record.saleCount,
        totalFen: record.totalFen,
        ...(approvedBy ? { approvedBy: approvedBy.code } : {})
      }
    })
    return view(record)
  }

  async function closeShiftAs(
    caller: Caller,
    shiftId: number,
    closedBy: number,
    approvedBy?: { code: string }
  ): Promise<CloseReportView> {
    const shift = await deps.reports.shift(deps.terminalId, shiftId)
    if (!shift) throw new AppError('CLOSE_REFUSED', `本终端没有第 ${shiftId} 号班次`)
    const now = deps.clock.now().toISOString()
    // A shift still open is closed with its report, even with no sale; a closed one only for sales left over.
    const record = await deps.reports.close({
      terminalId: deps.terminalId,
      kind: 'shift',
      businessDate: shanghaiDate(new Date(shift.openedAt)),
      select: { shiftId },
      closedAt: now,
      closedBy,
      late: false,
      allowEmpty: shift.closedAt === null
    })
    if (!record) throw new AppError('CLOSE_REFUSED', `第 ${shiftId} 号班次已交班，且没有尚未交班的交易`)
    return closed(record, caller, approvedBy)
  }

  return {
    async summary({ from, to, terminalId, operatorCode }) {
      if (from > to) throw new AppError('INVALID_ARGUMENT', '开始日期不能晚于结束日期')
      const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000
      if (days >= MAX_RANGE_DAYS)
        throw new AppError('INVALID_ARGUMENT', `查询区间不能超过 ${MAX_RANGE_DAYS} 天`)
      const scope = {
        fromUtc: shanghaiDayStartUtc(from),
        toUtc: shanghaiDayStartUtc(nextDate(to)),
        terminalId,
        operatorCode
      }
      const lines = await deps.reports.summaryLines(scope)
      const sales = await deps.reports.saleRows(scope)
      const cancellations = await deps.reports.cancellationRows(scope)
      return {
        from,
        to,
        terminalId: terminalId ?? null,
        operatorCode: operatorCode ?? null,
        summary: checked(summarise(lines)),
        byHour: hourly(lines),
        sales,
        cancellations
      }
    },

    async officeSummary({ from, to }) {
      if (from > to) throw new AppError('INVALID_ARGUMENT', '开始日期不能晚于结束日期')
      const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1
      if (days > OFFICE_REPORT_MAX_DAYS)
        throw new AppError(
          'INVALID_ARGUMENT',
          `网点汇总的区间不能超过 ${OFFICE_REPORT_MAX_DAYS} 天（含首尾）`
        )
      if (!deps.office) throw new AppError('NOT_REGISTERED', '本终端尚未向中心注册，无法取得网点汇总')
      const report = await deps.office({ from, to })
      const { lines, sales } = officeLinesAndSales(report)
      return {
        from,
        to,
        terminalId: null,
        operatorCode: null,
        summary: checked(summarise(lines)),
        byHour: hourly(lines),
        sales,
        office: { territory: report.territory, terminalIds: report.terminals, asOf: report.generatedAt }
      }
    },

    async closeDay(caller, { date }) {
      const now = deps.clock.now()
      const today = shanghaiDate(now)
      if (date > today) throw new AppError('CLOSE_REFUSED', `不能为未来日期（${date}）日结`)
      const record = await deps.reports.close({
        terminalId: deps.terminalId,
        kind: 'day',
        businessDate: date,
        select: { fromUtc: shanghaiDayStartUtc(date), toUtc: shanghaiDayStartUtc(nextDate(date)) },
        closedAt: now.toISOString(),
        closedBy: caller.operatorId,
        late: date < today,
        allowEmpty: false
      })
      if (!record) throw new AppError('CLOSE_REFUSED', `${date} 没有尚未日结的交易`)
      return closed(record, caller)
    },

    async closeDayCheck({ date }) {
      const select = { fromUtc: shanghaiDayStartUtc(date), toUtc: shanghaiDayStartUtc(nextDate(date)) }
      const [sales, shifts] = await Promise.all([
        deps.reports.notDayClosed(deps.terminalId, select),
        deps.reports.shifts(deps.terminalId, select)
      ])
      return { date, ...sales, openShifts: shifts.filter((shift) => shift.closedAt === null) }
    },

    closeShift: (caller, { shiftId }) => closeShiftAs(caller, shiftId, caller.operatorId),

    async handOver(caller, { supervisorCode, supervisorPin }) {
      const shift = await deps.requireShift(caller)
      const supervisor = await deps.approveBySupervisor(supervisorCode, supervisorPin)
      // The hand-over is counted by someone else: a supervisor on shift closes their own from the closes screen.
      if (supervisor.id === caller.operatorId)
        throw new AppError('FORBIDDEN', '交班须由另一名主管确认：请在“日结单与交班单”中自行交班')
      return closeShiftAs(caller, shift.id, supervisor.id, supervisor)
    },

    closes: async ({ from, to }) => (await deps.reports.list(deps.terminalId, { from, to })).map(view),

    shifts: ({ from, to }) =>
      deps.reports.shifts(deps.terminalId, {
        fromUtc: shanghaiDayStartUtc(from),
        toUtc: shanghaiDayStartUtc(nextDate(to))
      }),

    async close({ number }) {
      const record = await deps.reports.find(deps.terminalId, number)
      if (!record) throw new AppError('CLOSE_NOT_FOUND', `没有第 ${number} 号日结单`)
      return view(record)
    }
  }
}
