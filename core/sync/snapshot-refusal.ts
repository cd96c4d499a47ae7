import { AppError } from '../errors'

/**
 * How a snapshot import says no: in Chinese, naming lines and fields, never their content; the
 * snapshot held before stays in use. Shared by the stream's checks (backend) and the staging and
 * apply SQL (db), which finds some refusals (a repeated account number, a card on two accounts).
 */
export function snapshotRefused(reason: string): AppError {
  return new AppError('SNAPSHOT_REFUSED', `账户快照未导入：${reason}。本机继续使用原有的账户数据。`)
}

/** A line the import refuses: its number and why, in Chinese, never its content. */
export class LineRefusal extends Error {
  override readonly name = 'LineRefusal'
  constructor(
    readonly lineNo: number,
    readonly reason: string
  ) {
    super(`第 ${lineNo} 行${reason}`)
  }
}
