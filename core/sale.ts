import { z } from 'zod'
import { RELATIONS, type RegionRef } from './cardholder'
import type { RulesRef } from './eligibility'
import type { Fen } from './money'
import type { InsuredRelation } from './rules/bundle'
import type { Allowed, RuleCheck } from './rules/engine'
import type { AuthorizationMode } from './rules/freshness'
import { PIN_PATTERN } from './operators'
import { pinBlockSchema } from './sync/protocol'

/** One insured person and what is bought for them, as the clerk puts the order together. */
export const draftLineSchema = z.strictObject({
  insured: z.strictObject({
    relation: z.enum(['self', ...RELATIONS]),
    /** A family member bound to the account, by this terminal's id for them (the screen never has their full ID). */
    memberId: z.int().positive().optional(),
    /** Any other relative's resident ID, as typed. */
    idNumber: z.string().max(32).optional(),
    /** A relative not bound to the account: the name as typed from their ID card. */
    name: z.string().trim().max(30).optional(),
    /** The clerk saw proof of the relationship (household register, birth certificate). */
    proofSeen: z.boolean().optional(),
    /** The clerk checked the person is enrolled in basic insurance in the region, where the snapshot cannot show it. */
    enrolmentConfirmed: z.boolean().optional()
  }),
  productCode: z.string().min(1).max(40),
  units: z.int().min(1).max(1000).optional(),
  amountFen: z.int().positive().max(100_000_000).optional(),
  /**
   * Pays the next yearly instalment of a policy the account's people hold (the sale line it began
   * with, HoldingView's `instalment.policyRef`): person, product and units are the policy's.
   */
  instalmentOf: z.strictObject({ saleId: z.string().min(1).max(36), lineNo: z.int().positive() }).optional()
})

export const draftOrderSchema = z.strictObject({
  accountId: z.int().positive(),
  lines: z.array(draftLineSchema).min(1).max(10),
  /** The applicant's (the payer's) mobile as typed; checked on this side (core/identifiers parseMobile). */
  applicantMobile: z.string().max(32).optional()
})

export type DraftLine = z.infer<typeof draftLineSchema>
export type DraftOrder = z.infer<typeof draftOrderSchema>

/** A signature drawn on screen: strokes as SVG path data in a width×height box (never raw SVG). */
export const signatureSchema = z.strictObject({
  width: z.int().min(50).max(2000),
  height: z.int().min(20).max(1000),
  strokes: z
    .array(
      z
        .string()
        .regex(/^[ML][\d.\sML-]*$/, '签名数据不正确')
        .max(20_000)
    )
    .min(1)
    .max(200)
})
export type Signature = z.infer<typeof signatureSchema>

/**
 * How the customer pays, as the pay step sends it. `card`: the card again, read by the reader
 * (`swiped`) or its card or ID number typed because the reader failed (`keyed`: a supervisor's
 * code and PIN approve it, not the operator's own), and the card's password sealed at entry to the
 * centre with this sale's id (`pinBlock`; the digits never reach this side). `voucher`: the
 * e-voucher code scanned from the customer's phone, taken only while the centre answers.
 */
export const paymentSchema = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('card'),
    entry: z.enum(['swiped', 'keyed']),
    card: z.string().min(1).max(256),
    pinBlock: pinBlockSchema,
    approval: z
      .strictObject({
        supervisorCode: z.string().regex(/^\w{1,16}$/, '工号格式不正确'),
        supervisorPin: z.string().regex(PIN_PATTERN, '密码应为 6–12 位数字')
      })
      .optional()
  }),
  z.strictObject({ method: z.literal('voucher'), voucherCode: z.string().min(1).max(256) })
])
export type Payment = z.infer<typeof paymentSchema>

/** How a stored sale's payer was verified; `legacy`: sold before payer proof existed. */
export type PayerProofKind = 'swiped' | 'keyed' | 'voucher' | 'legacy'

/** What the pay step needs before the customer pays: the sale's permanent id and the key to seal the password to. */
export interface PaymentStart {
  readonly saleId: string
  /** The centre's key (raw X25519, base64); null when this terminal has none yet: no password can be taken. */
  readonly pinKey: { readonly keyId: string; readonly publicKey: string } | null
  /** The centre answered recently: the sale is authorized online before the receipt. */
  readonly online: boolean
  /** Registered with a centre: the sale is offered to it for authorization even if it did not answer lately. */
  readonly registered: boolean
}

export interface QuoteLine {
  readonly lineNo: number
  readonly relation: InsuredRelation
  readonly insuredNameMasked: string
  readonly insuredIdMasked: string
  readonly age: number
  readonly boundToAccount: boolean
  readonly productCode: string
  readonly productName: string
  /** The products this person could have at their smallest quantity, given the lines before: the choice offered. */
  readonly openProducts: readonly string[]
  readonly eligible: boolean
  readonly checks: readonly RuleCheck[]
  readonly allowed: Allowed
  readonly premiumFen: Fen | null
  readonly cover: { readonly from: string; readonly to: string }
  /** A yearly instalment of a held policy: which one of how many, when due; null for a new policy. */
  readonly instalment: {
    readonly sequence: number
    readonly years: number
    readonly dueAt: string
    readonly policyNo: string | null
  } | null
  /** What stops this line, in Chinese (failed rules, missing proof, a person twice …). */
  readonly problems: readonly string[]
  /** What the clerk should know before confirming (buying again within a cover period …). */
  readonly warnings: readonly string[]
}

export interface QuoteView {
  readonly rules: RulesRef
  readonly lines: readonly QuoteLine[]
  readonly totalFen: Fen
  /** The most the account may spend now, before this order. */
  readonly maxSpendFen: Fen
  /** What stops the whole order (rules or snapshot too old to sell offline), in Chinese. */
  readonly blockers: readonly string[]
  /**
   * The applicant's mobile: whether the region's rules require it, the number as it will be kept
   * (masked), and what is wrong with what was typed, in Chinese (null when nothing).
   */
  readonly applicant: {
    readonly mobileRequired: boolean
    readonly mobileMasked: string | null
    readonly problem: string | null
  }
  /** Every line eligible, no problems, no blockers: the order may be confirmed and paid. */
  readonly ok: boolean
}

export const SALE_STATUSES = ['queued', 'uploaded', 'accepted', 'rejected', 'voided'] as const
export type SaleStatus = (typeof SALE_STATUSES)[number]

/** What the centre answered about a sale or its reversal (null until it has). */
export interface CentreResultView {
  /** The centre's clock, UTC ISO. */
  readonly settledAt: string
  /** Null: accepted. Otherwise the centre's reason code and its Chinese message. */
  readonly rejection: { readonly code: string; readonly message: string } | null
  /** The centre's settlement number (中心流水号) when it accepted, if it gave one. */
  readonly reference?: string | null
}

export interface ReceiptView {
  readonly saleId: string
  readonly createdAt: string
  readonly status: SaleStatus
  readonly terminalId: string
  readonly operator: { readonly code: string; readonly name: string }
  readonly payer: {
    readonly nameMasked: string
    readonly cardNumberMasked: string
    readonly idNumberMasked: string
    readonly region: RegionRef
  }
  readonly rules: { readonly regionName: string; readonly version: number }
  readonly lines: ReadonlyArray<{
    readonly lineNo: number
    readonly relation: InsuredRelation
    readonly insuredNameMasked: string
    readonly insuredIdMasked: string
    readonly productCode: string
    readonly productName: string
    readonly units: number | null
    readonly premiumFen: Fen
    readonly coverFrom: string
    readonly coverTo: string
    /** The insurer's policy number (保单号), once the centre passed it on. */
    readonly policy: { readonly policyNo: string; readonly issuedAt: string } | null
    /** A policy paid yearly: which instalment this line is (1 begins the policy), of how many. */
    readonly instalment: { readonly sequence: number; readonly years: number } | null
    /** When the centre accepted this line's cooling-off cancellation; null while in force. */
    readonly cancelledAt: string | null
    /**
     * Whether it may be cancelled now for a full refund (accepted sale, within the product's
     * cooling-off period, nothing pending), until when, or why not, in Chinese.
     */
    readonly cancellation: {
      readonly allowed: boolean
      readonly endsAt: string | null
      readonly reason: string | null
    }
  }>
  /** Cooling-off cancellations of this sale's lines, oldest first. */
  readonly cancellations: ReadonlyArray<{
    readonly id: string
    readonly lineNos: readonly number[]
    readonly refundFen: Fen
    readonly reason: string
    readonly requestedAt: string
    readonly status: 'queued' | 'accepted' | 'rejected'
    readonly approvedBy: { readonly code: string; readonly name: string }
    readonly centreResult: CentreResultView | null
  }>
  readonly totalFen: Fen
  /** The applicant's mobile, masked (138****5678); null when none was given. */
  readonly applicantMobileMasked: string | null
  readonly payerProof: PayerProofKind
  /** A keyed sale: the supervisor who approved it. */
  readonly keyedApprovedBy: { readonly code: string; readonly name: string } | null
  readonly voided: { readonly at: string; readonly reason: string } | null
  readonly reversalQueuedAt: string | null
  /** Printed again from 交易查询 (补打): marked on the paper, and audited. */
  readonly reprint?: boolean
  readonly centreResult: CentreResultView | null
  readonly reversalResult: CentreResultView | null
}

export interface SaleSummary {
  readonly saleId: string
  readonly createdAt: string
  readonly status: SaleStatus
  readonly payerNameMasked: string
  readonly payerCardMasked: string
  readonly totalFen: Fen
  readonly lineCount: number
  readonly operatorCode: string
  readonly reversalQueued: boolean
  readonly centreResult: CentreResultView | null
}

/** What the order step offers: the region's products, and the family members bound to the account. */
export interface CatalogueView {
  readonly rules: RulesRef
  readonly authorization: AuthorizationMode
  readonly maxSpendFen: Fen
  readonly relations: readonly InsuredRelation[]
  /** Most persons one payer may insure (the payer included where the rules say so), or null. */
  readonly maxPersons: number | null
  readonly products: ReadonlyArray<{
    readonly code: string
    readonly name: string
    readonly insurer: string
    readonly illustrative: boolean
    readonly units: { readonly min: number; readonly max: number | null } | null
    readonly amountsFen: readonly Fen[] | null
    readonly terms: string
  }>
  readonly family: ReadonlyArray<{
    readonly memberId: number
    readonly relation: InsuredRelation
    readonly nameMasked: string
    readonly idNumberMasked: string
    readonly age: number
    readonly gender: 'male' | 'female'
  }>
}
