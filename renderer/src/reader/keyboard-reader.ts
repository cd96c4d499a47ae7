import { createReaderDetector, type ReaderOutcome, type ReaderTrace } from '@core/reader/detector'
import type { KeyStroke } from '@core/reader/keys'
import type { ReaderSettings } from '@core/reader/settings'

/**
 * Connects the reader detector to the page: one capture-phase keydown listener on the window, so
 * a burst is caught whatever has focus, before any field or component sees its keys.
 *
 * Why renderer key events and not Electron's `before-input-event`: the renderer sees the same
 * events in Electron and in browser mode (where the UI is tested end to end), knows which field has
 * focus, and can hold a key back or give it to the field; `before-input-event` exists only in the
 * main process of Electron and would have to send every key over IPC and back.
 */

export interface KeyboardReaderHandlers {
  onBurst(text: string): void
  onBadRead(reason: string): void
  onTrace(trace: ReaderTrace): void
}

type Editable = HTMLInputElement | HTMLTextAreaElement

interface FieldSnapshot {
  readonly field: Editable
  readonly value: string
  readonly selectionStart: number | null
  readonly selectionEnd: number | null
}

const TEXT_INPUT_TYPES = new Set(['text', 'search', 'tel', 'url', 'email', 'password', 'number', ''])

function focusedEditable(doc: Document): Editable | null {
  const element = doc.activeElement
  if (element instanceof HTMLTextAreaElement && !element.readOnly && !element.disabled) return element
  if (
    element instanceof HTMLInputElement &&
    TEXT_INPUT_TYPES.has(element.type) &&
    !element.readOnly &&
    !element.disabled
  )
    return element
  return null
}

function strokeOf(event: KeyboardEvent): KeyStroke {
  return {
    key: event.key,
    code: event.code,
    timeStamp: event.timeStamp,
    shiftKey: event.shiftKey,
    capsLock: event.getModifierState?.('CapsLock') ?? false,
    ctrlKey: event.ctrlKey,
    altKey: event.altKey,
    metaKey: event.metaKey,
    repeat: event.repeat
  }
}

/** Types released characters into the field as a person's keys would: through the editing pipeline. */
function insertText(field: Editable, text: string): void {
  if (
    field.ownerDocument.activeElement === field &&
    field.ownerDocument.execCommand('insertText', false, text)
  )
    return
  const start = field.selectionStart ?? field.value.length
  const end = field.selectionEnd ?? field.value.length
  field.setRangeText(text, start, end, 'end')
  field.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: text }))
}

function restore(snapshot: FieldSnapshot): void {
  const { field } = snapshot
  if (field.value === snapshot.value) return
  field.value = snapshot.value
  field.setSelectionRange(snapshot.selectionStart, snapshot.selectionEnd)
  field.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'deleteContent' }))
}

export interface KeyboardReader {
  configure(settings: ReaderSettings): void
  detach(): void
}

export function attachKeyboardReader(
  win: Window,
  settings: ReaderSettings,
  handlers: KeyboardReaderHandlers
): KeyboardReader {
  const detector = createReaderDetector(settings)
  const doc = win.document
  let snapshot: FieldSnapshot | null = null
  let timer: ReturnType<typeof setTimeout> | undefined

  /** An input method may commit its text after the Enter that ended the burst: restore again then. */
  function restoreSoon(saved: FieldSnapshot | null): void {
    if (!saved) return
    restore(saved)
    win.setTimeout(() => restore(saved), 0)
    saved.field.addEventListener('compositionend', () => win.setTimeout(() => restore(saved), 0), {
      once: true
    })
  }

  function apply(out: ReaderOutcome, event?: KeyboardEvent): void {
    const field = focusedEditable(doc)
    if (out.insert && field) insertText(field, out.insert)
    if (out.startedSequence) {
      snapshot = field
        ? {
            field,
            value: field.value,
            selectionStart: field.selectionStart,
            selectionEnd: field.selectionEnd
          }
        : null
    }
    if (out.preventDefault && event) {
      event.preventDefault()
      event.stopImmediatePropagation()
    }
    if (out.trace) {
      if (!secret) handlers.onTrace(out.trace)
      secret = false
    }
    if (out.burst) {
      if (out.burst.restoreField) restoreSoon(snapshot)
      handlers.onBurst(out.burst.text)
    }
    if (out.badRead) {
      if (out.badRead.restoreField) restoreSoon(snapshot)
      handlers.onBadRead(out.badRead.reason)
    }
  }

  function schedule(): void {
    clearTimeout(timer)
    const due = detector.deadline()
    if (due === null) return
    timer = setTimeout(
      () => {
        apply(detector.tick(Math.max(win.performance.now(), due)))
        schedule()
      },
      Math.max(0, due - win.performance.now())
    )
  }

  /** This sequence had keys typed into a password field: its trace is never shown to anyone. */
  let secret = false

  function onKeyDown(event: KeyboardEvent): void {
    // A field that takes fast keys of its own (the card password from a PIN pad): never a burst.
    if (doc.activeElement?.closest('[data-card-reader="off"]')) return
    if (doc.activeElement?.matches('input[type="password"]')) secret = true
    apply(detector.key(strokeOf(event), focusedEditable(doc) !== null), event)
    schedule()
  }

  win.addEventListener('keydown', onKeyDown, { capture: true })
  return {
    configure: (next) => detector.configure(next),
    detach() {
      clearTimeout(timer)
      win.removeEventListener('keydown', onKeyDown, { capture: true })
    }
  }
}
