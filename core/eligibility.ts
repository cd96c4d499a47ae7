import type { RegionRef } from './cardholder'
import type { Gender } from './identifiers'
import type { Fen } from './money'
import type { InsuredRelation } from './rules/bundle'
import type { AuthorizationMode, OfflineFreshness } from './rules/freshness'
import type { Allowed, ProductOffer, RuleCheck } from './rules/engine'

/** Which rule bundle a decision came from: recorded with every decision and, later, every sale. */
export interface RulesRef {
  readonly regionCode: string
  readonly regionName: string
  readonly version: number
  readonly effectiveFrom: string
}

/** What the counter shows right after a swipe: the products for the cardholder themselves. */
export interface EligibilityView {
  readonly rules: RulesRef | null
  /** Why nothing can be decided offline (no bundle in force for the region), in Chinese. */
  readonly unavailableReason: string | null
  /** The most the account may spend now (the same for every product). */
  readonly maxSpendFen: Fen
  /** What this terminal has sold to the account in the current settlement year, queued sales included. */
  readonly soldHereThisYearFen: Fen
  /** Whether rules and snapshot are recent enough to sell offline; null without rules. */
  readonly freshness: OfflineFreshness | null
  /** Whether sales here need the centre's answer (the region, or some products), and whether it answers; null without rules. */
  readonly authorization: AuthorizationMode | null
  readonly offers: readonly ProductOffer[]
}

/** A full decision, explained rule by rule (the CLI prints it; the sale will show it). */
export interface DecisionView {
  readonly rules: RulesRef
  readonly payer: {
    readonly nameMasked: string
    readonly cardNumberMasked: string
    readonly region: RegionRef
  }
  readonly insured: {
    readonly relation: InsuredRelation
    readonly idNumberMasked: string
    readonly age: number
    readonly gender: Gender
    readonly boundToAccount: boolean
    readonly enrolledLocally: boolean
  }
  readonly product: { readonly code: string; readonly name: string }
  readonly at: string
  readonly eligible: boolean
  readonly checks: readonly RuleCheck[]
  readonly allowed: Allowed
}
