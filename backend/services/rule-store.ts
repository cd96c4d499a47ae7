import { AppError } from '../../core/errors'
import type { RuleBundle } from '../../core/rules/bundle'
import type { PayerAccount } from '../../core/rules/engine'
import { selectActiveBundle, type BundleRefusal, type HeldBundle } from '../../core/rules/registry'
import { inSettlementYear, settlementYearOf } from '../../core/rules/settlement-year'
import type { Clock } from '../../core/time'
import type { AccountRecord } from '../../db/repositories/accounts'
import type { RuleBundlesRepository } from '../../db/repositories/rule-bundles'
import type { Logger } from './log'
import type { TrustedKeys } from './rules/keys'
import { receiveBundle, verifyBundle } from './rules/load'

/** The rule bundles this terminal holds, verified; shared by eligibility and the sale. */
export interface ActiveRules {
  /** The bundle in force for the region at `at`, or why there is none. */
  select(regionCode: string, at: string): Promise<{ ok: true; value: HeldBundle } | BundleRefusal>
  /** The same, refused with RULES_UNAVAILABLE when there is none. */
  activeFor(regionCode: string, at: string): Promise<HeldBundle>
  payerOf(account: AccountRecord, bundle: RuleBundle, at: string): PayerAccount
  /** When this terminal received the bundle. */
  receivedAt(bundle: RuleBundle): Promise<string>
  /**
   * What the offline rules-age limit counts from: when the bundle was received, or when the centre
   * last confirmed it is still the current one, whichever is later.
   */
  confirmedAt(bundle: RuleBundle): Promise<string>
  import(envelopeText: string): Promise<{ bundle: RuleBundle; status: 'new' | 'unchanged' }>
  /** Whether `import` would take it (signature, schema, region, version), changing nothing; RULES_REFUSED if not. */
  check(envelopeText: string): Promise<void>
}

/** The account as the rules see it. Fitness-card transfers count only if the snapshot is from this settlement year. */
export function payerOf(account: AccountRecord, bundle: RuleBundle, at: string): PayerAccount {
  const year = settlementYearOf(at, bundle.settlementYear.startMonthDay)
  return {
    regionCode: account.regionCode,
    idNumber: account.idNumber,
    insuranceType: account.insuranceType,
    status: account.status,
    balanceFen: account.balanceFen,
    historicalBalanceFen: account.historicalBalanceFen,
    fitnessCardTransfersFen: inSettlementYear(account.balanceAsOf, year) ? account.fitnessCardTransfersFen : 0
  }
}

/**
 * Bundles are kept in the database as received and verified (signature, schema) when loaded, so
 * an edited row is refused, not used; a refused import leaves what is held as it was.
 */
export function createRuleStore(deps: {
  bundles: RuleBundlesRepository
  trustedKeys: TrustedKeys
  clock: Clock
  log: Logger
  /** When sync last heard from the centre that a region's rules are current (none before sync). */
  checkedAt?: (regionCode: string) => Promise<string | null>
  /** The regions this terminal serves: a bundle for another is refused (WRONG_REGION). Absent: any. */
  servedRegions?: () => Promise<readonly string[]>
}): ActiveRules {
  let held: HeldBundle[] | null = null
  const receivedAtByKey = new Map<string, string>()
  const keyOf = (code: string, version: number) => `${code}/${version}`

  async function heldBundles(): Promise<HeldBundle[]> {
    if (held) return held
    const verified: HeldBundle[] = []
    for (const stored of await deps.bundles.list()) {
      const result = verifyBundle(stored.envelope, deps.trustedKeys)
      receivedAtByKey.set(keyOf(stored.regionCode, stored.version), stored.receivedAt)
      if (result.ok) verified.push(result.value)
      else
        deps.log.error('rule_bundle_refused_at_load', {
          region: stored.regionCode,
          version: stored.version,
          code: result.code
        })
    }
    held = verified
    return verified
  }

  async function receivedAt(bundle: RuleBundle): Promise<string> {
    await heldBundles()
    return receivedAtByKey.get(keyOf(bundle.region.code, bundle.version)) ?? bundle.effectiveFrom
  }

  async function receive(envelopeText: string) {
    const received = receiveBundle(envelopeText, {
      trustedKeys: deps.trustedKeys,
      held: await heldBundles(),
      regionCodes: (await deps.servedRegions?.()) ?? undefined
    })
    if (!received.ok) throw new AppError('RULES_REFUSED', received.message)
    return received
  }

  async function select(regionCode: string, at: string) {
    return selectActiveBundle(await heldBundles(), regionCode, at)
  }

  return {
    select,
    async activeFor(regionCode, at) {
      const active = await select(regionCode, at)
      if (!active.ok) throw new AppError('RULES_UNAVAILABLE', active.message)
      return active.value
    },
    payerOf,
    receivedAt,
    async confirmedAt(bundle) {
      const received = await receivedAt(bundle)
      const checked = (await deps.checkedAt?.(bundle.region.code)) ?? null
      // A check confirms only the newest bundle held for the region, never one it has replaced.
      const active = await select(bundle.region.code, deps.clock.now().toISOString())
      const current = active.ok && active.value.bundle.version === bundle.version
      return checked !== null && current && checked > received ? checked : received
    },
    async check(envelopeText) {
      await receive(envelopeText)
    },
    async import(envelopeText) {
      const received = await receive(envelopeText)
      const { bundle } = received.value
      if (received.status === 'new') {
        await deps.bundles.insert({
          regionCode: bundle.region.code,
          version: bundle.version,
          effectiveFrom: bundle.effectiveFrom,
          keyId: received.value.keyId,
          envelope: envelopeText,
          receivedAt: deps.clock.now().toISOString()
        })
        held = [...(await heldBundles()), received.value]
        receivedAtByKey.set(keyOf(bundle.region.code, bundle.version), deps.clock.now().toISOString())
      }
      return { bundle, status: received.status }
    }
  }
}
