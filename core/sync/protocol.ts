import { z } from 'zod'
import { ENROLMENT_STATUSES, INSURANCE_TYPES, RELATIONS } from '../cardholder'

/**
 * The terminal ⇄ centre protocol, version 2: every message both sides exchange, as zod schemas.
 * The terminal's sync client and the reference centre (`hub/`) both parse with these, so the wire
 * format has one definition; docs/sync-protocol.md explains it in prose.
 *
 * HTTP/1.1, JSON in UTF-8 (the snapshot is NDJSON). Money is integer fen; times are UTC ISO-8601.
 * Every non-2xx answer has the body `{ "error": { "code", "message" } }` with a Chinese message.
 */

export const PROTOCOL_VERSION = 2
/** Versions this build speaks: version 1 is what terminals and centres built before #17 speak. */
export type ProtocolVersion = 1 | 2

/**
 * Each side names the highest version it speaks in this header, on every request (terminal) and
 * every answer (centre). Absent means version 1 (built before the header existed). Each side then
 * speaks the lower of the two: a centre gives a version-1 terminal no field it does not know, and a
 * terminal sends a version-1 centre none (docs/sync-protocol.md, "Versions").
 */
export const PROTOCOL_HEADER = 'x-yibao-protocol'

/** The version a peer announced in PROTOCOL_HEADER, capped at ours; absent or garbled is 1. */
export function protocolOfHeader(value: string | null | undefined): ProtocolVersion {
  const n = value !== null && value !== undefined && /^\s*\d{1,3}\s*$/.test(value) ? Number(value) : 1
  return n >= 2 ? 2 : 1
}

/**
 * Where a terminal may talk to its centre: https, or plain http to this machine only (the
 * reference centre in a demo or a test). Names, ID numbers and sealed passwords travel on it.
 */
export function centreUrlAllowed(text: string): boolean {
  // By hand: the pure core has no URL class. Scheme, then the host up to a port, path or query.
  const match = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::\d*)?(?:[/?#].*)?$/i.exec(
    text
  )
  if (!match) return false
  const scheme = match[1].toLowerCase()
  if (scheme === 'https') return match[2].length > 0
  const host = match[2].toLowerCase().replace(/^\[|\]$/g, '')
  return (
    scheme === 'http' &&
    (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
  )
}

/** Why a centre address is refused, in Chinese. */
export const CENTRE_URL_RULE = '中心地址须以 https:// 开头（仅本机地址 127.0.0.1 / localhost 可用 http://）'

const fen = z.int().min(0).max(100_000_000_00)
/** A mainland mobile number, 11 digits, as core/identifiers.ts parseMobile keeps it. */
export const mobileSchema = z.string().regex(/^1[3-9]\d{9}$/)
const utc = z.iso.datetime({ offset: false })
const regionCode = z.string().regex(/^\d{6}$/)
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
export const terminalIdSchema = z.string().regex(/^T-[0-9A-Z]{4,32}$/)

/** Codes of the centre's error body, by HTTP status. */
export const CENTRE_ERROR_CODES = [
  /** 400: not JSON, or not what the schema says; nothing was changed. */
  'BAD_REQUEST',
  /** 401: no token, an unknown or expired one, or a wrong refresh secret. */
  'UNAUTHENTICATED',
  /** 403: an unknown enrolment code, or one another terminal has used. */
  'ENROLMENT_REFUSED',
  /** 403: a region or terminal id that is not this terminal's. */
  'FORBIDDEN',
  /** 404: no such call, or nothing there (no rules for the region). */
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  /** 413: the body is over the centre's limit. */
  'BODY_TOO_LARGE',
  /** 503: maintenance or overload; the same request may be sent again later. */
  'UNAVAILABLE',
  'INTERNAL'
] as const

/** The centre's error body. `code` is one of CENTRE_ERROR_CODES or a code the terminal does not know yet. */
export const centreErrorSchema = z.object({
  error: z.object({ code: z.string().max(64), message: z.string().max(500) })
})
export type CentreError = z.infer<typeof centreErrorSchema>['error']

// ── Registration and tokens ─────────────────────────────────────────────────────────────────────

/** `POST /v1/terminals`: a one-time enrolment code issued by the centre's administrator. */
export const registrationRequestSchema = z.strictObject({
  enrolmentCode: z.string().min(4).max(64),
  terminalId: terminalIdSchema,
  /** What the operator says this terminal is (柯城区医保服务大厅 2 号窗口, 某保险公司上门服务). */
  territory: z.string().min(1).max(100),
  appVersion: z.string().max(32),
  /** The terminal's Ed25519 public key (SPKI PEM): the centre verifies exported queue files with it. */
  publicKeyPem: z.string().min(40).max(1000),
  /** The terminal's X25519 public key (SPKI PEM): the centre encrypts sync packages to it. */
  filePublicKeyPem: z.string().min(40).max(1000).optional()
})
export type RegistrationRequest = z.infer<typeof registrationRequestSchema>

export const tokenGrantSchema = z.strictObject({
  token: z.string().min(16).max(200),
  tokenExpiresAt: utc
})
export type TokenGrant = z.infer<typeof tokenGrantSchema>

/** `201`: the regions this terminal may sell for (from the enrolment code), and its credentials. */
export const registrationResponseSchema = z.strictObject({
  terminalId: terminalIdSchema,
  regionCodes: z.array(regionCode).min(1).max(50),
  /** Kept by the terminal to renew its token (`POST /v1/terminals/{id}/token`, body `{ refreshSecret }`). */
  refreshSecret: z.string().min(16).max(200),
  ...tokenGrantSchema.shape,
  /** The centre's file-encryption key, a signed file of format CENTRE_FILE_KEY_FORMAT (below). */
  centreFileKey: z.string().min(1).max(4000).optional()
})
export type RegistrationResponse = z.infer<typeof registrationResponseSchema>

export const tokenRenewalRequestSchema = z.strictObject({ refreshSecret: z.string().min(16).max(200) })

/**
 * `PUT /v1/terminals/{id}/file-key` (token): the terminal's X25519 public key, for a terminal
 * registered before it sent one at registration; `204`. Sent again (a new key) it replaces the old.
 */
export const terminalFileKeyRequestSchema = z.strictObject({ filePublicKeyPem: z.string().min(40).max(1000) })

// ── Downloads ───────────────────────────────────────────────────────────────────────────────────

/**
 * `GET /v1/rules?region=330800`: `200 { envelope }` with the signed envelope text as in
 * docs/rule-bundles.md, or `304` when `If-None-Match: "<region>-v<version>"` names the current one.
 */
export const rulesResponseSchema = z.strictObject({ envelope: z.string().min(1).max(1_000_000) })

export const familyLineSchema = z.strictObject({
  idNumber: z.string().regex(/^\d{17}[\dX]$/),
  name: z.string().min(1).max(50),
  relation: z.enum(RELATIONS),
  boundAt: utc
})

/** The insurer's policy number (保单号) as the centre passes it on. */
export const policyNoSchema = z.string().regex(/^[0-9A-Za-z-]{6,40}$/)

/** What one person already holds in its cover year, bought through any channel. */
export const holdingLineSchema = z.strictObject({
  idNumber: z.string().regex(/^\d{17}[\dX]$/),
  productCode: z.string().min(1).max(40),
  coverFrom: utc,
  coverTo: utc,
  /** Version 2: the insurer's number, once issued. */
  policyNo: policyNoSchema.optional(),
  /** Version 2: the accepted sale line the policy began with; a yearly instalment names it. */
  policyRef: z.strictObject({ saleId: uuid, lineNo: z.int().positive() }).optional(),
  /** Version 2: the units of a per-unit product. */
  units: z.int().positive().max(1000).optional(),
  /**
   * Version 2: a policy paid by yearly instalments with one still to pay: how many are paid (the
   * sale was the first), of how many, when the next falls due and when its grace period ends. A
   * policy in grace or lapsed is listed though its cover is over, for two years (保险法 art. 37).
   */
  instalments: z
    .strictObject({
      paid: z.int().min(1).max(40),
      years: z.int().min(2).max(40),
      nextDueAt: utc,
      graceEndsAt: utc
    })
    .optional()
})
export type HoldingLine = z.infer<typeof holdingLineSchema>

/**
 * One account with everything the counter needs about it. An account line replaces the account's
 * earlier line whole, family and holdings included (in a delta as in a full snapshot).
 */
export const accountLineSchema = z.strictObject({
  type: z.literal('account'),
  /** The centre's permanent account number (个人编号): cards are reissued, this stays. */
  accountNo: z.string().regex(/^[0-9A-Z]{6,32}$/),
  cardNumber: z.string().regex(/^[A-Z0-9]{9}$/),
  idNumber: z.string().regex(/^\d{17}[\dX]$/),
  name: z.string().min(1).max(50),
  regionCode,
  insuranceType: z.enum(INSURANCE_TYPES),
  status: z.enum(ENROLMENT_STATUSES),
  balanceFen: fen,
  historicalBalanceFen: fen,
  /** Spent on commercial insurance this settlement year, all channels, as the centre knows it at balancesAsOf. */
  spentThisSettlementYearFen: fen,
  /** 阳光健身卡 transfers this settlement year (Suzhou); 0 elsewhere. */
  fitnessCardTransfersFen: fen,
  family: z.array(familyLineSchema).max(20),
  holdings: z.array(holdingLineSchema).max(200)
})
export type AccountLine = z.infer<typeof accountLineSchema>

/**
 * `GET /v1/snapshot?since=<snapshotVersion>` (omit `since` for a full snapshot): NDJSON, one
 * object a line, streamed. The header comes first, the end line last; the end line's `sha256` is
 * the hex SHA-256 of every byte before it (header included, each line with its `\n`), and `count`
 * is the number of account and removed lines. A terminal applies nothing until the end checks out.
 */
export const snapshotHeaderSchema = z.strictObject({
  type: z.literal('header'),
  /** The version the lines are written in: the lower of the terminal's and the centre's. */
  protocol: z.union([z.literal(1), z.literal(2)]),
  snapshotVersion: z.int().positive(),
  /** A delta applies on top of exactly this version; a full snapshot replaces everything. */
  full: z.boolean(),
  baseVersion: z.int().nonnegative().nullable(),
  regionCodes: z.array(regionCode).min(1).max(50),
  /** The moment the balances, spending and holdings in this snapshot were true at the centre. */
  balancesAsOf: utc,
  generatedAt: utc
})
export type SnapshotHeader = z.infer<typeof snapshotHeaderSchema>

/** The account left the terminal's regions (moved away, closed): the terminal forgets it. */
export const removedLineSchema = z.strictObject({
  type: z.literal('removed'),
  accountNo: accountLineSchema.shape.accountNo
})
export type RemovedLine = z.infer<typeof removedLineSchema>

export const snapshotEndSchema = z.strictObject({
  type: z.literal('end'),
  count: z.int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/)
})
export type SnapshotEnd = z.infer<typeof snapshotEndSchema>

// ── Upload ──────────────────────────────────────────────────────────────────────────────────────

const uploadLineSchema = z.strictObject({
  lineNo: z.int().positive(),
  relation: z.enum(['self', ...RELATIONS]),
  insuredIdNumber: z.string().regex(/^\d{17}[\dX]$/),
  insuredName: z.string().min(1).max(50),
  productCode: z.string().min(1).max(40),
  units: z.int().positive().nullable(),
  premiumFen: fen.positive(),
  coverFrom: utc,
  coverTo: utc,
  /**
   * Version 2: the line pays the yearly instalment `sequence` (2 …) of the policy begun by that
   * accepted sale line, for the same person, product and units; its cover runs from the due date.
   */
  instalment: z
    .strictObject({ saleId: uuid, lineNo: z.int().positive(), sequence: z.int().min(2).max(40) })
    .optional()
})

// ── The payer's proof ───────────────────────────────────────────────────────────────────────────

/**
 * The card's password (社保卡密码) as the terminal sends it: never in the clear. The customer's six
 * digits and the sale's id, as the JSON text `{"saleId","pin"}`, sealed to the centre's file key
 * (CENTRE_FILE_KEY_FORMAT, `keyId`): X25519 between a fresh key of the terminal's (`ephemeralKey`,
 * raw, base64) and the centre's key, HKDF-SHA256 (salt: the fresh public key; info: the format),
 * AES-256-GCM with the `pinBlockAad` as additional data (`sealed`: ciphertext then the 16-byte tag).
 * The centre opens it, checks the sale id inside is the item's, and verifies the digits against its
 * verifier for the account: a block copied onto another sale does not open, or names another sale.
 */
export const PIN_BLOCK_FORMAT = 'yibao-pin-block/1'
const base64Text = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/)
export const pinBlockSchema = z.strictObject({
  format: z.literal(PIN_BLOCK_FORMAT),
  keyId: z.string().min(1).max(100),
  ephemeralKey: base64Text.length(44),
  nonce: base64Text.length(16),
  sealed: base64Text.min(24).max(200)
})
export type PinBlock = z.infer<typeof pinBlockSchema>

/** The AES-GCM additional data of a PIN block: it is bound to the key and to the sale. */
export function pinBlockAad(keyId: string, saleId: string): string {
  return [PIN_BLOCK_FORMAT, keyId, saleId].join('\n')
}

/** What a PIN block holds once opened. */
export const pinBlockContentSchema = z.strictObject({ saleId: z.string(), pin: z.string().regex(/^\d{6}$/) })

/** 医保电子凭证: the code the customer's phone shows, as a scanner types it (opaque, printable ASCII). */
export const voucherCodeSchema = z.string().regex(/^[\x21-\x7e]{20,256}$/)

/**
 * How the payer proved the account is theirs. `card`: the card read by the reader (`swiped`) or its
 * number typed by hand because the reader failed (`keyed`, approved on the terminal by a supervisor
 * whose code is `keyedApprovedBy`), with the password. `voucher`: an e-voucher, accepted only when
 * the centre confirms it online.
 */
export const payerProofSchema = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('card'),
    entry: z.enum(['swiped', 'keyed']),
    pinBlock: pinBlockSchema,
    keyedApprovedBy: z.string().max(16).optional()
  }),
  z.strictObject({ method: z.literal('voucher'), voucherCode: voucherCodeSchema })
])
export type PayerProof = z.infer<typeof payerProofSchema>

/** A sale exactly as the terminal's outbox holds it. Its permanent id is `saleId`. */
export const saleItemSchema = z.strictObject({
  type: z.literal('sale'),
  saleId: uuid,
  terminalId: terminalIdSchema,
  operatorCode: z.string().max(16),
  createdAt: utc,
  payer: z.strictObject({
    cardNumber: z.string().regex(/^[A-Z0-9]{9}$/),
    idNumber: z.string().regex(/^\d{17}[\dX]$/),
    regionCode
  }),
  rules: z.strictObject({ regionCode, version: z.int().positive() }),
  totalFen: fen.positive(),
  lines: z.array(uploadLineSchema).min(1).max(20),
  /** Absent only on sales queued by terminals before payer proof existed: the centre refuses those. */
  payment: payerProofSchema.optional(),
  /**
   * Version 2: the applicant's (投保人, the payer's) contact, for the insurer. Required by the
   * centre where the sale's bundle says `applicant.mobileRequired`, from terminals of version 2.
   */
  applicant: z.strictObject({ mobile: mobileSchema }).optional()
})
export type SaleItem = z.infer<typeof saleItemSchema>

/** Undo of a sale the centre already has. Its permanent id is `reversalId`; it refers to `saleId`. */
export const reversalItemSchema = z.strictObject({
  type: z.literal('reversal'),
  reversalId: uuid,
  saleId: uuid,
  terminalId: terminalIdSchema,
  operatorCode: z.string().max(16),
  at: utc,
  reason: z.string().max(200),
  totalFen: fen.positive()
})
export type ReversalItem = z.infer<typeof reversalItemSchema>

/**
 * Version 2: cancellation within the cooling-off period (犹豫期退保) of policies (lines) of a sale
 * the centre accepted. Its permanent id is `cancellationId`. The centre checks the period from the
 * sale's time and the bundle the sale was made under, refunds `refundFen` (the lines' premiums) to
 * the personal account, and takes it off the settlement year's spending. The payer showed their
 * card (`payerCardNumber`, checked against the sale's payer); a supervisor (`approvedBy`) approved.
 */
export const cancellationItemSchema = z.strictObject({
  type: z.literal('cancellation'),
  cancellationId: uuid,
  saleId: uuid,
  lineNos: z.array(z.int().positive()).min(1).max(20),
  terminalId: terminalIdSchema,
  operatorCode: z.string().max(16),
  approvedBy: z.string().max(16),
  payerCardNumber: z.string().regex(/^[A-Z0-9]{9}$/),
  at: utc,
  reason: z.string().min(1).max(200),
  refundFen: fen.positive()
})
export type CancellationItem = z.infer<typeof cancellationItemSchema>

export const uploadItemSchema = z.discriminatedUnion('type', [
  saleItemSchema,
  reversalItemSchema,
  cancellationItemSchema
])
export type UploadItem = z.infer<typeof uploadItemSchema>

/**
 * The item as a centre of `version` reads it: version 1 has no applicant (the insurer then does not
 * get the mobile from this centre) and no cancellation (null: it waits for a centre of version 2).
 * The id, and so the deduplication, is the same either way.
 */
export function itemForProtocol(item: UploadItem, version: ProtocolVersion): UploadItem | null {
  if (version >= 2) return item
  // Cancellations and instalments mean something else, or nothing, to a version-1 centre: held.
  if (item.type === 'cancellation') return null
  if (item.type === 'sale' && item.lines.some((line) => line.instalment !== undefined)) return null
  if (item.type !== 'sale' || item.applicant === undefined) return item
  const { applicant: _left, ...version1 } = item
  return version1
}

/** The id the centre deduplicates an item on, for good. */
export function itemIdOf(item: UploadItem): string {
  if (item.type === 'sale') return item.saleId
  return item.type === 'reversal' ? item.reversalId : item.cancellationId
}

/** `POST /v1/transactions`: items in outbox order; one account's items are never reordered. */
export const uploadRequestSchema = z.strictObject({
  terminalId: terminalIdSchema,
  items: z.array(uploadItemSchema).min(1).max(500)
})
export type UploadRequest = z.infer<typeof uploadRequestSchema>

/** Why the centre refuses an item. A terminal shows an unknown code with the centre's message. */
export const REJECTION_CODES = [
  'INSUFFICIENT_BALANCE',
  'ACCOUNT_SUSPENDED',
  'ACCOUNT_UNKNOWN',
  'DUPLICATE_COVER',
  'RULES_WITHDRAWN',
  'OVER_CAP',
  'SALE_UNKNOWN',
  'INVALID_ITEM',
  /** The card's password did not match; the message says how many tries are left. */
  'WRONG_PIN',
  /** Too many wrong passwords: the card's password is locked at the centre until reset at an office. */
  'PIN_LOCKED',
  /** No proof, or a proof that does not open or does not belong to this sale and account. */
  'PAYER_UNVERIFIED',
  /** The centre does not take sales with a card number typed by hand (its policy). */
  'KEYED_REFUSED',
  /** The e-voucher is unknown, expired, or another person's. */
  'VOUCHER_INVALID',
  /** Version 2: a cancellation after the cooling-off period. */
  'COOLING_OFF_OVER',
  /** Version 2: a policy of the cancellation is cancelled already (or the sale was reversed). */
  'ALREADY_CANCELLED',
  /**
   * Version 2: a yearly instalment the policy does not take now: not yet payable, the grace period
   * over (lapsed), paid already, or the policy cancelled.
   */
  'INSTALMENT_REFUSED'
] as const
export type RejectionCode = (typeof REJECTION_CODES)[number]

/** Each code in the clerk's words, for lists and the audit log (the centre's message says the detail). */
export const REJECTION_LABELS: Readonly<Record<RejectionCode, string>> = {
  INSUFFICIENT_BALANCE: '账户余额不足',
  ACCOUNT_SUSPENDED: '账户已暂停参保',
  ACCOUNT_UNKNOWN: '中心没有这个账户',
  DUPLICATE_COVER: '已有同期保单',
  RULES_WITHDRAWN: '所依据的规则包已被撤回',
  OVER_CAP: '超过年度限额',
  SALE_UNKNOWN: '中心没有这笔交易',
  INVALID_ITEM: '交易内容不符合中心要求',
  WRONG_PIN: '社保卡密码错误',
  PIN_LOCKED: '社保卡密码已锁定',
  PAYER_UNVERIFIED: '未能确认付款人本人',
  KEYED_REFUSED: '中心不受理手工输入卡号的交易',
  VOUCHER_INVALID: '电子凭证无效或已过期',
  COOLING_OFF_OVER: '犹豫期已过',
  ALREADY_CANCELLED: '保单已退保',
  INSTALMENT_REFUSED: '续期缴费不予受理'
}

/** A rejection code as the screen shows it: its Chinese label, or (a code this terminal does not know yet) a neutral phrase. */
export function rejectionLabel(code: string): string {
  return (REJECTION_LABELS as Readonly<Record<string, string>>)[code] ?? '中心拒绝（原因见说明）'
}

export const itemResultSchema = z.discriminatedUnion('outcome', [
  /**
   * Settled against the real balance now (`alreadyAccepted`: a resend; the first result repeated).
   * `reference`: the centre's own number for the settlement (中心流水号), printed on the receipt.
   */
  z.strictObject({
    itemId: uuid,
    outcome: z.enum(['accepted', 'alreadyAccepted']),
    settledAt: utc,
    reference: z.string().min(1).max(40).optional()
  }),
  /** Refused for good (a resend repeats the refusal): kept and shown on the terminal, never retried. */
  z.strictObject({
    itemId: uuid,
    outcome: z.literal('rejected'),
    code: z.string().max(64),
    message: z.string().max(500),
    settledAt: utc
  }),
  /** Not decided now: the terminal keeps it and sends it again later, with the items behind it for the same account. */
  z.strictObject({ itemId: uuid, outcome: z.literal('retryLater'), message: z.string().max(500) })
])
export type ItemResult = z.infer<typeof itemResultSchema>

/** `200`: one result per item, in the order sent. */
export const uploadResponseSchema = z.strictObject({ results: z.array(itemResultSchema).max(500) })
export type UploadResponse = z.infer<typeof uploadResponseSchema>

// ── Online authorization ────────────────────────────────────────────────────────────────────────

/**
 * `POST /v1/authorizations`: one sale, with the customer at the counter. `items` ends with the sale
 * (its id is `saleId`); before it come the account's older items still queued on this terminal, in
 * queue order, so the centre settles them first, exactly as an upload would. The answer is an
 * upload's (`uploadResponseSchema`): settled with the same rules and the same deduplication, so a
 * late answer and a later upload of the same sale are one settlement. Only here is an e-voucher
 * taken: the centre confirms it while the customer waits.
 */
export const authorizationRequestSchema = z
  .strictObject({
    terminalId: terminalIdSchema,
    saleId: uuid,
    items: z.array(uploadItemSchema).min(1).max(50)
  })
  .superRefine((request, ctx) => {
    const last = request.items.at(-1)
    if (!last || last.type !== 'sale' || last.saleId !== request.saleId)
      ctx.addIssue({ code: 'custom', path: ['items'], message: '最后一项应为待授权的这笔交易' })
  })
export type AuthorizationRequest = z.infer<typeof authorizationRequestSchema>

// ── Policies (version 2) ────────────────────────────────────────────────────────────────────────

/**
 * The insurer issued the policy (保单) for one insured line of an accepted sale: its number and
 * cover period. It may come long after the acceptance; a sale reversed before issue never gets one.
 */
export const policyIssueSchema = z.strictObject({
  saleId: uuid,
  lineNo: z.int().positive(),
  policyNo: policyNoSchema,
  coverFrom: utc,
  coverTo: utc,
  issuedAt: utc
})
export type PolicyIssue = z.infer<typeof policyIssueSchema>

/**
 * `GET /v1/policies?after=<cursor>` (version 2, token): the policies issued for this terminal's
 * sales after `cursor` (0 for all), oldest first, at most 500; `cursor` is where the next call
 * starts, `more` says whether to call again now. A version-1 terminal is answered 404.
 */
export const policiesResponseSchema = z.strictObject({
  policies: z.array(policyIssueSchema).max(500),
  cursor: z.int().nonnegative(),
  more: z.boolean()
})
export type PoliciesResponse = z.infer<typeof policiesResponseSchema>

// ── Files, for agents out of reach ──────────────────────────────────────────────────────────────

/**
 * The pending queue as a file the centre imports with the same deduplication
 * (`npm run cli -- export-queue`): the payload holds the items as they would be uploaded. Version
 * 1 (this format) is the payload in the clear, signed with the terminal's registered key (the
 * signature covers the UTF-8 bytes of `payload`); terminals now write version 2, encrypted
 * (ENCRYPTED_QUEUE_FILE_FORMAT below), and the centre still accepts version 1.
 */
export const QUEUE_FILE_FORMAT = 'yibao-queue-export/1'
export const queueFilePayloadSchema = z.strictObject({
  terminalId: terminalIdSchema,
  exportedAt: utc,
  items: z.array(uploadItemSchema).max(100_000)
})
export type QueueFilePayload = z.infer<typeof queueFilePayloadSchema>

/**
 * Rules and snapshot for a terminal as one file (`npm run cli -- import-package`), streamable:
 * the first line is a signed file (below) whose payload is this object, signed by the centre's key
 * like a bundle; every line after it is the snapshot NDJSON exactly as the snapshot call streams
 * it. `snapshotSha256` repeats the snapshot's end-line digest, so the signature covers the snapshot.
 */
export const PACKAGE_FILE_FORMAT = 'yibao-sync-package/1'
export const packagePayloadSchema = z.strictObject({
  terminalId: terminalIdSchema,
  createdAt: utc,
  ruleEnvelopes: z.array(z.string().min(1).max(1_000_000)).max(50),
  snapshotSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * What the centre decided about this terminal's items it has received (online or by queue file),
   * so an agent who never gets online still learns them and its queue empties. Optional.
   */
  results: z.array(itemResultSchema).max(100_000).optional(),
  /** Version 2: policies issued for this terminal's sales (all the centre knows; the terminal keeps each once). */
  policies: z.array(policyIssueSchema).max(100_000).optional()
})
export type PackagePayload = z.infer<typeof packagePayloadSchema>

/**
 * The centre's key for files sent to it (an X25519 public key, SPKI PEM), signed by a centre key
 * the terminal trusts for rule bundles, as a signed file (below) whose payload is this object.
 * Handed out at registration and by `GET /v1/centre/file-key` (`200 { signedKey }`, no token: it is
 * signed). The terminal encrypts exported queue files to it.
 */
export const CENTRE_FILE_KEY_FORMAT = 'yibao-centre-file-key/1'
export const centreFileKeyPayloadSchema = z.strictObject({
  keyId: z.string().min(1).max(100),
  publicKeyPem: z.string().min(40).max(1000),
  issuedAt: utc
})
export type CentreFileKeyPayload = z.infer<typeof centreFileKeyPayloadSchema>
export const centreFileKeyResponseSchema = z.strictObject({ signedKey: z.string().min(1).max(4000) })

/**
 * The queue file, encrypted to the centre (what the terminal writes since version 2): it carries
 * sales, and so names, ID and card numbers, on USB sticks. The QueueFilePayload's JSON text is
 * sealed with AES-256-GCM under a key both sides derive: X25519 between a fresh key of the
 * terminal's and the centre's file key (`recipientKeyId`), then HKDF-SHA256 with the fresh public
 * key as salt and the format as info. The header (format, terminal, recipient) is the AAD. Then the
 * terminal signs (Ed25519, its registered key) the lines of `encryptedQueueSigningText`, so the
 * centre refuses a changed file before it decrypts anything. Version 1 (signed, in the clear) is
 * still accepted from terminals that have not been updated.
 */
export const ENCRYPTED_QUEUE_FILE_FORMAT = 'yibao-queue-export/2'
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/)
export const encryptedQueueFileSchema = z.strictObject({
  format: z.literal(ENCRYPTED_QUEUE_FILE_FORMAT),
  terminalId: terminalIdSchema,
  recipientKeyId: z.string().min(1).max(100),
  /** The terminal's fresh X25519 public key, SPKI DER, base64. */
  ephemeralKey: base64.min(40).max(200),
  nonce: base64.length(16),
  ciphertext: base64.max(200_000_000),
  tag: base64.length(24),
  signature: base64.min(1).max(200)
})
export type EncryptedQueueFile = z.infer<typeof encryptedQueueFileSchema>

/** What the terminal's signature of an encrypted queue file covers: every field but the signature, one a line. */
export function encryptedQueueSigningText(file: Omit<EncryptedQueueFile, 'signature'>): string {
  return [
    file.format,
    file.terminalId,
    file.recipientKeyId,
    file.ephemeralKey,
    file.nonce,
    file.ciphertext,
    file.tag
  ].join('\n')
}

/** The AES-GCM additional data: the header, so a file cannot be passed off as another terminal's. */
export function encryptedQueueAad(
  file: Pick<EncryptedQueueFile, 'format' | 'terminalId' | 'recipientKeyId'>
): string {
  return [file.format, file.terminalId, file.recipientKeyId].join('\n')
}

/**
 * The sync package encrypted to the terminal (what the centre writes since #15): rules, snapshot
 * and results carry a territory's names, ID and card numbers on USB sticks. The first line is a
 * signed file (below, signed by the centre's key like a bundle) whose payload is this header; the
 * rest of the file is the version-1 package's bytes, sealed with AES-256-GCM under a key both
 * sides derive: X25519 between a fresh key of the centre's and the terminal's file key
 * (`recipientKeyId`), HKDF-SHA256 with the fresh public key as salt and the format as info; the AAD
 * is format, terminal and recipient, one a line. The header carries the ciphertext's SHA-256 and
 * length, so a changed file is refused before anything is decrypted.
 */
export const ENCRYPTED_PACKAGE_FORMAT = 'yibao-sync-package/2'
export const encryptedPackageHeaderSchema = z.strictObject({
  terminalId: terminalIdSchema,
  recipientKeyId: z.string().regex(/^TFK-[0-9a-f]{16}$/),
  createdAt: utc,
  /** The centre's fresh X25519 public key, SPKI DER, base64. */
  ephemeralKey: base64.min(40).max(200),
  nonce: base64.length(16),
  tag: base64.length(24),
  ciphertextSha256: z.string().regex(/^[0-9a-f]{64}$/),
  ciphertextBytes: z.int().min(1).max(Number.MAX_SAFE_INTEGER)
})
export type EncryptedPackageHeader = z.infer<typeof encryptedPackageHeaderSchema>

/** The AES-GCM additional data of a package: the file cannot be passed off as another terminal's. */
export function encryptedPackageAad(
  header: Pick<EncryptedPackageHeader, 'terminalId' | 'recipientKeyId'>
): string {
  return [ENCRYPTED_PACKAGE_FORMAT, header.terminalId, header.recipientKeyId].join('\n')
}

/** A signed file: the exact payload text, and an Ed25519 signature of its UTF-8 bytes (base64). */
export const signedFileSchema = z.strictObject({
  format: z.enum([QUEUE_FILE_FORMAT, PACKAGE_FILE_FORMAT, CENTRE_FILE_KEY_FORMAT, ENCRYPTED_PACKAGE_FORMAT]),
  keyId: z.string().min(1).max(100),
  payload: z.string(),
  signature: z.string().min(1).max(200)
})
export type SignedFile = z.infer<typeof signedFileSchema>

// ── Office report ───────────────────────────────────────────────────────────────────────────────

/** The longest range an office report covers, in days (both ends included). */
export const OFFICE_REPORT_MAX_DAYS = 31

const shanghaiDate = z.iso.date()

/**
 * `POST /v1/reports/office`: the sales the centre has received from every terminal of the caller's
 * office (网点: terminals registered with the same territory, compared trimmed), for a range of
 * Shanghai dates, both inclusive, at most OFFICE_REPORT_MAX_DAYS days. Read-only at both ends.
 */
export const officeReportRequestSchema = z
  .strictObject({ from: shanghaiDate, to: shanghaiDate })
  .superRefine((range, ctx) => {
    if (range.from > range.to) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: '开始日期不能晚于结束日期' })
      return
    }
    const days =
      (Date.parse(`${range.to}T00:00:00Z`) - Date.parse(`${range.from}T00:00:00Z`)) / 86_400_000 + 1
    if (days > OFFICE_REPORT_MAX_DAYS)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `网点汇总的区间不能超过 ${OFFICE_REPORT_MAX_DAYS} 天（含首尾）`
      })
  })
export type OfficeReportRequest = z.infer<typeof officeReportRequestSchema>

/**
 * One line of a sale the centre received, as the centre sees it now. `status` in the terminal's
 * words: `accepted` (settled), `rejected` (refused), `voided` (settled, then a reversal accepted).
 * No personal data: no payer, no insured person, no card or ID number.
 */
export const officeReportLineSchema = z.strictObject({
  terminalId: terminalIdSchema,
  saleId: uuid,
  /** The terminal's time of sale (UTC). */
  createdAt: utc,
  status: z.enum(['accepted', 'rejected', 'voided']),
  operatorCode: z.string().max(16),
  /** The upload carries the operator's code only: the centre repeats the code here. */
  operatorName: z.string().max(50),
  regionCode,
  regionName: z.string().min(1).max(100),
  productCode: z.string().min(1).max(40),
  productName: z.string().min(1).max(100),
  relation: z.enum(['self', ...RELATIONS]),
  premiumFen: fen.positive(),
  rulesVersion: z.int().positive(),
  /** Version 2: the line paid this yearly instalment (2 …) of a policy held already (续期); absent: a new policy. */
  instalmentNo: z.int().min(2).max(40).optional()
})
export type OfficeReportLine = z.infer<typeof officeReportLineSchema>

/** `200`: the office's terminals (the caller's included) and every received sale line in the range, oldest first. */
export const officeReportResponseSchema = z.strictObject({
  territory: z.string().min(1).max(100),
  generatedAt: utc,
  terminals: z.array(terminalIdSchema).min(1).max(1000),
  lines: z.array(officeReportLineSchema).max(200_000)
})
export type OfficeReportResponse = z.infer<typeof officeReportResponseSchema>

/** Where a chain of the terminal's records ends: how many rows, and the last one's MAC (hex). */
export const chainHeadSchema = z.strictObject({
  length: z.int().min(0).max(1_000_000_000),
  head: z.string().regex(/^(?:[0-9a-f]{64}|yibao-(?:audit|close)-chain\/1)$/)
})
export type ChainHead = z.infer<typeof chainHeadSchema>

/**
 * `POST /v1/record-heads`, with every sync: where the terminal's audit log and close reports end.
 * The centre keeps the longest it has seen; a shorter chain, or the same length with another head,
 * means rows were removed at the terminal, and the centre records an alarm. It answers with what it
 * held before this report, so the terminal checks that its own chain still passes through it.
 */
export const recordHeadsRequestSchema = z.strictObject({ audit: chainHeadSchema, closes: chainHeadSchema })
export type RecordHeadsRequest = z.infer<typeof recordHeadsRequestSchema>

export const recordHeadsResponseSchema = z.strictObject({
  audit: chainHeadSchema.nullable(),
  closes: chainHeadSchema.nullable()
})
export type RecordHeadsResponse = z.infer<typeof recordHeadsResponseSchema>
