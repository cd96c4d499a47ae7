import type { EnrolmentStatus, InsuranceType } from '../cardholder'
import type { Fen } from '../money'
import type { InsuredRelation, RuleBundle } from './bundle'

/**
 * What the eligibility decision is given and what it answers (the engine is core/rules/engine.ts).
 * Everything comes in as data: the bundle, the account snapshot, what this terminal has sold, the time.
 */

export interface PayerAccount {
  readonly regionCode: string
  /** The cardholder's resident ID: recognises "self" among insured persons. */
  readonly idNumber: string
  readonly insuranceType: InsuranceType
  readonly status: EnrolmentStatus
  readonly balanceFen: Fen
  readonly historicalBalanceFen: Fen
  /** 阳光健身卡 transfers in the current settlement year, as the centre reports them (Suzhou). */
  readonly fitnessCardTransfersFen?: Fen
}

/** Spent or reserved on this account by this terminal, any product, any year: the engine filters. */
export interface SpendingEntry {
  readonly amountFen: Fen
  /** UTC ISO. */
  readonly at: string
  /** Already deducted in the account snapshot (settled by the centre before the snapshot was taken). */
  readonly reflectedInBalance: boolean
}

/** A person this payer has insured (any year: the engine filters by period). */
export interface InsuredEntry {
  readonly idNumber: string
  readonly productCode: string
  readonly at: string
}

export interface InsuredPerson {
  readonly relation: InsuredRelation
  readonly idNumber: string
  readonly boundToAccount: boolean
  /** Enrolled in basic medical insurance in the bundle's region. */
  readonly enrolledLocally: boolean
  /** Already holds this product for its current cover period. */
  readonly alreadyCoveredByProduct: boolean
}

export interface DecisionInput {
  readonly bundle: RuleBundle
  readonly account: PayerAccount
  readonly spending: readonly SpendingEntry[]
  readonly insuredByPayer: readonly InsuredEntry[]
  readonly insured: InsuredPerson
  readonly productCode: string
  /** For per-unit products. */
  readonly units?: number
  /** For products sold at fixed amounts. */
  readonly amountFen?: Fen
  /** UTC ISO: the moment of the decision. */
  readonly at: string
  /**
   * A yearly instalment (续期) of a policy already held, not a new policy: priced by the bundle's
   * instalment amount for the policy's units, payable in its window; the product's enrolment
   * window, age bands and one-per-cover rule do not apply (the contract exists already).
   */
  readonly instalment?: InstalmentRequest
}

export interface InstalmentRequest {
  /** Which instalment (2 … years); the sale was the first. */
  readonly sequence: number
  readonly units: number
  /** UTC ISO: when it falls due, and the end (exclusive) of its grace period. */
  readonly dueAt: string
  readonly graceEndsAt: string
}

export interface RuleCheck {
  /** Stable id (e.g. "spending.cap", "balance.threshold[0]"): match on this, never on the text. */
  readonly rule: string
  readonly passed: boolean
  readonly text: string
}

export interface Allowed {
  /** The most that may be spent now from this account (balance part and caps applied). */
  readonly maxSpendFen: Fen
  /** What sets `maxSpendFen` when it is above nothing: the yearly cap left, or the usable balance. */
  readonly maxSpendSetBy?: 'yearlyCap' | 'balance'
  /** Per-unit products: `max < min` means not even the minimum can be bought. */
  readonly units?: { readonly min: number; readonly max: number }
  readonly unitPriceFen?: Fen
  /** Fixed-amount products: the amounts that may be chosen now, ascending. */
  readonly amountsFen?: readonly Fen[]
  /**
   * Fixed-amount products: the amounts the product and the account's balance band offer, whatever
   * may be spent now (so a screen can say an amount is out for money, not for the band).
   */
  readonly offeredAmountsFen?: readonly Fen[]
  /** The premium of the request; null when it cannot be priced (no band, nothing requested). */
  readonly premiumFen: Fen | null
}

export interface Decision {
  readonly eligible: boolean
  readonly checks: readonly RuleCheck[]
  readonly allowed: Allowed
}

export interface SelfOffersInput {
  readonly bundle: RuleBundle
  readonly account: PayerAccount
  readonly spending: readonly SpendingEntry[]
  readonly insuredByPayer: readonly InsuredEntry[]
  /** Products the cardholder already holds for their current cover period. */
  readonly coveredProductCodes: readonly string[]
  readonly at: string
}

export interface ProductOffer {
  readonly code: string
  readonly name: string
  readonly insurer: string
  /** The product (or a value in it) is illustrative, not from the source documents. */
  readonly illustrative: boolean
  /** The cardholder can buy at least the smallest quantity for themselves now. */
  readonly available: boolean
  readonly allowed: Allowed
  /** Why not, when not available: the failed checks. */
  readonly reasons: readonly RuleCheck[]
}
