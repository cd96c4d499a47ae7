import type { Knex } from 'knex'
import { RULE_BUNDLE_FORMAT_V1, type RuleBundle } from '../core/rules/bundle'
import type { ProtocolVersion } from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { type TrustedKeys, verifyBundle } from '../backend/shared'
import { hubTrustedKeys } from './file-key'

/**
 * The rule bundles the centre issues: stored as signed envelopes, served as they are, and parsed
 * (signature and schema checked again) when a sale made under one is settled.
 */

interface BundleRow {
  region_code: string
  version: number
  envelope: string
  withdrawn_at: string | null
}

/** Adds a signed bundle (checked against the trusted keys first); the same one again changes nothing. */
export async function addRuleBundle(
  db: Knex | Knex.Transaction,
  envelopeText: string,
  clock: Clock,
  trustedKeys: TrustedKeys = hubTrustedKeys()
): Promise<{ regionCode: string; version: number }> {
  const verified = verifyBundle(envelopeText, trustedKeys)
  if (!verified.ok) throw new Error(`规则包无法加入中心：${verified.message}`)
  const { bundle, keyId } = verified.value
  await db('rule_bundles')
    .insert({
      region_code: bundle.region.code,
      version: bundle.version,
      effective_from: bundle.effectiveFrom,
      key_id: keyId,
      format_version: bundle.format === RULE_BUNDLE_FORMAT_V1 ? 1 : 2,
      envelope: envelopeText,
      received_at: clock.now().toISOString()
    })
    .onConflict(['region_code', 'version'])
    .ignore()
  return { regionCode: bundle.region.code, version: bundle.version }
}

/** A version withdrawn is served no more, and sales made under it are refused (RULES_WITHDRAWN). */
export async function withdrawRules(
  db: Knex,
  regionCode: string,
  version: number,
  reason: string,
  clock: Clock
): Promise<boolean> {
  const changed = await db('rule_bundles')
    .where({ region_code: regionCode, version })
    .whereNull('withdrawn_at')
    .update({ withdrawn_at: clock.now().toISOString(), withdrawn_reason: reason })
  return changed > 0
}

/**
 * The newest version not withdrawn that the terminal can read: what it is given. A terminal of
 * protocol 1 reads bundle format 1 only; absent, any format (the centre's own use).
 */
export async function currentBundle(
  q: Knex | Knex.Transaction,
  regionCode: string,
  protocol?: ProtocolVersion
): Promise<{ version: number; envelope: string } | null> {
  const row = await q('rule_bundles')
    .where({ region_code: regionCode })
    .modify((query) => {
      if (protocol === 1) query.where('format_version', 1)
    })
    .whereNull('withdrawn_at')
    .orderBy('version', 'desc')
    .first<Pick<BundleRow, 'version' | 'envelope'> | undefined>('version', 'envelope')
  return row ?? null
}

export type BundleLookup =
  { readonly status: 'ok'; readonly bundle: RuleBundle } | { readonly status: 'withdrawn' | 'unknown' }

/**
 * Parsed bundles by region and version; the withdrawn mark is read fresh every time, the envelope
 * (tens of kilobytes) only the first time.
 */
export function createBundleCache(trustedKeys: TrustedKeys = hubTrustedKeys()) {
  const parsed = new Map<string, RuleBundle>()

  async function lookup(
    q: Knex | Knex.Transaction,
    regionCode: string,
    version: number
  ): Promise<BundleLookup> {
    const key = `${regionCode}/${version}`
    let bundle = parsed.get(key)
    const row = await q('rule_bundles')
      .where({ region_code: regionCode, version })
      .first<(Pick<BundleRow, 'withdrawn_at'> & Partial<Pick<BundleRow, 'envelope'>>) | undefined>(
        bundle ? ['withdrawn_at'] : ['withdrawn_at', 'envelope']
      )
    if (!row) return { status: 'unknown' }
    if (row.withdrawn_at) return { status: 'withdrawn' }
    if (!bundle) {
      const verified = verifyBundle(row.envelope ?? '', trustedKeys)
      // A stored envelope that no longer verifies is treated as absent, never used.
      if (!verified.ok) return { status: 'unknown' }
      bundle = verified.value.bundle
      parsed.set(key, bundle)
    }
    return { status: 'ok', bundle }
  }

  /** The settlement year's first day (MM-DD) of the region's current rules; the calendar year without any. */
  async function yearStart(q: Knex | Knex.Transaction, regionCode: string): Promise<string> {
    const current = await currentBundle(q, regionCode)
    if (!current) return '01-01'
    const found = await lookup(q, regionCode, current.version)
    return found.status === 'ok' ? found.bundle.settlementYear.startMonthDay : '01-01'
  }

  return { lookup, yearStart }
}

export type BundleCache = ReturnType<typeof createBundleCache>
