import type { Fen } from './money'
import type { Role } from './operators'

/** An operator as the supervisor's operator list shows it. The PIN (or its hash) never leaves the database. */
export interface OperatorAdminView {
  readonly code: string
  readonly name: string
  readonly role: Role
  readonly active: boolean
  readonly createdAt: string
  /** Locked after too many wrong PINs: until when (UTC ISO), or null. */
  readonly lockedUntil: string | null
}

/** One line of the audit log: who did what, when. `details` holds no personal data (no names, ID or card numbers). */
export interface AuditEntryView {
  readonly id: number
  readonly at: string
  readonly operatorCode: string | null
  readonly operatorName: string | null
  readonly action: string
  /** Chinese, for the actions this program writes; the action itself otherwise. */
  readonly actionLabel: string
  /** A sale id, an operator code, a shift number, the terminal: what the action was about. */
  readonly subject: string | null
  readonly details: Readonly<Record<string, string | number | boolean | null>> | null
}

export const AUDIT_ACTION_LABELS: Readonly<Record<string, string>> = {
  sign_in: '登录',
  sign_in_failed: '登录失败',
  approval_failed: '主管批准失败',
  shift_open: '开班',
  sale: '收款',
  void: '作废',
  reversal_queued: '申请冲正',
  centre_sale_accepted: '中心受理交易',
  centre_sale_rejected: '中心拒绝交易',
  centre_reversal_accepted: '中心受理冲正',
  centre_reversal_rejected: '中心拒绝冲正',
  cancellation_queued: '申请犹豫期退保',
  centre_cancellation_accepted: '中心受理退保',
  centre_cancellation_rejected: '中心拒绝退保',
  operator_created: '新增操作员',
  operator_disabled: '停用操作员',
  operator_enabled: '启用操作员',
  operator_pin_reset: '重置操作员密码',
  rejection_followed_up: '跟进被拒交易',
  rejection_told_at_counter: '联机被拒，已当场告知',
  applicant_mobile_revealed: '查看投保人完整手机号',
  report_exported: '导出报表',
  day_close: '日结',
  shift_close: '交班',
  pin_changed: '修改本人密码',
  pin_change_failed: '修改密码失败',
  first_supervisor_created: '首次设置主管',
  records_cut_found: '发现记录被删减',
  sign_out: '退出登录',
  receipt_reprinted: '补打凭条',
  terminal_registered: '向中心注册终端'
}

export function auditActionLabel(action: string): string {
  return AUDIT_ACTION_LABELS[action] ?? action
}

/**
 * Detail keys the audit log may show. Anything else written to details_json stays in the database:
 * an unknown key might one day carry a name or an ID number, so it is left out rather than shown.
 */
export const AUDIT_DETAIL_KEYS = [
  'approvedBy',
  'settledAt',
  'code',
  'role',
  'active',
  'businessDate',
  'late',
  'saleCount',
  'totalFen',
  'refundFen',
  'format',
  'chain',
  'centreLength',
  'localLength',
  'reason',
  'territory'
] as const

export type AuditDetailKey = (typeof AUDIT_DETAIL_KEYS)[number]

export type RecordChainName = 'audit' | 'closes'

export const RECORD_CHAIN_LABELS: Readonly<Record<RecordChainName, string>> = {
  audit: '审计日志',
  closes: '日结与交班报告'
}

/** One chain of records as checked: how long, and the first row that does not check, if any. */
export interface ChainCheckView {
  readonly chain: RecordChainName
  readonly length: number
  /** The first row (1-based position, its date) whose link fails: changed, re-dated, removed or inserted there. */
  readonly brokenAt: { readonly position: number; readonly at: string } | null
}

/** Whether the audit log and the close reports are as written, here and as the centre last saw them. */
export interface RecordsCheckView {
  readonly checkedAt: string
  readonly intact: boolean
  readonly chains: readonly ChainCheckView[]
  /** Each time the centre held a longer chain than this terminal has: rows were cut from the end. */
  readonly cutFound: ReadonlyArray<{
    readonly at: string
    readonly chain: RecordChainName
    readonly centreLength: number
    readonly localLength: number
  }>
}

/** A sale the centre rejected, for the supervisor's follow-up list. The payer is masked. */
export interface RejectionView {
  readonly saleId: string
  readonly createdAt: string
  readonly totalFen: Fen
  /** When the centre answered (its clock). */
  readonly settledAt: string | null
  readonly reasonCode: string | null
  readonly reasonMessage: string | null
  readonly payerNameMasked: string
  readonly payerCardMasked: string
  /** The applicant's mobile, masked; the whole number only through rejections.revealMobile (audited). */
  readonly applicantMobileMasked: string | null
  readonly operatorCode: string
  readonly operatorName: string
  /** null until a supervisor followed it up. */
  readonly followUp: {
    readonly at: string
    readonly operatorCode: string
    readonly operatorName: string
    readonly note: string
  } | null
}
