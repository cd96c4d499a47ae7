import { z } from 'zod'

/**
 * Per-terminal thresholds that tell a keyboard-wedge reader from a person typing. The defaults
 * fit readers that send a key every 1–40 ms with the odd 60–120 ms stall; a technician can loosen
 * them on site for a slow scanner (some average 80 ms a key) with the reader test panel.
 */
export const readerSettingsSchema = z.strictObject({
  /** Largest gap between two keys of one burst, ms. */
  maxKeyGapMs: z.number().int().min(20).max(1000),
  /** Largest median gap of a burst, ms: a person's typical gap is above it, a reader's below. */
  maxTypicalGapMs: z.number().int().min(5).max(500),
  /** Longest whole burst, first key to suffix, ms. */
  maxBurstMs: z.number().int().min(100).max(10_000),
  /** Shortest burst, in characters (after any prefix). */
  minLength: z.number().int().min(2).max(64),
  /** Keys that end a burst. */
  suffixKeys: z.array(z.enum(['Enter', 'Tab'])).min(1),
  /** Characters some readers send first; stripped, and then required. Empty: none. */
  prefix: z.string().max(8)
})

export type ReaderSettings = z.infer<typeof readerSettingsSchema>

export const DEFAULT_READER_SETTINGS: ReaderSettings = {
  maxKeyGapMs: 150,
  maxTypicalGapMs: 40,
  maxBurstMs: 3000,
  minLength: 8,
  suffixKeys: ['Enter', 'Tab'],
  prefix: ''
}
