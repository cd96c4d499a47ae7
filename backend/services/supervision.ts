import type { Caller } from '../../core/api/contract'
import { AppError } from '../../core/errors'
import { maskMobile } from '../../core/masking'
import { maskedPayer } from './cardholder'
import type { Role } from '../../core/operators'
import {
  AUDIT_DETAIL_KEYS,
  auditActionLabel,
  type AuditEntryView,
  type OperatorAdminView,
  type RejectionView
} from '../../core/supervision'
import type { Clock } from '../../core/time'
import type { AccountsRepository } from '../../db/repositories/accounts'
import type { OperatorRecord, OperatorsRepository } from '../../db/repositories/operators'
import type { SupervisionRepository } from '../../db/repositories/supervision'
import type { AuthService } from './auth'
import { hashPin } from './pin-hash'

export interface SupervisionService {
  listOperators(): Promise<OperatorAdminView[]>
  createOperator(
    caller: Caller,
    operator: { code: string; name: string; role: Role; pin: string }
  ): Promise<OperatorAdminView>
  setActive(caller: Caller, request: { code: string; active: boolean }): Promise<OperatorAdminView>
  resetPin(caller: Caller, request: { code: string; pin: string }): Promise<OperatorAdminView>
  auditLog(filter: {
    from?: string
    to?: string
    operatorCode?: string
    action?: string
    limit: number
  }): Promise<AuditEntryView[]>
  rejections(filter: { followedUp?: boolean }): Promise<RejectionView[]>
  followUp(caller: Caller, request: { saleId: string; note: string }): Promise<RejectionView>
  /** The whole mobile of a rejected sale's applicant, so the supervisor can call; audited. */
  revealMobile(caller: Caller, request: { saleId: string }): Promise<{ mobile: string }>
}

export interface SupervisionDeps {
  readonly operators: OperatorsRepository
  readonly supervision: SupervisionRepository
  readonly accounts: AccountsRepository
  readonly auth: AuthService
  readonly clock: Clock
}

/** Only the detail keys known to carry no personal data, and only plain values. */
function safeDetails(json: string | null): AuditEntryView['details'] {
  if (json === null) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const details: Record<string, string | number | boolean | null> = {}
  for (const key of AUDIT_DETAIL_KEYS) {
    const value = (parsed as Record<string, unknown>)[key]
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    )
      details[key] = value
  }
  return Object.keys(details).length > 0 ? details : null
}

/**
 * The supervisor's back office: operators (create, disable, new PIN), the audit log, and the sales
 * the centre rejected with their follow-up. The dispatcher lets only supervisors reach it; every
 * change is written to the audit log with the acting supervisor, and no PIN is ever logged or returned.
 */
export function createSupervisionService(deps: SupervisionDeps): SupervisionService {
  const now = () => deps.clock.now().toISOString()

  async function operatorOf(code: string): Promise<OperatorRecord> {
    const operator = await deps.operators.findByCode(code)
    if (!operator) throw new AppError('INVALID_ARGUMENT', `没有工号为 ${code} 的操作员`)
    return operator
  }

  async function adminView(code: string): Promise<OperatorAdminView> {
    const operator = (await deps.operators.list()).find((o) => o.code === code)
    if (!operator) throw new AppError('INVALID_ARGUMENT', `没有工号为 ${code} 的操作员`)
    const locked = deps.auth.lockedUntil(operator.code)
    return {
      code: operator.code,
      name: operator.name,
      role: operator.role,
      active: operator.active,
      createdAt: operator.createdAt,
      lockedUntil: locked === null ? null : new Date(locked).toISOString()
    }
  }

  async function rejectionViews(filter: { followedUp?: boolean }): Promise<RejectionView[]> {
    const rows = await deps.supervision.rejections(filter)
    return Promise.all(
      rows.map(async (row): Promise<RejectionView> => {
        const account = await deps.accounts.findById(row.account_id)
        return {
          saleId: row.id,
          createdAt: row.created_at,
          totalFen: row.total_fen,
          settledAt: row.settled_at,
          reasonCode: row.result_code,
          reasonMessage: row.result_message,
          ...maskedPayer(account),
          applicantMobileMasked: row.applicant_mobile === null ? null : maskMobile(row.applicant_mobile),
          operatorCode: row.operator_code,
          operatorName: row.operator_name,
          followUp:
            row.followed_up_at === null
              ? null
              : {
                  at: row.followed_up_at,
                  operatorCode: row.follow_up_code ?? '',
                  operatorName: row.follow_up_name ?? '',
                  note: row.follow_up_note ?? ''
                }
        }
      })
    )
  }

  return {
    async listOperators() {
      const operators = await deps.operators.list()
      return Promise.all(operators.map((operator) => adminView(operator.code)))
    },

    async createOperator(caller, operator) {
      if (await deps.operators.findByCode(operator.code))
        throw new AppError('INVALID_ARGUMENT', `工号 ${operator.code} 已存在`)
      const at = now()
      // One transaction with its audit line. Subject: the new operator's code; details: the role
      // only (the name is personal data, the PIN a secret).
      await deps.operators.create(
        {
          code: operator.code,
          name: operator.name,
          role: operator.role,
          pinHash: await hashPin(operator.pin),
          createdAt: at,
          // The supervisor chose it: the new operator picks their own at first sign-in.
          pinChangeRequired: true
        },
        {
          at,
          operatorId: caller.operatorId,
          action: 'operator_created',
          subject: operator.code,
          details: { role: operator.role }
        }
      )
      return adminView(operator.code)
    },

    async setActive(caller, { code, active }) {
      const operator = await operatorOf(code)
      if (operator.active !== active) {
        if (!active) {
          if (operator.id === caller.operatorId) throw new AppError('INVALID_ARGUMENT', '不能停用自己的工号')
          if (operator.role === 'supervisor' && (await deps.operators.activeSupervisorCount()) <= 1) {
            throw new AppError('INVALID_ARGUMENT', '不能停用最后一名在用的主管')
          }
        }
        await deps.operators.setActive(operator.id, active, {
          at: now(),
          operatorId: caller.operatorId,
          action: active ? 'operator_enabled' : 'operator_disabled',
          subject: code
        })
      }
      // Disabled: signed out at once; sign-in already refuses an inactive operator.
      if (!active) deps.auth.endSessionsOf(operator.id)
      return adminView(code)
    },

    async resetPin(caller, { code, pin }) {
      const operator = await operatorOf(code)
      // Someone else's PIN, set by the supervisor, is known to two people: changed at its first use.
      await deps.operators.setPinHash(
        operator.id,
        await hashPin(pin),
        { at: now(), operatorId: caller.operatorId, action: 'operator_pin_reset', subject: code },
        operator.id !== caller.operatorId
      )
      deps.auth.clearFailures(code)
      return adminView(code)
    },

    async auditLog(filter) {
      const utc = (at: string | undefined) => (at === undefined ? undefined : new Date(at).toISOString())
      const rows = await deps.supervision.auditLog({
        fromUtc: utc(filter.from),
        toUtc: utc(filter.to),
        operatorCode: filter.operatorCode,
        action: filter.action,
        limit: filter.limit
      })
      return rows.map((row) => ({
        id: row.id,
        at: row.at,
        operatorCode: row.operator_code,
        operatorName: row.operator_name,
        action: row.action,
        actionLabel: auditActionLabel(row.action),
        subject: row.subject,
        details: safeDetails(row.details_json)
      }))
    },

    rejections: rejectionViews,

    async followUp(caller, { saleId, note }) {
      const done = await deps.supervision.followUp(saleId, { at: now(), operatorId: caller.operatorId, note })
      if (!done) {
        const current = (await rejectionViews({})).find((r) => r.saleId === saleId)
        if (!current) throw new AppError('SALE_NOT_FOUND', '没有这笔被中心拒绝的交易')
        throw new AppError(
          'INVALID_ARGUMENT',
          `此笔已于 ${current.followUp?.at ?? ''} 由 ${current.followUp?.operatorCode ?? ''} 跟进，不能重复跟进`
        )
      }
      const view = (await rejectionViews({ followedUp: true })).find((r) => r.saleId === saleId)
      if (!view) throw new AppError('SALE_NOT_FOUND', '没有这笔被中心拒绝的交易')
      return view
    },

    async revealMobile(caller, { saleId }) {
      const mobile = await deps.supervision.revealMobile(saleId, { at: now(), operatorId: caller.operatorId })
      if (mobile === null)
        throw new AppError('SALE_NOT_FOUND', '没有这笔被中心拒绝的交易，或办理时未登记投保人手机号')
      return { mobile }
    }
  }
}
