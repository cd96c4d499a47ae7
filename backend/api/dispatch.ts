import { z } from 'zod'
import {
  contract,
  isCallName,
  type CallContext,
  type Caller,
  type HandlerContext,
  type Handlers
} from '../../core/api/contract'
import { AppError, fail, ok, type Result } from '../../core/errors'
import type { Logger } from '../services/log'

z.config(z.locales.zhCN())

export type Dispatch = (call: unknown, args: unknown, context: CallContext) => Promise<Result<unknown>>

/** What the operator calls each field a call takes: a message names the field in their words, never `reason`. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  reason: '作废原因',
  supervisorCode: '主管工号',
  supervisorPin: '主管密码',
  operatorCode: '工号',
  code: '工号',
  pin: '密码',
  currentPin: '当前密码',
  newPin: '新密码',
  name: '姓名',
  role: '角色',
  note: '跟进说明',
  input: '卡号或身份证号',
  idNumber: '身份证号',
  relation: '关系',
  productCode: '产品',
  units: '份数',
  amountFen: '金额',
  centreUrl: '中心地址',
  enrolmentCode: '注册码',
  territory: '网点名称',
  from: '开始日期',
  to: '结束日期',
  date: '日期',
  limit: '条数',
  envelope: '规则包',
  uploadId: '待导入文件',
  signature: '签名',
  termsAcknowledged: '条款确认',
  lines: '被保险人与产品',
  maxKeyGapMs: '按键最大间隔',
  maxTypicalGapMs: '典型间隔上限',
  maxBurstMs: '整次读卡最长用时',
  minLength: '最短长度',
  suffixKeys: '结束键',
  prefix: '前缀'
}

/** The first refused argument: its field named in Chinese (the path too, for the CLI and a form's field). */
function invalidArguments(error: z.ZodError): Result<never> {
  const issue = error.issues[0]
  const path = issue.path.map(String).join('.')
  const field = [...issue.path]
    .reverse()
    .find((part) => typeof part === 'string' && Object.hasOwn(FIELD_LABELS, part))
  const label = typeof field === 'string' ? FIELD_LABELS[field] : '填写的内容'
  return fail('INVALID_ARGUMENT', `${label}不正确：${issue.message}`, { path, message: issue.message })
}

/** What a session whose PIN must be changed may still do. */
const WHILE_PIN_CHANGE_REQUIRED: ReadonlySet<string> = new Set([
  'auth.session',
  'auth.signOut',
  'auth.changePin'
])

/** Calls the screen makes by itself on a timer: they do not keep an idle session alive. */
const BACKGROUND_CALLS: ReadonlySet<string> = new Set(['sync.status', 'app.info'])

/**
 * The single entry both transports call. Unknown calls and bad arguments are refused before any
 * service runs; an expected refusal (AppError) comes back as it is; anything else is logged by call
 * name only and answered with a generic message, so no stack trace or personal data reaches the UI.
 */
export function createDispatcher(
  handlers: Handlers,
  log: Logger,
  authenticate: (token: string | undefined, activity: boolean) => Caller | null,
  /** Why a token no longer signs anyone in (a session ended for idleness), in Chinese, if known. */
  signedOutBecause: (token: string | undefined) => string | null = () => null
): Dispatch {
  return async (call, args, context) => {
    if (!isCallName(call)) return fail('UNKNOWN_CALL', `程序不支持此操作（${String(call).slice(0, 64)}）`)
    const spec = contract[call]
    const caller = authenticate(context.sessionToken, !BACKGROUND_CALLS.has(call))
    // The CLI runs on the terminal itself, with the machine's own trust (it could read the file anyway).
    if (context.transport !== 'cli') {
      if (spec.access !== 'public' && !caller)
        return fail('UNAUTHENTICATED', signedOutBecause(context.sessionToken) ?? '请先登录')
      if (spec.access === 'supervisor' && caller?.role !== 'supervisor')
        return fail('FORBIDDEN', '只有主管可以使用此功能')
      if (caller?.pinChangeRequired && spec.access !== 'public' && !WHILE_PIN_CHANGE_REQUIRED.has(call))
        return fail('PIN_CHANGE_REQUIRED', '您的密码由他人设置：请先修改密码，再办理业务')
    }
    const parsed = spec.input.safeParse(args ?? {})
    if (!parsed.success) return invalidArguments(parsed.error)
    // The contract ties each name to its own input type; TypeScript cannot follow that through a lookup by name.
    const handler = handlers[call] as (input: unknown, context: HandlerContext) => Promise<unknown>
    try {
      return ok(await handler(parsed.data, { transport: context.transport, caller }))
    } catch (error) {
      if (error instanceof AppError) return { ok: false, error: error.toShape() }
      log.error('call_failed', {
        call,
        transport: context.transport,
        error: error instanceof Error ? error.name : 'unknown'
      })
      return fail('INTERNAL', '系统内部错误，操作未完成。请重试；如仍失败请联系技术支持。')
    }
  }
}
