import { onBeforeUnmount, onMounted, shallowRef } from 'vue'
import { startAction } from './unexpected'

/**
 * The keyboard's one map: each screen (and the frame around it) declares its keys here, one
 * listener runs them, and F1 lists exactly what the current screen offers. A key a screen does
 * not declare does nothing there.
 */
export interface Shortcut {
  /** `KeyboardEvent.key` ('F2', 'Escape'), with `ctrl` for Ctrl+key. */
  readonly key: string
  readonly ctrl?: boolean
  /** An i18n key: what the key does, as F1 lists it. */
  readonly label: string
  readonly run: () => unknown
  /** Offered only while this holds (F8 prints only once there is a receipt). */
  readonly when?: () => boolean
}

interface Layer {
  readonly id: symbol
  /** Screen keys come before the frame's: a screen may take a key the frame also uses. */
  readonly scope: 'screen' | 'frame'
  readonly shortcuts: readonly Shortcut[]
}

const layers = shallowRef<readonly Layer[]>([])

/**
 * Declares keys while the calling component is mounted. The one listener is on the window while
 * any component has keys declared.
 */
export function useShortcuts(scope: Layer['scope'], shortcuts: readonly Shortcut[]): void {
  const id = Symbol(scope)
  onMounted(() => {
    if (layers.value.length === 0) {
      window.addEventListener('keydown', noteDialog, { capture: true })
      window.addEventListener('keydown', onKey)
    }
    layers.value = [...layers.value, { id, scope, shortcuts }]
  })
  onBeforeUnmount(() => {
    layers.value = layers.value.filter((layer) => layer.id !== id)
    if (layers.value.length === 0) {
      window.removeEventListener('keydown', noteDialog, { capture: true })
      window.removeEventListener('keydown', onKey)
    }
  })
}

/** Every key offered now, screen keys first, each key once (the one that would run). */
export function currentShortcuts(): Shortcut[] {
  const ordered = [
    ...layers.value.filter((layer) => layer.scope === 'screen').reverse(),
    ...layers.value.filter((layer) => layer.scope === 'frame').reverse()
  ].flatMap((layer) => layer.shortcuts)
  const seen = new Set<string>()
  return ordered.filter((shortcut) => {
    const id = `${shortcut.ctrl ? 'Ctrl+' : ''}${shortcut.key}`
    if (seen.has(id) || (shortcut.when && !shortcut.when())) return false
    seen.add(id)
    return true
  })
}

/** How a key is written for people: F2, Esc, Ctrl+,. */
export function keyName(shortcut: Pick<Shortcut, 'key' | 'ctrl'>): string {
  const key = shortcut.key === 'Escape' ? 'Esc' : shortcut.key
  return shortcut.ctrl ? `Ctrl+${key}` : key
}

/**
 * An open dialog or message box has the keyboard; closed ones stay in the page, hidden, and one
 * fading out (its leave transition running) is closed already: the next key is the screen's.
 */
function dialogOpen(doc: Document): boolean {
  return Array.from(doc.querySelectorAll<HTMLElement>('.el-overlay')).some(
    (overlay) =>
      overlay.style.display !== 'none' &&
      ![...overlay.classList].some((name) => name.endsWith('-leave-active'))
  )
}

/**
 * Keys pressed while a dialog was open, noted before anything handles them: the Esc that closes a
 * dialog (which starts fading out before the key reaches the screen) is the dialog's, not the screen's.
 */
const pressedInDialog = new WeakSet<KeyboardEvent>()
function noteDialog(event: KeyboardEvent): void {
  if (dialogOpen(document)) pressedInDialog.add(event)
}

function onKey(event: KeyboardEvent): void {
  if (event.altKey || event.metaKey || event.repeat) return
  if (pressedInDialog.has(event) || dialogOpen(document)) return
  const shortcut = currentShortcuts().find(
    (candidate) => candidate.key === event.key && Boolean(candidate.ctrl) === event.ctrlKey
  )
  if (!shortcut) return
  event.preventDefault()
  startAction(shortcut.run)
}
