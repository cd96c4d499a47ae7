import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { parseRuleBundleText, type RuleBundle } from '../../core/rules/bundle'
import {
  decide,
  type Decision,
  type DecisionInput,
  type InsuredPerson,
  type PayerAccount,
  type RuleCheck
} from '../../core/rules/engine'
import { demoIdNumber } from '../../db/seeds/demo-population'

export { demoIdNumber }

/** 2026-11-22 10:30 in Shanghai. */
export const NOW = '2026-11-22T02:30:00.000Z'

export const BUNDLES_DIR = fileURLToPath(new URL('../../bundles/', import.meta.url))

/** The demo source of a region: the current version, or (`version` 1) the format-1 one in sources/v1/. */
export function sourceFileOf(regionCode: string, version: 1 | 'current' = 'current'): string {
  const dir = version === 1 ? join(BUNDLES_DIR, 'sources', 'v1') : join(BUNDLES_DIR, 'sources')
  const file = readdirSync(dir).find((f) => f.startsWith(`${regionCode}-`) && f.endsWith('.json'))
  if (!file) throw new Error(`no demo source for ${regionCode}`)
  return join(dir, file)
}

/** The demo bundle of a region, from its source file (the exact text that is signed). */
export function demoBundle(regionCode: string): RuleBundle {
  const parsed = parseRuleBundleText(readFileSync(sourceFileOf(regionCode), 'utf8'))
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.bundle
}

export function account(
  bundle: RuleBundle,
  idNumber: string,
  overrides: Partial<PayerAccount> = {}
): PayerAccount {
  return {
    regionCode: bundle.region.code,
    idNumber,
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 1_000_000,
    historicalBalanceFen: 800_000,
    ...overrides
  }
}

export function self(payer: PayerAccount, overrides: Partial<InsuredPerson> = {}): InsuredPerson {
  return {
    relation: 'self',
    idNumber: payer.idNumber,
    boundToAccount: true,
    enrolledLocally: true,
    alreadyCoveredByProduct: false,
    ...overrides
  }
}

export function relative(
  relation: InsuredPerson['relation'],
  idNumber: string,
  overrides: Partial<InsuredPerson> = {}
): InsuredPerson {
  return {
    relation,
    idNumber,
    boundToAccount: true,
    enrolledLocally: true,
    alreadyCoveredByProduct: false,
    ...overrides
  }
}

type Request = Omit<DecisionInput, 'spending' | 'insuredByPayer' | 'insured' | 'at'> &
  Partial<Pick<DecisionInput, 'spending' | 'insuredByPayer' | 'insured' | 'at'>>

/** decide() with empty history, the payer as the insured and NOW, unless given. */
export function run(request: Request): Decision {
  const decision = decide({
    ...request,
    spending: request.spending ?? [],
    insuredByPayer: request.insuredByPayer ?? [],
    insured: request.insured ?? self(request.account),
    at: request.at ?? NOW
  })
  // Invariants of every decision: unique rule ids, and eligible exactly when every check passed.
  expect(new Set(decision.checks.map((c) => c.rule)).size).toBe(decision.checks.length)
  expect(decision.eligible).toBe(decision.checks.every((c) => c.passed))
  return decision
}

/** The check with this rule id; fails the test when the rule was not checked. */
export function checkOf(decision: Decision, rule: string): RuleCheck {
  const found = decision.checks.find((c) => c.rule === rule)
  if (!found)
    throw new Error(`rule ${rule} was not checked; checked: ${decision.checks.map((c) => c.rule).join(', ')}`)
  return found
}

export function failedRules(decision: Decision): string[] {
  return decision.checks.filter((c) => !c.passed).map((c) => c.rule)
}
