import type { Knex } from 'knex'
import type { Caller } from '../../core/api/contract'
import { AppError } from '../../core/errors'
import { reportCsv } from '../../core/report/csv'
import {
  closeDocument,
  officeDocument,
  summaryDocument,
  type ReportDocument,
  type ReportMeta,
  type ReportSource
} from '../../core/report/document'
import type { Clock } from '../../core/time'
import type { OperatorsRepository } from '../../db/repositories/operators'
import type { SyncStateRepository } from '../../db/repositories/sync-state'
import type { ReportsService } from './reports'
import { workbookOf } from './report-workbook'

export type ExportFormat = 'xlsx' | 'csv'

export interface ExportedReport {
  readonly fileName: string
  readonly mimeType: string
  /** The file's bytes, base64: the same over IPC and HTTP; the renderer saves it as a download. */
  readonly base64: string
}

const MIME_TYPES: Readonly<Record<ExportFormat, string>> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8'
}

export interface ReportExportService {
  /** The document a report prints from (and every export is drawn from). */
  document(caller: Caller, source: ReportSource): Promise<ReportDocument>
  /** The document as a file; each export is written to the audit log. */
  export(caller: Caller, source: ReportSource, format: ExportFormat): Promise<ExportedReport>
}

export interface ReportExportDeps {
  readonly reports: ReportsService
  readonly operators: OperatorsRepository
  readonly syncState: SyncStateRepository
  readonly db: Knex
  readonly clock: Clock
  readonly terminalId: string
}

/** Report documents for print and export: the figures from the reports service, the page header from who asks, when and where. */
export function createReportExportService(deps: ReportExportDeps): ReportExportService {
  async function staffName(id: number): Promise<{ code: string; name: string }> {
    const operator = await deps.operators.findById(id)
    if (!operator) throw new AppError('UNAUTHENTICATED', '请先登录')
    return { code: operator.code, name: operator.name }
  }

  async function operatorScope(code: string): Promise<string> {
    const operator = await deps.operators.findByCode(code)
    return operator ? `${operator.code} ${operator.name}` : code
  }

  async function meta(caller: Caller, operator: string): Promise<ReportMeta> {
    return {
      office: (await deps.syncState.read()).territory,
      terminalId: deps.terminalId,
      operator,
      printedBy: await staffName(caller.operatorId),
      printedAt: deps.clock.now().toISOString()
    }
  }

  async function documentOf(caller: Caller, source: ReportSource): Promise<ReportDocument> {
    if (source.kind === 'office') {
      const view = await deps.reports.officeSummary({ from: source.from, to: source.to })
      if (!view.office) throw new AppError('INTERNAL', '网点汇总缺少中心的来源信息')
      return officeDocument({ ...view, office: view.office }, await meta(caller, '全部'))
    }
    if (source.kind === 'summary') {
      const view = await deps.reports.summary(source)
      return summaryDocument(
        view,
        await meta(caller, view.operatorCode === null ? '全部' : await operatorScope(view.operatorCode))
      )
    }
    const view = await deps.reports.close({ number: source.number })
    let operator = '全部'
    if (view.kind === 'shift' && view.shiftId !== null) {
      // A shift is one operator's: the shift close is theirs.
      const shift = await deps
        .db('shifts')
        .where({ id: view.shiftId })
        .first<{ operator_id: number } | undefined>('operator_id')
      const holder = shift ? await deps.operators.findById(shift.operator_id) : null
      if (holder) operator = `${holder.code} ${holder.name}`
    }
    return closeDocument(view, await meta(caller, operator))
  }

  return {
    document: documentOf,
    async export(caller, source, format) {
      const document = await documentOf(caller, source)
      const bytes = format === 'xlsx' ? await workbookOf(document) : Buffer.from(reportCsv(document), 'utf8')
      // Subject: the close number or the date range; details: the format only (nothing personal).
      await deps.operators.audit({
        at: deps.clock.now().toISOString(),
        operatorId: caller.operatorId,
        action: 'report_exported',
        subject:
          source.kind === 'close'
            ? String(source.number)
            : `${source.kind === 'office' ? '网点 ' : ''}${source.from}至${source.to}`,
        details: { format }
      })
      return {
        fileName: `${document.fileBaseName}.${format}`,
        mimeType: MIME_TYPES[format],
        base64: bytes.toString('base64')
      }
    }
  }
}
