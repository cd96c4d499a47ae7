import type { Fen } from '../money'
import { shanghaiDate } from '../time'
import { accountFigures } from './account-figures'
import {
  balanceChecks,
  bundleInForce,
  duplicateChecks,
  identityChecks,
  instalmentChecks,
  insuredChecks,
  moneyChecks,
  payerChecks,
  personLimitChecks,
  productChecks,
  productKnown,
  requestChecks,
  type Request
} from './checks'
import type { Decision, DecisionInput, ProductOffer, RuleCheck, SelfOffersInput } from './decision'

export type * from './decision'

/**
 * The eligibility decision: pure and deterministic. Everything it needs is passed in (the bundle,
 * the account snapshot, what this terminal has sold, the time), and every rule it checks comes back
 * with its outcome and a Chinese sentence with the numbers, so the clerk can read why. The rules
 * themselves are in checks.ts, a group each; this puts them in order.
 */
export function decide(input: DecisionInput): Decision {
  const { bundle, account, insured, at } = input
  const money = accountFigures(bundle, account, input.spending, at)
  const { product, check: known } = productKnown(bundle, input.productCode)
  const checks: RuleCheck[] = [
    bundleInForce(bundle, at),
    ...payerChecks(bundle, account),
    ...balanceChecks(bundle, money),
    known
  ]
  let premiumFen: Fen | null = null
  let choices: Request['choices'] = {}
  if (product && input.instalment) {
    // The contract exists: who pays and what the account allows are this year's rules; the
    // person's identity still, their age band and the product's sale window no longer.
    const identity = identityChecks(product, insured, shanghaiDate(new Date(at)))
    const request = instalmentChecks(product, input.instalment, money, at)
    checks.push(
      ...productChecks(bundle, product, at).filter((c) => c.rule !== 'product.enrolmentWindow'),
      ...insuredChecks(bundle, insured, account),
      ...personLimitChecks(input, product, money),
      ...identity.checks.filter((c) => c.rule === 'insured.identity'),
      ...request.checks
    )
    premiumFen = request.premiumFen
    choices = request.choices
  } else if (product) {
    const identity = identityChecks(product, insured, shanghaiDate(new Date(at)))
    const request = requestChecks(bundle, product, input, money, identity.band)
    checks.push(
      ...productChecks(bundle, product, at),
      ...insuredChecks(bundle, insured, account),
      ...personLimitChecks(input, product, money),
      ...identity.checks,
      ...duplicateChecks(product, insured),
      ...request.checks
    )
    premiumFen = request.premiumFen
    choices = request.choices
  }
  checks.push(...moneyChecks(money, premiumFen))
  // What may be bought is what the rules allow, or nothing: a refusal that no other quantity would
  // lift (the payer's threshold, an age band, the enrolment window) leaves no units and no amounts,
  // and one about the account leaves nothing to spend.
  const failed = checks.filter((c) => !c.passed)
  const accountBlocked = failed.some((c) => isAccountRule(c.rule))
  const productBlocked = failed.some((c) => !QUANTITY_RULES.has(c.rule))
  return {
    eligible: failed.length === 0,
    checks,
    allowed: {
      maxSpendFen: accountBlocked ? 0 : money.maxSpendFen,
      ...(accountBlocked
        ? {}
        : { maxSpendSetBy: money.cap && money.cap.remainingFen < money.usableFen ? 'yearlyCap' : 'balance' }),
      ...(productBlocked ? nothingOf(choices) : choices),
      premiumFen
    }
  }
}

/** Checks about the account itself (a balance in no band included): when one fails, nothing may be spent. */
export const isAccountRule = (rule: string): boolean =>
  /^(bundle|payer|balance)\./.test(rule) || rule === 'spending.band'

/** Checks another quantity could pass: the allowed range still says how much would be. */
const QUANTITY_RULES: ReadonlySet<string> = new Set([
  'request.units',
  'request.amount',
  'spending.available',
  'spending.cap'
])

function nothingOf(choices: Request['choices']): Request['choices'] {
  return {
    ...choices,
    ...(choices.units ? { units: { min: choices.units.min, max: 0 } } : {}),
    ...(choices.amountsFen ? { amountsFen: [] } : {})
  }
}

/**
 * What the counter shows right after a swipe: each product, for the cardholder themselves, with
 * whether it can be bought and how much. Priced at the smallest quantity the rules allow.
 */
export function listProductsForSelf(input: SelfOffersInput): ProductOffer[] {
  const { bundle, account } = input
  return bundle.products.map((product, index) => {
    const base = {
      bundle,
      account,
      spending: input.spending,
      insuredByPayer: input.insuredByPayer,
      at: input.at,
      productCode: product.code,
      insured: {
        relation: 'self' as const,
        idNumber: account.idNumber,
        boundToAccount: true,
        enrolledLocally: true,
        alreadyCoveredByProduct: input.coveredProductCodes.includes(product.code)
      }
    }
    let decision: Decision
    if (product.pricing.kind === 'perUnit') {
      decision = decide({ ...base, units: product.pricing.units.min })
    } else {
      // Ask for the smallest amount that is allowed now, or else the smallest the product has.
      const probe = decide(base).allowed.amountsFen ?? []
      decision = decide({ ...base, amountFen: probe[0] ?? Math.min(...product.pricing.amountsFen) })
    }
    const path = `products[${index}]`
    const illustrative = bundle.illustrative.some((e) => e.path === path || e.path.startsWith(`${path}.`))
    return {
      code: product.code,
      name: product.name,
      insurer: product.insurer,
      illustrative,
      available: decision.eligible,
      allowed: decision.allowed,
      reasons: decision.checks.filter((c) => !c.passed)
    }
  })
}
