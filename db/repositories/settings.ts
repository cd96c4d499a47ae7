import type { Knex } from 'knex'

/** Terminal-wide settings as key/value text. Keys are listed here so a typo cannot create a new one. */
export type SettingKey = 'data_source' | 'reader' | 'printer' | 'terminal_id'

export interface SettingsRepository {
  get(key: SettingKey): Promise<string | null>
  set(key: SettingKey, value: string): Promise<void>
}

export function createSettingsRepository(db: Knex): SettingsRepository {
  return {
    async get(key) {
      const row = await db('settings').where({ key }).first<{ value: string } | undefined>('value')
      return row?.value ?? null
    },
    async set(key, value) {
      await db('settings').insert({ key, value }).onConflict('key').merge()
    }
  }
}
