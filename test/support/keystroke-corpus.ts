import type { KeyStroke } from '../../core/reader/keys'
import { residentIdCheckChar } from '../../core/identifiers'

/**
 * Keystroke timelines for the reader detector's tests and `npm run bench:reader`, from a seeded
 * generator so every run sees the same corpus. Reader bursts: 1–40 ms a key with occasional
 * 60–120 ms stalls, Enter or Tab at the end, with and without a Chinese input method (keys arrive
 * as "Process"), for each kind of identifier. People: slow and fast typists (about 60 ms a key),
 * with corrections, Enter at the end.
 */

export type TimelineKind = 'reader' | 'human'

export interface Timeline {
  readonly kind: TimelineKind
  readonly label: string
  readonly ime: boolean
  readonly strokes: readonly KeyStroke[]
  /** Reader: the text the burst must decode to. Human: what the field must hold at the end (before Enter). */
  readonly expected: string
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Random = () => number
const between = (random: Random, low: number, high: number) => low + random() * (high - low)
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]
const digits = (random: Random, count: number) =>
  Array.from({ length: count }, () => String(Math.floor(random() * 10))).join('')

function residentId(random: Random): string {
  const area = pick(random, ['530102', '540102', '330802', '320505', '210102', '310101'])
  const year = 1940 + Math.floor(random() * 80)
  const month = String(1 + Math.floor(random() * 12)).padStart(2, '0')
  const day = String(1 + Math.floor(random() * 28)).padStart(2, '0')
  const first17 = `${area}${year}${month}${day}${digits(random, 3)}`
  return first17 + residentIdCheckChar(first17)
}

function firstGenerationId(random: Random): string {
  return `${pick(random, ['530102', '330802', '210102'])}${String(40 + Math.floor(random() * 59))}${String(1 + Math.floor(random() * 12)).padStart(2, '0')}${String(1 + Math.floor(random() * 28)).padStart(2, '0')}${digits(random, 3)}`
}

const cardNumber = (random: Random) =>
  `${pick(random, ['A', 'B', 'C', 'D', 'E', 'F', 'J', 'K', 'M'])}${digits(random, 8)}`
const E_VOUCHER_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789'
const eVoucher = (random: Random) =>
  `EC${Array.from({ length: 22 + Math.floor(random() * 18) }, () => pick(random, [...E_VOUCHER_ALPHABET])).join('')}`

export const IDENTIFIER_KINDS = {
  'card number': cardNumber,
  'resident ID (18)': residentId,
  'resident ID (15)': firstGenerationId,
  'track-2, card': (random: Random) => `;${cardNumber(random)}=${digits(random, 4)}?`,
  'track-2, ID': (random: Random) => `;${residentId(random)}=${digits(random, 6)}?`,
  'e-voucher QR': eVoucher
} as const

/** The physical key and Shift for a character on a US layout (what Chinese keyboards use). */
const SHIFTED = ')!@#$%^&*('
const SYMBOL_CODES: Record<string, [string, boolean]> = {
  ';': ['Semicolon', false],
  ':': ['Semicolon', true],
  '=': ['Equal', false],
  '+': ['Equal', true],
  '/': ['Slash', false],
  '?': ['Slash', true],
  '-': ['Minus', false],
  _: ['Minus', true],
  '.': ['Period', false]
}

function keyFor(char: string, numpad: boolean): { code: string; shift: boolean } {
  if (/\d/.test(char)) return { code: numpad ? `Numpad${char}` : `Digit${char}`, shift: false }
  if (/[A-Z]/.test(char)) return { code: `Key${char}`, shift: true }
  if (/[a-z]/.test(char)) return { code: `Key${char.toUpperCase()}`, shift: false }
  const shiftedDigit = SHIFTED.indexOf(char)
  if (shiftedDigit >= 0) return { code: `Digit${shiftedDigit}`, shift: true }
  const symbol = SYMBOL_CODES[char]
  if (symbol) return { code: symbol[0], shift: symbol[1] }
  throw new Error(`no key for ${char}`)
}

function stroke(key: string, code: string, timeStamp: number, shiftKey = false): KeyStroke {
  return {
    key,
    code,
    timeStamp,
    shiftKey,
    capsLock: false,
    ctrlKey: false,
    altKey: false,
    metaKey: false,
    repeat: false
  }
}

/** Key-down events for typing `text`, one gap before each key; Shift goes down before capitals. */
function strokesFor(
  text: string,
  startAt: number,
  gapBefore: () => number,
  ime: boolean,
  numpad: boolean
): { strokes: KeyStroke[]; endAt: number } {
  const strokes: KeyStroke[] = []
  let at = startAt
  let shiftDown = false
  for (const [index, char] of [...text].entries()) {
    if (index > 0) at += gapBefore()
    const { code, shift } = keyFor(char, numpad)
    if (shift && !shiftDown) strokes.push(stroke('Shift', 'ShiftLeft', at - 1, true))
    shiftDown = shift
    strokes.push(stroke(ime ? 'Process' : char, code, at, shift))
  }
  return { strokes, endAt: at }
}

function readerTimeline(random: Random, kindLabel: keyof typeof IDENTIFIER_KINDS, ime: boolean): Timeline {
  const text = IDENTIFIER_KINDS[kindLabel](random)
  const stallChance = 0.06
  const gap = () => (random() < stallChance ? between(random, 60, 120) : between(random, 1, 40))
  const numpad = random() < 0.2
  const { strokes, endAt } = strokesFor(text, between(random, 1_000, 50_000), gap, ime, numpad)
  const suffix = random() < 0.75 ? 'Enter' : 'Tab'
  const suffixAt = endAt + between(random, 1, 40)
  strokes.push(stroke(ime && suffix === 'Enter' ? 'Process' : suffix, suffix, suffixAt))
  return { kind: 'reader', label: `${kindLabel}, ${suffix}`, ime, strokes, expected: text }
}

const HUMAN_TEXTS = [
  (random: Random) => cardNumber(random),
  (random: Random) => residentId(random),
  (random: Random) => digits(random, 6 + Math.floor(random() * 6)),
  (random: Random) => pick(random, ['zhangsan', 'wangfang', 'huiqubao', 'lisi', 'chenjing', 'Shenyang2026'])
]

function humanTimeline(random: Random, speed: 'slow' | 'fast', ime: boolean): Timeline {
  const target = pick(random, HUMAN_TEXTS)(random)
  // A fast typist: about 60 ms a key (each typist's own pace 55–70 ms), keys spread around it,
  // now and then a quick roll-over (30–45 ms) or a hesitation (100–250 ms). A slow one: 150–450 ms.
  const pace = between(random, 55, 70)
  const fastGap = () => {
    const roll = random()
    if (roll < 0.1) return between(random, 30, 45)
    if (roll < 0.2) return between(random, 100, 250)
    return Math.max(30, pace + (random() + random() + random() - 1.5) * 24)
  }
  const gap = speed === 'fast' ? fastGap : () => between(random, 150, 450)
  const strokes: KeyStroke[] = []
  let at = between(random, 1_000, 50_000)
  let field = ''
  const typed = [...target]
  for (let i = 0; i < typed.length; i++) {
    const part = strokesFor(typed[i], at, gap, ime, false)
    strokes.push(...part.strokes)
    field += typed[i]
    at = part.endAt + gap()
    // Now and then a slip: a wrong key, noticed, Backspace, then the right one.
    if (random() < 0.08) {
      const wrong = pick(random, ['1', '7', 'k', 'e'])
      strokes.push(...strokesFor(wrong, at, gap, ime, false).strokes)
      at += gap() + between(random, 80, 300)
      strokes.push(stroke('Backspace', 'Backspace', at))
      at += gap()
    }
  }
  strokes.push(stroke('Enter', 'Enter', at + between(random, 80, 400)))
  return { kind: 'human', label: `${speed} typist`, ime, strokes, expected: field }
}

/** At least 2,000 timelines: 1,440 reader bursts and 960 people, IME on and off in each. */
export function generateCorpus(seed = 20261122): Timeline[] {
  const random = seededRandom(seed)
  const corpus: Timeline[] = []
  for (const kindLabel of Object.keys(IDENTIFIER_KINDS) as Array<keyof typeof IDENTIFIER_KINDS>) {
    for (let n = 0; n < 240; n++) corpus.push(readerTimeline(random, kindLabel, n % 2 === 1))
  }
  for (let n = 0; n < 960; n++) corpus.push(humanTimeline(random, n % 4 < 2 ? 'fast' : 'slow', n % 2 === 1))
  return corpus
}
