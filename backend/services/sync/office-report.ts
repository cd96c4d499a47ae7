import { AppError } from '../../../core/errors'
import type { Logger } from '../../../core/log'
import type { OfficeReportRequest, OfficeReportResponse } from '../../../core/sync/protocol'
import { CentreCallError } from './centre-client'
import type { CentreConnection } from './connection'

/**
 * The sales the centre received from this terminal's office (网点), read-only: nothing is written
 * locally, not even the contact time. NOT_REGISTERED before registration; SYNC_FAILED when the
 * centre cannot be reached; the centre's refusal (a bad range) as INVALID_ARGUMENT.
 */
export async function officeReport(
  deps: { connection: CentreConnection; log: Logger },
  range: OfficeReportRequest
): Promise<OfficeReportResponse> {
  const centre = await deps.connection.client()
  try {
    return await deps.connection.authorized(centre, (token) => centre.officeReport(token, range))
  } catch (error) {
    if (!(error instanceof CentreCallError)) throw error
    deps.log.error('office_report_failed', { kind: error.kind, status: error.status ?? 0 })
    if (error.kind === 'refused' && error.status === 400)
      throw new AppError('INVALID_ARGUMENT', error.message)
    if (error.kind !== 'unreachable')
      throw new AppError('SYNC_FAILED', `中心拒绝了网点汇总的查询：${error.message}`)
    throw new AppError(
      'SYNC_FAILED',
      `网点汇总需要连接医保中心，现在连不上（${error.message}）。本终端自己的日结汇总不需要中心，仍可离线查看与打印。`
    )
  }
}
