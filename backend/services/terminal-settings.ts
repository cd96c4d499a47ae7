import type { z } from 'zod'
import { DEFAULT_PRINTER_SETTINGS, printerSettingsSchema, type PrinterSettings } from '../../core/printing'
import {
  DEFAULT_READER_SETTINGS,
  readerSettingsSchema,
  type ReaderSettings
} from '../../core/reader/settings'
import type { SettingKey, SettingsRepository } from '../../db/repositories/settings'
import type { Logger } from './log'

/** One group of this terminal's own settings, kept in the database so they survive a reinstall of the app. */
export interface StoredSettings<T> {
  get(): Promise<T>
  save(settings: T): Promise<T>
}

function storedSettings<T>(
  deps: { settings: SettingsRepository; log: Logger },
  key: SettingKey,
  schema: z.ZodType<T>,
  defaults: T
): StoredSettings<T> {
  return {
    async get() {
      const stored = await deps.settings.get(key)
      if (stored === null) return defaults
      const parsed = schema.safeParse(JSON.parse(stored))
      if (parsed.success) return parsed.data
      // Written by another version with other fields: the defaults work, the technician can set them again.
      deps.log.error('terminal_settings_unreadable', { key })
      return defaults
    },
    async save(settings) {
      await deps.settings.set(key, JSON.stringify(settings))
      return settings
    }
  }
}

export type ReaderSettingsService = StoredSettings<ReaderSettings>
export type PrinterSettingsService = StoredSettings<PrinterSettings>

/** The reader's thresholds (docs/card-readers.md). */
export function createReaderSettingsService(deps: {
  settings: SettingsRepository
  log: Logger
}): ReaderSettingsService {
  return storedSettings(deps, 'reader', readerSettingsSchema, DEFAULT_READER_SETTINGS)
}

/** The printers receipts and A4 go to, and what prints by itself (docs/printing.md). */
export function createPrinterSettingsService(deps: {
  settings: SettingsRepository
  log: Logger
}): PrinterSettingsService {
  return storedSettings(deps, 'printer', printerSettingsSchema, DEFAULT_PRINTER_SETTINGS)
}
