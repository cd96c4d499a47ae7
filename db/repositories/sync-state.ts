import type { Knex } from 'knex'

/**
 * What the terminal remembers about its link to the centre, kept in the settings table under
 * `sync.` keys: registration, the token, and the times and outcome of the last exchanges.
 */
export interface SyncState {
  readonly centreUrl: string | null
  readonly regionCodes: readonly string[]
  /** Sealed with the personal-data key (base64): whoever copies the database file cannot renew tokens with it. */
  readonly refreshSecretSealed: string | null
  /** The terminal's Ed25519 private key (PKCS#8 PEM), sealed (base64): it signs exported queue files. */
  readonly signingKeySealed: string | null
  /** The terminal's X25519 private key (PKCS#8 PEM), sealed (base64): sync packages are encrypted to it. */
  readonly fileKeySealed: string | null
  /** The id of the file key the centre has (TFK-…): until it matches, each sync sends the key. */
  readonly fileKeySent: string | null
  readonly territory: string | null
  /** The centre's file-encryption key as the centre signed it (checked before it is kept): queue files are encrypted to it. */
  readonly centreFileKey: string | null
  readonly lastContactAt: string | null
  readonly lastSyncAt: string | null
  readonly lastError: string | null
  /** Per region: when the centre last confirmed the rules this terminal holds are current. */
  readonly rulesCheckedAt: Readonly<Record<string, string>>
  /** The last exchange by file (a queue exported, a package imported), for the status bar. */
  readonly lastFileExchange: { readonly at: string; readonly kind: 'export' | 'import' } | null
  /** The protocol version the centre named in its last answer; null before it answered. */
  readonly centreProtocol: 1 | 2 | null
  /** Where the next policies call starts (the centre's cursor); 0 before any. */
  readonly policiesCursor: number
}

const KEYS = {
  centreUrl: 'sync.centre_url',
  regionCodes: 'sync.region_codes',
  refreshSecretSealed: 'sync.refresh_secret',
  signingKeySealed: 'sync.signing_key',
  fileKeySealed: 'sync.file_key',
  fileKeySent: 'sync.file_key_sent',
  territory: 'sync.territory',
  centreFileKey: 'sync.centre_file_key',
  lastContactAt: 'sync.last_contact_at',
  lastSyncAt: 'sync.last_sync_at',
  lastError: 'sync.last_error',
  rulesCheckedAt: 'sync.rules_checked_at',
  lastFileExchange: 'sync.last_file_exchange',
  centreProtocol: 'sync.centre_protocol',
  policiesCursor: 'sync.policies_cursor'
} as const

export type SyncStateChange = Partial<{ -readonly [K in keyof SyncState]: SyncState[K] }>

export interface SyncStateRepository {
  read(): Promise<SyncState>
  /** Several fields at once, in one transaction. `null` clears a field. */
  write(change: SyncStateChange): Promise<void>
}

export function createSyncStateRepository(db: Knex): SyncStateRepository {
  return {
    async read() {
      const rows = await db('settings')
        .where('key', 'like', 'sync.%')
        .select<Array<{ key: string; value: string }>>('key', 'value')
      const value = (key: string) => rows.find((row) => row.key === key)?.value ?? null
      const json = <T>(key: string, fallback: T): T => {
        const text = value(key)
        return text === null ? fallback : (JSON.parse(text) as T)
      }
      return {
        centreUrl: value(KEYS.centreUrl),
        regionCodes: json<string[]>(KEYS.regionCodes, []),
        refreshSecretSealed: value(KEYS.refreshSecretSealed),
        signingKeySealed: value(KEYS.signingKeySealed),
        fileKeySealed: value(KEYS.fileKeySealed),
        fileKeySent: value(KEYS.fileKeySent),
        territory: value(KEYS.territory),
        centreFileKey: value(KEYS.centreFileKey),
        lastContactAt: value(KEYS.lastContactAt),
        lastSyncAt: value(KEYS.lastSyncAt),
        lastError: value(KEYS.lastError),
        rulesCheckedAt: json<Record<string, string>>(KEYS.rulesCheckedAt, {}),
        lastFileExchange: json<SyncState['lastFileExchange']>(KEYS.lastFileExchange, null),
        centreProtocol: json<SyncState['centreProtocol']>(KEYS.centreProtocol, null),
        policiesCursor: json<number>(KEYS.policiesCursor, 0)
      }
    },
    async write(change) {
      await db.transaction(async (trx) => {
        for (const [field, next] of Object.entries(change) as Array<
          [keyof SyncState, SyncState[keyof SyncState] | undefined]
        >) {
          if (next === undefined) continue
          const key = KEYS[field]
          if (next === null) {
            await trx('settings').where({ key }).delete()
            continue
          }
          const text = typeof next === 'string' ? next : JSON.stringify(next)
          await trx('settings').insert({ key, value: text }).onConflict('key').merge()
        }
      })
    }
  }
}
