import {
  DEFAULT_READER_SETTINGS,
  readerSettingsSchema,
  type ReaderSettings
} from '../../core/reader/settings'
import type { SettingsRepository } from '../../db/repositories/settings'
import type { Logger } from './log'

export interface ReaderSettingsService {
  get(): Promise<ReaderSettings>
  save(settings: ReaderSettings): Promise<ReaderSettings>
}

/** The terminal's reader thresholds, kept in the database so they survive a reinstall of the app. */
export function createReaderSettingsService(deps: {
  settings: SettingsRepository
  log: Logger
}): ReaderSettingsService {
  return {
    async get() {
      const stored = await deps.settings.get('reader')
      if (stored === null) return DEFAULT_READER_SETTINGS
      const parsed = readerSettingsSchema.safeParse(JSON.parse(stored))
      if (parsed.success) return parsed.data
      // Written by another version with other fields: the defaults work, the technician can retune.
      deps.log.error('reader_settings_unreadable')
      return DEFAULT_READER_SETTINGS
    },
    async save(settings) {
      await deps.settings.set('reader', JSON.stringify(settings))
      return settings
    }
  }
}
