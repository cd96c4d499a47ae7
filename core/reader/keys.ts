/**
 * Turns a key event into the character a reader meant. With a Chinese input method on (Microsoft
 * Pinyin, Sogou) keys arrive as key "Process" / keyCode 229, so the physical key (`code`) is what
 * can be trusted: Digit*, Numpad*, Key*, and the few symbols of magnetic track data.
 */

/** The parts of a KeyboardEvent the reader looks at (a DOM event fits; so does a test fixture). */
export interface KeyStroke {
  readonly key: string
  readonly code: string
  /** The event's own time stamp (ms), not the time it was handled. */
  readonly timeStamp: number
  readonly shiftKey: boolean
  readonly capsLock: boolean
  readonly ctrlKey: boolean
  readonly altKey: boolean
  readonly metaKey: boolean
  readonly repeat: boolean
}

/** US layout, which Chinese keyboards use: code -> [plain, shifted]. */
const SYMBOLS: Readonly<Record<string, readonly [string, string]>> = {
  Semicolon: [';', ':'],
  Equal: ['=', '+'],
  Slash: ['/', '?'],
  Minus: ['-', '_'],
  Period: ['.', '>'],
  Comma: [',', '<'],
  Quote: ["'", '"'],
  BracketLeft: ['[', '{'],
  BracketRight: [']', '}'],
  Backslash: ['\\', '|'],
  Backquote: ['`', '~'],
  NumpadDecimal: ['.', '.'],
  NumpadAdd: ['+', '+'],
  NumpadSubtract: ['-', '-'],
  NumpadMultiply: ['*', '*'],
  NumpadDivide: ['/', '/']
}

const SHIFTED_DIGITS = ')!@#$%^&*('

export function isImeKey(stroke: KeyStroke): boolean {
  return stroke.key === 'Process' || stroke.key === 'Unidentified'
}

/** The character of a printable key, from the physical key; null for anything else. */
export function decodeKey(stroke: KeyStroke): string | null {
  if (stroke.ctrlKey || stroke.altKey || stroke.metaKey) return null
  const { code } = stroke
  const digit = /^(?:Digit|Numpad)(\d)$/.exec(code)
  if (digit) return code.startsWith('Digit') && stroke.shiftKey ? SHIFTED_DIGITS[Number(digit[1])] : digit[1]
  const letter = /^Key([A-Z])$/.exec(code)
  if (letter) return stroke.shiftKey !== stroke.capsLock ? letter[1] : letter[1].toLowerCase()
  const symbol = SYMBOLS[code]
  if (symbol) return stroke.shiftKey ? symbol[1] : symbol[0]
  return null
}

export type SuffixKey = 'Enter' | 'Tab'

/** Enter (main or numpad) or Tab, told by the physical key so it works under an IME too. */
export function suffixOf(stroke: KeyStroke): SuffixKey | null {
  if (stroke.ctrlKey || stroke.altKey || stroke.metaKey) return null
  if (stroke.code === 'Enter' || stroke.code === 'NumpadEnter' || stroke.key === 'Enter') return 'Enter'
  if (stroke.code === 'Tab' || stroke.key === 'Tab') return stroke.shiftKey ? null : 'Tab'
  return null
}

/** Keys that change nothing by themselves: a reader presses Shift for capitals. */
export function isModifierOnly(stroke: KeyStroke): boolean {
  return (
    ['Shift', 'CapsLock', 'Control', 'Alt', 'Meta', 'AltGraph'].includes(stroke.key) ||
    /^(Shift|Control|Alt|Meta)(Left|Right)$/.test(stroke.code)
  )
}
