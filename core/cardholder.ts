import type { InstalmentStatus } from './after-sale'
import type { Fen } from './money'
import type { Gender } from './identifiers'

/** Employee basic insurance has a personal account; resident insurance has none. */
export const INSURANCE_TYPES = ['employee_active', 'employee_retired', 'resident'] as const
export type InsuranceType = (typeof INSURANCE_TYPES)[number]

export const ENROLMENT_STATUSES = ['active', 'suspended', 'terminated'] as const
export type EnrolmentStatus = (typeof ENROLMENT_STATUSES)[number]

/** Relations as the regions' rules name them (直系亲属, 近亲属). */
export const RELATIONS = ['spouse', 'child', 'parent', 'grandparent', 'grandchild', 'sibling'] as const
export type Relation = (typeof RELATIONS)[number]

export interface RegionRef {
  readonly code: string
  readonly name: string
}

/** What the counter screen shows of a cardholder: identity masked, money in fen, times UTC. */
export interface CardholderView {
  /** This terminal's row id for the account: meaningless elsewhere, used to ask about it again. */
  readonly accountId: number
  readonly identifiedBy: 'social-security-card' | 'resident-id'
  readonly cardNumberMasked: string
  readonly nameMasked: string
  readonly idNumberMasked: string
  readonly gender: Gender
  readonly age: number
  readonly region: RegionRef
  readonly insuranceType: InsuranceType
  readonly status: EnrolmentStatus
  /** Personal-account balance (个人账户余额). */
  readonly balanceFen: Fen
  /** Carried over from earlier years (历年结余), part of the balance. */
  readonly historicalBalanceFen: Fen
  /** When the centre stated these balances (UTC ISO). */
  readonly balanceAsOf: string
  readonly boundFamilyMemberCount: number
  /** What the cardholder and the people on the account already hold, cover not over: see HoldingView. */
  readonly holdings: readonly HoldingView[]
}

/**
 * One cover someone on the account holds: from the centre's snapshot (any channel), or sold here
 * and paid from this account (with the sale's state until the centre's record replaces it).
 */
export interface HoldingView {
  /** self, a bound relative's relation, a relative paid for by ID; null: someone the terminal cannot name. */
  readonly relation: Relation | 'self' | null
  readonly insuredNameMasked: string | null
  readonly productCode: string
  readonly productName: string
  /** UTC ISO; the cover ends before `coverTo`. */
  readonly coverFrom: string
  readonly coverTo: string
  /** The insurer's policy number (保单号), once issued; null before. */
  readonly policyNo: string | null
  /** Per-unit products: how many units the policy is for. */
  readonly units: number | null
  /** The next yearly instalment (续期) of a policy paid yearly; null when none is to pay. */
  readonly instalment: InstalmentView | null
  readonly source: 'centre' | 'terminal'
  /**
   * This terminal's sale: its id and state (queued, uploaded, accepted), and until when the line
   * may be cancelled in its cooling-off period (UTC ISO; null when it may not be now).
   */
  readonly sale: {
    readonly saleId: string
    readonly status: string
    readonly cancellableUntil: string | null
  } | null
}

/**
 * The next yearly instalment of a held policy, as the counter offers it: which one of how many,
 * when due and until when it may be paid, what it costs under the rules in force, and where it
 * stands (core/after-sale.ts InstalmentStatus). `policyRef` names the policy to the sale.
 */
export interface InstalmentView {
  readonly policyRef: { readonly saleId: string; readonly lineNo: number }
  readonly sequence: number
  readonly years: number
  readonly dueAt: string
  readonly graceEndsAt: string
  readonly status: Exclude<InstalmentStatus, 'paidUp'>
  /** Units × the instalment amount of the rules in force; null when they state none. */
  readonly amountFen: Fen | null
}
