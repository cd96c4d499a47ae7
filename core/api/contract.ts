import type { BenefitProductsView } from '../benefits'
import { z } from 'zod'
import { RELATIONS, type CardholderView } from '../cardholder'
import type { DecisionView, EligibilityView } from '../eligibility'
import { isTrivialPin, PIN_PATTERN, ROLES, type Role, type SessionView, type ShiftView } from '../operators'
import {
  draftOrderSchema,
  paymentSchema,
  SALE_STATUSES,
  signatureSchema,
  type CatalogueView,
  type PaymentStart,
  type QuoteView,
  type ReceiptView,
  type SaleSummary
} from '../sale'
import { UUID_V7 } from '../ids'
import { readerSettingsSchema, type ReaderSettings } from '../reader/settings'
import { printerSettingsSchema, type PrinterSettings, type PrintJob, type PrinterView } from '../printing'
import type { Result } from '../errors'
import type { SyncStatusView } from '../sync/status'
import { CENTRE_URL_RULE, centreUrlAllowed, type PinBlock } from '../sync/protocol'
import type { CloseReportView, DayCloseCheckView, ShiftCloseView, SummaryReportView } from '../report/summary'
import type { ReportDocument, ReportSource } from '../report/document'
import type { AuditEntryView, OperatorAdminView, RecordsCheckView, RejectionView } from '../supervision'

/**
 * The one list of calls the renderer can make. Electron's IPC registration and the browser-mode
 * HTTP server are both built from it, and every argument is checked against its schema before a
 * service sees it. Adding a call: add it here, implement it in a service, call it from the UI.
 */

export interface AppInfo {
  readonly version: string
  readonly dataDir: string
  readonly schemaVersion: string
  readonly terminalId: string
  readonly demoData: boolean
  /** A centre's folder with no operator yet: the sign-in screen offers to set up the first supervisor. */
  readonly needsSetUp: boolean
  /** The centre keys this data folder trusts; `demoKey`: the public demo key is among them. */
  readonly trust: {
    readonly keyIds: readonly string[]
    readonly demoKey: boolean
    readonly revoked: readonly string[]
  }
  /** How the key that seals personal data is kept: 'file' (no OS protection available) deserves a warning. */
  readonly personalDataProtection: 'os' | 'file'
  /** The audit log and close reports checked out at the last check (at start, on the audit screen, after a sync). */
  readonly recordsIntact: boolean
  /** The terminal's clock, UTC ISO. */
  readonly now: string
  /** Browser mode runs on a demo clock (COUNTER_TIME): the screens follow it and say so. */
  readonly demoClock: boolean
}

/** Who may make a call: anyone, a signed-in operator, or a supervisor. */
export type Access = 'public' | 'operator' | 'supervisor'

interface CallSpec<Input extends z.ZodType, Output> {
  readonly input: Input
  readonly summary: string
  readonly access: Access
  /** Type-only: the value a successful call returns. */
  readonly output?: Output
}

function call<Output>() {
  return <Input extends z.ZodType>(
    input: Input,
    summary: string,
    access: Access = 'operator'
  ): CallSpec<Input, Output> => ({
    input,
    summary,
    access
  })
}

// Each argument shape the calls share is defined once, here.
const accountId = z.int().positive()
const operatorCode = z.string().regex(/^\w{1,16}$/, '工号格式不正确')
const pin = z.string().regex(PIN_PATTERN, '密码应为 6–12 位数字')
const operatorName = z.string().trim().min(1, '请填写姓名').max(20)
/** A PIN a supervisor gives an operator: not one anyone would guess first. */
const newPin = pin.refine((value) => !isTrivialPin(value), '密码过于简单（同一数字重复或连续数字），请换一个')
const saleId = z.string().regex(UUID_V7, '交易号格式不正确')
/** A date in Asia/Shanghai, YYYY-MM-DD. */
const day = z.iso.date()
/** A range of Shanghai dates, both inclusive, for this terminal's summary (optionally one terminal or operator). */
const summaryRange = {
  from: day,
  to: day,
  terminalId: z.string().trim().min(1).max(40).optional(),
  operatorCode: operatorCode.optional()
}
/** A range of Shanghai dates, both inclusive, for the office's summary from the centre (at most 31 days). */
const officeRange = { from: day, to: day }

/** Who is insured: self, or a relative by resident ID; the rest is derived from the snapshot unless given. */
const insuredSchema = z.strictObject({
  relation: z.enum(['self', ...RELATIONS]),
  idNumber: z.string().max(32).optional(),
  enrolledLocally: z.boolean().optional(),
  alreadyCovered: z.boolean().optional()
})

/** What a report is drawn from: a date range's live summary, or one close report as written (`ReportSource`). */
export const reportSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('summary'), ...summaryRange }),
  z.strictObject({ kind: z.literal('close'), number: z.int().positive() }),
  /** The office's (网点) summary from the centre: every terminal of this territory, what the centre has received. */
  z.strictObject({ kind: z.literal('office'), ...officeRange })
]) satisfies z.ZodType<ReportSource>

/** A report file for the renderer to save: base64, so IPC and HTTP carry it alike. */
export interface ExportedReportView {
  readonly fileName: string
  readonly mimeType: string
  readonly base64: string
}

/** The queue as a file for the operator to save (base64, like a report export), and what it holds. */
export interface ExportedQueueView extends ExportedReportView {
  readonly items: number
  readonly totalFen: number
}

/** What a sync package brought: rule bundles, the snapshot, the centre's answers settled. */
export interface ImportedPackageView {
  readonly rules: ReadonlyArray<{ regionCode: string; version: number; status: 'new' | 'unchanged' }>
  readonly snapshot:
    { readonly version: number; readonly accounts: number; readonly removed: number } | 'unchanged'
  readonly results: number
  /** Sale lines that got the insurer's policy number from the package. */
  readonly policies: number
}

export interface ImportedBundleView {
  readonly regionCode: string
  readonly regionName: string
  readonly version: number
  readonly status: 'new' | 'unchanged'
}

export const contract = {
  'app.info': call<AppInfo>()(z.strictObject({}), '终端、版本与数据目录', 'public'),
  'auth.signIn': call<SessionView>()(
    z.strictObject({
      operatorCode: operatorCode,
      pin: pin
    }),
    '操作员登录',
    'public'
  ),
  'auth.session': call<SessionView>()(z.strictObject({}), '当前登录的操作员与班次'),
  'auth.changePin': call<SessionView>()(
    z.strictObject({ currentPin: pin, newPin }),
    '修改本人密码（新设或被重置的密码首次登录时必须修改）'
  ),
  'auth.setUp': call<SessionView>()(
    z.strictObject({ operatorCode, name: operatorName, pin: newPin }),
    '首次设置：在尚无操作员的正式终端上创建第一名主管并登录',
    'public'
  ),
  'auth.signOut': call<{ readonly signedOut: true }>()(z.strictObject({}), '退出登录'),
  'auth.openShift': call<ShiftView>()(z.strictObject({}), '在本终端开班'),
  'cardholder.lookup': call<CardholderView>()(
    z.strictObject({ input: z.string().max(256) }),
    '按社会保障卡号或身份证号查询参保人（读本地快照）'
  ),
  'eligibility.offers': call<EligibilityView>()(
    z.strictObject({ accountId, at: z.iso.datetime({ offset: true }).optional() }),
    '本人可购买的产品与可用额度（离线规则包；at：按另一时刻判断，供查询与测试）'
  ),
  'eligibility.check': call<DecisionView>()(
    z.strictObject({
      payer: z.union([z.strictObject({ accountId }), z.strictObject({ card: z.string().max(256) })]),
      insured: insuredSchema,
      productCode: z.string().min(1).max(40),
      units: z.int().min(1).max(1000).optional(),
      amountFen: z.int().positive().max(100_000_000).optional(),
      at: z.iso.datetime({ offset: true }).optional()
    }),
    '逐条核对规则，给出能否购买及原因'
  ),
  'sale.catalogue': call<CatalogueView>()(z.strictObject({ accountId }), '可选产品与绑定家庭成员'),
  'sale.quote': call<QuoteView>()(draftOrderSchema, '按规则逐项核对订单并计价'),
  'sale.begin': call<PaymentStart>()(
    z.strictObject({ accountId }),
    '付款开始：交易号与密码加密所用的中心密钥'
  ),
  'sale.commit': call<ReceiptView>()(
    z.strictObject({
      /** From sale.begin: the password is sealed with it; sent again after a lost answer, it sells once. */
      saleId: saleId,
      order: draftOrderSchema,
      payment: paymentSchema,
      termsAcknowledged: z.literal(true, { error: '请先确认已阅读条款' }),
      /** The order's warnings (a repeat purchase that adds units) were told to the customer. */
      warningsAcknowledged: z.boolean().optional(),
      signature: signatureSchema
    }),
    '收款：一次写入交易、扣减预留与上传队列，联网时当场由中心授权'
  ),
  'sale.receipt': call<ReceiptView>()(
    z.strictObject({ saleId: saleId, reprint: z.boolean().optional() }),
    '凭条；reprint：补打（记入审计，凭条标明补打）'
  ),
  'sale.search': call<readonly SaleSummary[]>()(
    z.strictObject({
      query: z.string().max(64).optional(),
      date: day.optional(),
      scope: z.enum(['shift', 'all']),
      /** Only sales in this state (e.g. rejected: what the centre refused). */
      status: z.enum(SALE_STATUSES).optional()
    }),
    '按卡号、交易号或日期查找交易'
  ),
  'sale.void': call<ReceiptView>()(
    z.strictObject({
      saleId: saleId,
      reason: z.string().trim().min(2, '请填写作废原因').max(200),
      supervisorCode: operatorCode,
      supervisorPin: pin
    }),
    '作废（未上传）或申请冲正（已上传），需主管授权'
  ),
  'sale.cancel': call<ReceiptView>()(
    z.strictObject({
      saleId: saleId,
      lineNos: z.array(z.int().positive()).min(1).max(20),
      reason: z.string().trim().min(2, '请填写退保原因').max(200),
      /** The payer's card read again (or typed ID/card number), as the pay step takes it. */
      card: z.string().min(1).max(256),
      supervisorCode: operatorCode,
      supervisorPin: pin
    }),
    '犹豫期内退保：付款人刷卡、主管授权，保费退回医保个人账户（中心受理后生效）'
  ),
  'benefits.products': call<BenefitProductsView>()(
    z.strictObject({}),
    '保障示意：规则包中列明保险责任或期满返还的产品'
  ),
  'rules.import': call<ImportedBundleView>()(
    z.strictObject({ envelope: z.string().min(1).max(1_000_000) }),
    '导入中心签发的规则包（验签、校验后启用）',
    'supervisor'
  ),
  'sync.status': call<SyncStatusView>()(
    z.strictObject({}),
    '与中心的连接、上次同步、待上传与被拒交易、离线限额'
  ),
  'sync.now': call<SyncStatusView>()(
    z.strictObject({}),
    '立即同步（下载规则与账户数据，上传待传交易），不阻塞办理'
  ),
  'sync.register': call<SyncStatusView>()(
    z.strictObject({
      centreUrl: z
        .url({ protocol: /^https?$/, error: '中心地址应为 http(s):// 开头的网址' })
        .max(200)
        .refine(centreUrlAllowed, CENTRE_URL_RULE),
      enrolmentCode: z.string().trim().min(4, '请填写中心发放的注册码').max(64),
      territory: z.string().trim().min(2, '请填写本终端所在网点').max(100)
    }),
    '向中心注册本终端',
    'supervisor'
  ),
  'files.exportQueue': call<ExportedQueueView>()(
    z.strictObject({}),
    '把待上传交易导出为签名加密文件，交中心导入（上门服务专员、主管）'
  ),
  'files.importPackage': call<ImportedPackageView>()(
    z.strictObject({ uploadId: z.uuid() }),
    '导入中心制作的同步包（先由外壳选择或上传文件）（上门服务专员、主管）'
  ),
  'reader.getSettings': call<ReaderSettings>()(z.strictObject({}), '读卡器参数（本终端）', 'public'),
  'reader.saveSettings': call<ReaderSettings>()(
    readerSettingsSchema,
    '保存读卡器参数（本终端）',
    'supervisor'
  ),
  'printer.getSettings': call<PrinterSettings>()(z.strictObject({}), '打印机设置（本终端）'),
  'printer.saveSettings': call<PrinterSettings>()(
    printerSettingsSchema,
    '保存打印机设置：凭条与 A4 打印机、完成后自动打印客户联、网点存根（本终端）',
    'supervisor'
  ),
  'report.summary': call<SummaryReportView>()(
    z.strictObject(summaryRange),
    '日结汇总：按操作员、产品、地区、关系、状态与规则包版本统计，附交易清单（主管）',
    'supervisor'
  ),
  'report.officeSummary': call<SummaryReportView>()(
    z.strictObject(officeRange),
    '网点日结汇总：本网点各终端已上传到中心的交易，由中心提供，需连接中心（主管）',
    'supervisor'
  ),
  'report.closeDayCheck': call<DayCloseCheckView>()(
    z.strictObject({ date: day }),
    '日结前检查：仍未交班的班次、中心尚未答复的交易（主管）',
    'supervisor'
  ),
  'report.closeDay': call<CloseReportView>()(
    z.strictObject({ date: day }),
    '日结：为某日（今天或补结过去某日）生成编号日结单，之后的交易归下一次（主管）',
    'supervisor'
  ),
  'report.closeShift': call<CloseReportView>()(
    z.strictObject({ shiftId: z.int().positive() }),
    '交班：为某班次生成编号交班单并结束该班次（主管）',
    'supervisor'
  ),
  'report.handOver': call<CloseReportView>()(
    z.strictObject({ supervisorCode: operatorCode, supervisorPin: pin }),
    '交班：本人申请结束当前班次，由主管当场输入工号和密码确认'
  ),
  'report.closes': call<readonly CloseReportView[]>()(
    z.strictObject({ from: day.optional(), to: day.optional() }),
    '日结单与交班单列表（主管）',
    'supervisor'
  ),
  'report.shifts': call<readonly ShiftCloseView[]>()(
    z.strictObject({ from: day, to: day }),
    '班次列表：区间内开班的、仍未结束的、有未交班交易的（主管）',
    'supervisor'
  ),
  'report.close': call<CloseReportView>()(
    z.strictObject({ number: z.int().positive() }),
    '按编号取日结单或交班单（补打，内容不变）（主管）',
    'supervisor'
  ),
  'report.document': call<ReportDocument>()(
    z.strictObject({ source: reportSourceSchema }),
    '报表文档：标题、页眉栏目（网点、终端、操作员、区间、打印人与时间）与各表，打印即据此（主管）',
    'supervisor'
  ),
  'report.export': call<ExportedReportView>()(
    z.strictObject({ source: reportSourceSchema, format: z.enum(['xlsx', 'csv']) }),
    '导出报表为 Excel（.xlsx）或 CSV 文件，并记入审计日志（主管）',
    'supervisor'
  ),
  'operators.list': call<readonly OperatorAdminView[]>()(
    z.strictObject({}),
    '操作员列表（主管）',
    'supervisor'
  ),
  'operators.create': call<OperatorAdminView>()(
    z.strictObject({
      code: operatorCode,
      name: operatorName,
      role: z.enum(ROLES),
      pin: newPin
    }),
    '新增操作员（主管）',
    'supervisor'
  ),
  'operators.setActive': call<OperatorAdminView>()(
    z.strictObject({ code: operatorCode, active: z.boolean() }),
    '停用或启用操作员；停用即退出其登录（主管）',
    'supervisor'
  ),
  'operators.resetPin': call<OperatorAdminView>()(
    z.strictObject({ code: operatorCode, pin: newPin }),
    '重置操作员密码并解除锁定（主管）',
    'supervisor'
  ),
  'audit.list': call<readonly AuditEntryView[]>()(
    z.strictObject({
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }).optional(),
      operatorCode: operatorCode.optional(),
      action: z
        .string()
        .regex(/^[a-z_]{1,40}$/, '操作类型格式不正确')
        .optional(),
      limit: z.int().min(1).max(1000)
    }),
    '审计日志：谁在何时做了什么（主管）',
    'supervisor'
  ),
  'audit.verify': call<RecordsCheckView>()(
    z.strictObject({}),
    '校验审计日志与日结、交班报告是否被改动、删除或删减（主管）',
    'supervisor'
  ),
  'rejections.list': call<readonly RejectionView[]>()(
    z.strictObject({ followedUp: z.boolean().optional() }),
    '中心拒绝的交易及跟进情况（主管）',
    'supervisor'
  ),
  'rejections.followUp': call<RejectionView>()(
    z.strictObject({
      saleId: saleId,
      note: z.string().trim().min(2, '请填写跟进说明（至少 2 个字）').max(200, '跟进说明最多 200 个字')
    }),
    '标记被拒交易已跟进并填写说明（主管；每笔只能跟进一次）',
    'supervisor'
  ),
  'rejections.revealMobile': call<{ readonly mobile: string }>()(
    z.strictObject({ saleId: saleId }),
    '显示被拒交易投保人的完整手机号以便电话联系（主管；记入审计日志）',
    'supervisor'
  )
} as const

export type Contract = typeof contract
export type CallName = keyof Contract
export type CallInput<K extends CallName> = z.input<Contract[K]['input']>
export type ParsedInput<K extends CallName> = z.output<Contract[K]['input']>
export type CallOutput<K extends CallName> = Contract[K] extends CallSpec<z.ZodType, infer O> ? O : never
export type CallResult<K extends CallName> = Result<CallOutput<K>>

/** How a call arrived, and the session token it carried (none before sign-in). */
export interface CallContext {
  readonly transport: 'ipc' | 'http' | 'cli' | 'test'
  readonly sessionToken?: string
}

/** The signed-in operator behind a call. */
export interface Caller {
  readonly token: string
  readonly operatorId: number
  readonly operatorCode: string
  readonly role: Role
  readonly pinChangeRequired: boolean
}

/** What a handler learns of its caller: null for public calls made before sign-in, and for the CLI. */
export interface HandlerContext {
  readonly transport: CallContext['transport']
  readonly caller: Caller | null
}

export type Handlers = {
  readonly [K in CallName]: (input: ParsedInput<K>, context: HandlerContext) => Promise<CallOutput<K>>
}

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.hasOwn(contract, name)
}

/** A file saved through the shell's save dialog: where, or `saved: false` when the operator cancelled. */
export type SavedFile = { readonly saved: true; readonly path: string } | { readonly saved: false }

/**
 * The bridge both transports offer the renderer: one function, any call of the contract. Under
 * Electron it also saves files through the system's save dialog (a PDF of the page being shown, or
 * an export's bytes); browser mode has no such functions and uses the browser's print and download.
 */
export interface CounterBridge {
  invoke(call: string, args: unknown, sessionToken?: string): Promise<Result<unknown>>
  savePdf?(fileName: string): Promise<Result<SavedFile>>
  saveFile?(fileName: string, base64: string): Promise<Result<SavedFile>>
  /** Electron with a second display: the customer types the card password on it. */
  askCustomerPin?(request: CustomerPinRequest): Promise<CustomerPinAnswer>
  /** The customer's window: what to show (null when nothing is asked). */
  customerPinRequest?(): Promise<CustomerPinRequest | null>
  /** The customer's window: the sealed password, or null when the customer cancelled. */
  customerPinSubmit?(pinBlock: PinBlock | null): Promise<void>
  /** Electron: the system's printers (browser mode has none: the browser's print dialog chooses). */
  printers?(): Promise<Result<readonly PrinterView[]>>
  /** Electron: prints the page as prepared for printing (print root, page rule) to a printer. */
  print?(job: PrintJob): Promise<Result<{ readonly printed: true }>>
  /** Electron: a sync package chosen in the system dialog, staged; null when cancelled. */
  choosePackage?(): Promise<Result<{ readonly uploadId: string } | null>>
}

/** What the customer's screen shows and seals to: the sale, its amount and the centre's key. */
export const customerPinRequestSchema = z.strictObject({
  saleId: z.string().regex(UUID_V7),
  amountFen: z.int().min(0).max(100_000_000_00),
  pinKey: z.strictObject({ keyId: z.string().min(1).max(100), publicKey: z.string().min(40).max(60) })
})
export type CustomerPinRequest = z.infer<typeof customerPinRequestSchema>

/** `unavailable`: no second display (type on the pay step); `cancelled`: the customer or a timeout. */
export type CustomerPinAnswer =
  | { readonly outcome: 'sealed'; readonly pinBlock: PinBlock }
  | { readonly outcome: 'unavailable' | 'cancelled' }
