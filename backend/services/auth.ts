import { randomBytes } from 'node:crypto'
import type { OperatorView, Role, SessionView, ShiftView } from '../../core/operators'
import { AppError } from '../../core/errors'
import type { Clock } from '../../core/time'
import type { OperatorRecord, OperatorsRepository } from '../../db/repositories/operators'
import type { Logger } from './log'
import { hashPin, verifyPin } from './pin-hash'

/** A signed-in operator, as the dispatcher hands it to services. */
export interface Session {
  readonly token: string
  readonly operatorId: number
  readonly operatorCode: string
  readonly role: Role
  /** Until changed, the session may only change the PIN (the dispatcher refuses the rest). */
  readonly pinChangeRequired: boolean
}

export interface AuthService {
  signIn(code: string, pin: string): Promise<SessionView>
  /** The operator's own PIN, changed with the current one; ends a required change. */
  changePin(session: Session, currentPin: string, newPin: string): Promise<SessionView>
  /**
   * A data folder set up for a centre (not a demo) starts with no operator: the first supervisor
   * is created here, once, and signed in. Refused as soon as any operator exists.
   */
  setUp(operator: { code: string; name: string; pin: string }): Promise<SessionView>
  signOut(token: string): Promise<void>
  /** An audit line for something the session did that no service records itself (a registration, a reprint). */
  record(session: Session, action: string, subject: string, details?: Record<string, string>): Promise<void>
  /** The session for a token, or null (unknown, or signed out). */
  /** `activity: false`: a call the screen makes by itself (a status poll); it does not count as use. */
  session(token: string | undefined, options?: { activity?: boolean }): Session | null
  /** The token's session ended because nobody used it for the idle time (not signed out). */
  endedForIdleness(token: string | undefined): boolean
  view(session: Session): Promise<SessionView>
  openShift(session: Session): Promise<ShiftView>
  /** The open shift of the operator on this terminal; refused when there is none. */
  requireShift(session: Session): Promise<ShiftView>
  /** A supervisor's PIN, given at the counter to approve something (a void). */
  approveBySupervisor(code: string, pin: string): Promise<OperatorRecord>
  createOperator(operator: { code: string; name: string; role: Role; pin: string }): Promise<void>
  /** Signs the operator out everywhere on this terminal (they were disabled). */
  endSessionsOf(operatorId: number): void
  /** Until when (epoch ms) wrong PINs lock the code, or null. */
  lockedUntil(code: string): number | null
  /** Forgets wrong PINs for the code (a supervisor set a new PIN). */
  clearFailures(code: string): void
}

const MAX_FAILURES = 5
const DEFAULT_IDLE_MS = 15 * 60_000
const LOCK_MS = 5 * 60 * 1000
const WRONG = '工号或密码不正确'

/**
 * Operators sign in with their code and PIN. Sessions live in memory only: a restart signs everyone
 * out. Five wrong PINs in a row lock that code for five minutes, so a PIN cannot be guessed at the counter.
 */
export function createAuthService(deps: {
  operators: OperatorsRepository
  /** Whether this folder may be set up from the sign-in screen (not a demo; checked with no operator). */
  setUpAllowed?: () => Promise<boolean>
  clock: Clock
  terminalId: string
  log: Logger
  /** A session nobody used for this long ends (default 15 minutes). */
  idleMs?: number
  /**
   * Elapsed real time in ms, for idleness (default: the monotonic clock). Not the business clock,
   * which tests move by days to sell on another date without anyone being away.
   */
  elapsedMs?: () => number
}): AuthService {
  const elapsed = deps.elapsedMs ?? (() => performance.now())
  const sessions = new Map<string, Session>()
  /** When each session last made a call (elapsed ms). */
  const lastSeen = new Map<string, number>()
  /** Tokens ended for idleness, so the next call can say why (bounded: old ones fall out). */
  const endedIdle = new Set<string>()
  const failures = new Map<string, { count: number; lockedUntil: number }>()

  function operatorView(operator: OperatorRecord): OperatorView {
    return { code: operator.code, name: operator.name, role: operator.role }
  }

  /** Each code's PIN checks, one after another: parallel tries cannot all pass the lockout's count. */
  const checking = new Map<string, Promise<unknown>>()

  function checkPin(code: string, pin: string, failedAction = 'sign_in_failed'): Promise<OperatorRecord> {
    const previous = checking.get(code) ?? Promise.resolve()
    const mine = previous.catch(() => undefined).then(() => checkPinNow(code, pin, failedAction))
    const settled = mine.catch(() => undefined)
    checking.set(code, settled)
    void settled.then(() => {
      if (checking.get(code) === settled) checking.delete(code)
    })
    return mine
  }

  async function checkPinNow(code: string, pin: string, failedAction: string): Promise<OperatorRecord> {
    const now = deps.clock.now().getTime()
    const record = failures.get(code)
    if (record && record.lockedUntil > now) {
      const minutes = Math.ceil((record.lockedUntil - now) / 60_000)
      throw new AppError('AUTH_LOCKED', `密码错误次数过多，工号 ${code} 已锁定，请 ${minutes} 分钟后再试`)
    }
    const operator = await deps.operators.findByCode(code)
    const good = operator !== null && operator.active && (await verifyPin(pin, operator.pinHash))
    if (!good || !operator) {
      const count =
        (record && record.lockedUntil <= now && record.count >= MAX_FAILURES ? 0 : (record?.count ?? 0)) + 1
      failures.set(code, { count, lockedUntil: count >= MAX_FAILURES ? now + LOCK_MS : 0 })
      await deps.operators.audit({
        at: deps.clock.now().toISOString(),
        operatorId: operator?.id ?? null,
        action: failedAction,
        subject: code
      })
      throw new AppError('AUTH_FAILED', WRONG)
    }
    failures.delete(code)
    return operator
  }

  async function shiftOf(session: Session): Promise<ShiftView | null> {
    const shift = await deps.operators.openShiftOf(session.operatorId, deps.terminalId)
    return shift ? { id: shift.id, openedAt: shift.openedAt, operatorCode: session.operatorCode } : null
  }

  async function view(session: Session): Promise<SessionView> {
    const operator = await deps.operators.findById(session.operatorId)
    if (!operator) throw new AppError('UNAUTHENTICATED', '请重新登录')
    return {
      token: session.token,
      operator: operatorView(operator),
      shift: await shiftOf(session),
      terminalId: deps.terminalId,
      pinChangeRequired: session.pinChangeRequired
    }
  }

  async function startSession(operator: OperatorRecord): Promise<SessionView> {
    const session: Session = {
      token: randomBytes(24).toString('hex'),
      operatorId: operator.id,
      operatorCode: operator.code,
      role: operator.role,
      pinChangeRequired: operator.pinChangeRequired
    }
    sessions.set(session.token, session)
    lastSeen.set(session.token, elapsed())
    await deps.operators.audit({
      at: deps.clock.now().toISOString(),
      operatorId: operator.id,
      action: 'sign_in',
      subject: deps.terminalId
    })
    deps.log.info('signed_in', { role: operator.role })
    return view(session)
  }

  let settingUp: Promise<unknown> = Promise.resolve()

  return {
    async signIn(code, pin) {
      return startSession(await checkPin(code, pin))
    },
    async changePin(session, currentPin, newPin) {
      const operator = await checkPin(session.operatorCode, currentPin, 'pin_change_failed')
      if (newPin === currentPin) throw new AppError('INVALID_ARGUMENT', '新密码不能与原密码相同')
      await deps.operators.setPinHash(
        operator.id,
        await hashPin(newPin),
        {
          at: deps.clock.now().toISOString(),
          operatorId: operator.id,
          action: 'pin_changed',
          subject: operator.code
        },
        false
      )
      // Every session of the operator may go on (the same person, now with a PIN only they know).
      for (const [token, held] of sessions)
        if (held.operatorId === operator.id) sessions.set(token, { ...held, pinChangeRequired: false })
      return view({ ...session, pinChangeRequired: false })
    },
    setUp(operator) {
      // One at a time: two set-ups sent together cannot both find the folder empty.
      const mine = settingUp.then(async () => {
        if (!(await deps.setUpAllowed?.()) || (await deps.operators.count()) > 0)
          throw new AppError('FORBIDDEN', '本终端已有操作员：请用工号和密码登录')
        const at = deps.clock.now().toISOString()
        const id = await deps.operators.create(
          { ...operator, role: 'supervisor', pinHash: await hashPin(operator.pin), createdAt: at },
          { at, operatorId: null, action: 'first_supervisor_created', subject: operator.code }
        )
        const created = await deps.operators.findById(id)
        if (!created) throw new AppError('INTERNAL', '创建主管失败')
        return startSession(created)
      })
      settingUp = mine.catch(() => undefined)
      return mine
    },
    async signOut(token) {
      const session = sessions.get(token)
      sessions.delete(token)
      lastSeen.delete(token)
      if (session)
        await deps.operators.audit({
          at: deps.clock.now().toISOString(),
          operatorId: session.operatorId,
          action: 'sign_out',
          subject: deps.terminalId
        })
    },
    async record(session, action, subject, details) {
      await deps.operators.audit({
        at: deps.clock.now().toISOString(),
        operatorId: session.operatorId,
        action,
        subject,
        details
      })
    },
    session(token, options) {
      if (!token) return null
      const session = sessions.get(token)
      if (!session) return null
      const now = elapsed()
      if (now - (lastSeen.get(token) ?? now) > (deps.idleMs ?? DEFAULT_IDLE_MS)) {
        sessions.delete(token)
        lastSeen.delete(token)
        endedIdle.add(token)
        if (endedIdle.size > 1000) endedIdle.delete(endedIdle.values().next().value ?? '')
        deps.log.info('session_ended_idle', { role: session.role })
        return null
      }
      if (options?.activity !== false) lastSeen.set(token, now)
      return session
    },
    endedForIdleness(token) {
      return token !== undefined && endedIdle.has(token)
    },
    view,
    async openShift(session) {
      const open = await shiftOf(session)
      if (open) return open
      const shift = await deps.operators.openShift(
        session.operatorId,
        deps.terminalId,
        deps.clock.now().toISOString()
      )
      await deps.operators.audit({
        at: shift.openedAt,
        operatorId: session.operatorId,
        action: 'shift_open',
        subject: String(shift.id)
      })
      return { id: shift.id, openedAt: shift.openedAt, operatorCode: session.operatorCode }
    },
    async requireShift(session) {
      const shift = await shiftOf(session)
      if (!shift) throw new AppError('NO_SHIFT', '请先开班，再办理业务')
      return shift
    },
    async approveBySupervisor(code, pin) {
      // A wrong PIN here is a failed approval (a void, a keyed payment), not a failed sign-in.
      const operator = await checkPin(code, pin, 'approval_failed')
      if (operator.role !== 'supervisor') throw new AppError('FORBIDDEN', '需要主管工号和密码')
      // A PIN someone else set is known to two people: it approves nothing until its owner changes it.
      if (operator.pinChangeRequired)
        throw new AppError(
          'FORBIDDEN',
          `主管 ${operator.code} 的密码由他人设置，须先登录修改密码后才能用于审批`
        )
      return operator
    },
    async createOperator(operator) {
      await deps.operators.create({
        ...operator,
        pinHash: await hashPin(operator.pin),
        createdAt: deps.clock.now().toISOString()
      })
    },
    endSessionsOf(operatorId) {
      for (const [token, session] of sessions) if (session.operatorId === operatorId) sessions.delete(token)
    },
    lockedUntil(code) {
      const until = failures.get(code)?.lockedUntil ?? 0
      return until > deps.clock.now().getTime() ? until : null
    },
    clearFailures(code) {
      failures.delete(code)
    }
  }
}
