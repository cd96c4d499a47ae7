import type { ReaderTrace } from '@core/reader/detector'
import { DEFAULT_READER_SETTINGS, type ReaderSettings } from '@core/reader/settings'
import { onBeforeUnmount, onMounted } from 'vue'
import { startAction } from '../unexpected'
import { attachKeyboardReader, type KeyboardReader } from './keyboard-reader'

/**
 * The app's one card reader. Screens that want a card register a consumer while they are shown;
 * the newest one gets the bursts. With no consumer a burst is dropped with a notice, never typed.
 */

export interface CardConsumer {
  /** May start work (a lookup, a payment): a failure nobody handled is shown and heard, not lost. */
  onCard(text: string): void | Promise<void>
  onBadRead(reason: string): void
}

export interface CardReaderNotices {
  /** A burst arrived on a screen that wants no card. */
  unwanted(): void
  badRead(reason: string): void
  trace(trace: ReaderTrace): void
}

const consumers: CardConsumer[] = []
let reader: KeyboardReader | null = null

export function startCardReader(
  win: Window,
  notices: CardReaderNotices,
  settings: ReaderSettings = DEFAULT_READER_SETTINGS
): void {
  reader?.detach()
  reader = attachKeyboardReader(win, settings, {
    onBurst(text) {
      const consumer = consumers.at(-1)
      if (consumer) startAction(() => consumer.onCard(text))
      else notices.unwanted()
    },
    onBadRead(reason) {
      const consumer = consumers.at(-1)
      if (consumer) startAction(() => consumer.onBadRead(reason))
      else notices.badRead(reason)
    },
    onTrace: notices.trace
  })
}

export function configureCardReader(settings: ReaderSettings): void {
  reader?.configure(settings)
}

export function stopCardReader(): void {
  reader?.detach()
  reader = null
}

/** Registers `consumer` while the calling component is mounted. */
export function useCardReader(consumer: CardConsumer): void {
  onMounted(() => consumers.push(consumer))
  onBeforeUnmount(() => {
    const index = consumers.lastIndexOf(consumer)
    if (index >= 0) consumers.splice(index, 1)
  })
}

/** For a component that switches card reading on and off (the reader test panel). */
export function registerCardConsumer(consumer: CardConsumer): () => void {
  consumers.push(consumer)
  return () => {
    const index = consumers.lastIndexOf(consumer)
    if (index >= 0) consumers.splice(index, 1)
  }
}
