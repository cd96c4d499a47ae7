import type { Knex } from 'knex'

export interface StoredBundle {
  readonly regionCode: string
  readonly version: number
  readonly effectiveFrom: string
  readonly keyId: string
  /** The envelope exactly as received: payload text and signature. */
  readonly envelope: string
  readonly receivedAt: string
}

export interface RuleBundlesRepository {
  list(): Promise<StoredBundle[]>
  insert(bundle: StoredBundle): Promise<void>
}

export function createRuleBundlesRepository(db: Knex): RuleBundlesRepository {
  return {
    async list() {
      const rows = await db('rule_bundles').orderBy(['region_code', 'version']).select<
        Array<{
          region_code: string
          version: number
          effective_from: string
          key_id: string
          envelope: string
          received_at: string
        }>
      >('region_code', 'version', 'effective_from', 'key_id', 'envelope', 'received_at')
      return rows.map((row) => ({
        regionCode: row.region_code,
        version: row.version,
        effectiveFrom: row.effective_from,
        keyId: row.key_id,
        envelope: row.envelope,
        receivedAt: row.received_at
      }))
    },
    async insert(bundle) {
      await db('rule_bundles').insert({
        region_code: bundle.regionCode,
        version: bundle.version,
        effective_from: bundle.effectiveFrom,
        key_id: bundle.keyId,
        envelope: bundle.envelope,
        received_at: bundle.receivedAt
      })
    }
  }
}
