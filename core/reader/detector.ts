import { decodeKey, isImeKey, isModifierOnly, suffixOf, type KeyStroke, type SuffixKey } from './keys'
import type { ReaderSettings } from './settings'

/**
 * Tells a keyboard-wedge reader (or scanner) from a person typing, key by key, and decides what
 * each key may do. Pure: time comes from the events' own time stamps and from `tick(now)`.
 *
 * While a key might start a burst and an input field has focus, the key is held back (the adapter
 * prevents its default). Held keys go to the field as soon as the sequence cannot be a burst, or
 * after a short hold, so typing is never lost and lags a few tens of ms at most. A burst that ends
 * with its suffix key is taken whole and nothing of it reaches the field; if some of it already did
 * (a reader that stalled, or an input method composing), the adapter restores the field.
 */

export interface ReaderTrace {
  /** burst: taken as a read; typed: a person; truncated: reader speed but no suffix key. */
  readonly verdict: 'burst' | 'typed' | 'truncated'
  /** Why, in Chinese, with the numbers (for the reader test panel). */
  readonly reason: string
  readonly text: string
  /** Gap before each key after the first, the suffix key included, ms. */
  readonly gapsMs: readonly number[]
  readonly totalMs: number
  readonly ime: boolean
  readonly suffix: SuffixKey | null
}

export interface ReaderOutcome {
  /** Hold back (prevent the default of) the key just handled. */
  preventDefault: boolean
  /** Held characters to give to the focused field now, before the key's own effect. */
  insert: string
  /** The first key of a new sequence: the adapter notes the focused field as it is, to restore it. */
  startedSequence: boolean
  burst: { readonly text: string; readonly restoreField: boolean } | null
  badRead: { readonly reason: string; readonly restoreField: boolean } | null
  /** A finished sequence of three keys or more, for the reader test panel. */
  trace: ReaderTrace | null
}

interface PendingKey {
  readonly char: string
  readonly at: number
  held: boolean
  readonly ime: boolean
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const ms = (value: number) => `${Math.round(value)} ms`

export interface ReaderDetector {
  key(stroke: KeyStroke, intoField: boolean): ReaderOutcome
  tick(now: number): ReaderOutcome
  /** When `tick` should next be called (same clock as the events' time stamps), or null. */
  deadline(): number | null
  configure(settings: ReaderSettings): void
}

/** After a person was recognised, their next keys are not held back for this long. */
const TYPING_GRACE_MS = 1000

export function createReaderDetector(initial: ReaderSettings): ReaderDetector {
  let settings = initial
  let keys: PendingKey[] = []
  /** Some of this sequence already reached the field (let through, released, or via an input method). */
  let reachedField = false
  /** Keys of this sequence are held back; false once it looks typed by a person. */
  let holding = true
  /** This sequence began with no person typing just before it. */
  let startedFresh = true
  /** A person is typing: keys are let straight through (still watched, a burst is still recognised). */
  let typingUntil = Number.NEGATIVE_INFINITY

  const holdMs = () => Math.min(settings.maxKeyGapMs, Math.round(settings.maxTypicalGapMs * 1.5))

  const empty = (): ReaderOutcome => ({
    preventDefault: false,
    insert: '',
    startedSequence: false,
    burst: null,
    badRead: null,
    trace: null
  })

  function releaseHeld(): string {
    let text = ''
    for (const key of keys) {
      if (!key.held) continue
      text += key.char
      key.held = false
      reachedField = true
    }
    return text
  }

  function gapsOf(endAt: number | null): number[] {
    const gaps = keys.slice(1).map((key, i) => key.at - keys[i].at)
    if (endAt !== null && keys.length > 0) gaps.push(endAt - keys[keys.length - 1].at)
    return gaps
  }

  /** Null when the sequence (ended by a suffix key at `endAt`, or not ended) reads like a reader. */
  function whyNotABurst(endAt: number | null): string | null {
    const text = keys.map((key) => key.char).join('')
    if (settings.prefix && !text.startsWith(settings.prefix)) return `没有前缀「${settings.prefix}」`
    const length = text.length - settings.prefix.length
    if (length < settings.minLength) return `只有 ${length} 个字符，少于 ${settings.minLength}`
    const gaps = gapsOf(endAt)
    const largest = Math.max(0, ...gaps)
    if (largest > settings.maxKeyGapMs) return `最大间隔 ${ms(largest)}，超过 ${ms(settings.maxKeyGapMs)}`
    const typical = median(gaps)
    if (typical > settings.maxTypicalGapMs)
      return `典型间隔 ${ms(typical)}，超过 ${ms(settings.maxTypicalGapMs)}`
    const total = (endAt ?? keys[keys.length - 1].at) - keys[0].at
    if (total > settings.maxBurstMs) return `全程 ${ms(total)}，超过 ${ms(settings.maxBurstMs)}`
    return null
  }

  /** Null when three gaps in four are at reader speed; the stricter test for the doubtful cases. */
  function mostlyFast(endAt: number | null): string | null {
    const gaps = gapsOf(endAt)
    const fast = gaps.filter((gap) => gap <= settings.maxTypicalGapMs).length
    return fast * 4 >= gaps.length * 3 ? null : `超过四分之一的间隔大于 ${ms(settings.maxTypicalGapMs)}`
  }

  /** Two slow gaps that are most of the gaps so far: a person (one slow gap may be a reader stalling). */
  function looksTyped(): boolean {
    const gaps = gapsOf(null)
    const slow = gaps.filter((gap) => gap > settings.maxTypicalGapMs).length
    return slow >= 2 && slow * 2 > gaps.length
  }

  function traceOf(
    verdict: ReaderTrace['verdict'],
    reason: string,
    endAt: number | null,
    suffix: SuffixKey | null
  ): ReaderTrace {
    return {
      verdict,
      reason,
      text: keys.map((key) => key.char).join(''),
      gapsMs: gapsOf(endAt),
      totalMs: (endAt ?? keys[keys.length - 1].at) - keys[0].at,
      ime: keys.some((key) => key.ime),
      suffix
    }
  }

  /**
   * The sequence stopped without a suffix key: a person's keys go to the field; a reader's are a bad
   * read. Calling it a bad read drops the keys, so this asks more than a burst does: three gaps in
   * four at reader speed, not just half.
   */
  function finishUnended(out: ReaderOutcome): void {
    if (keys.length === 0) return
    // A sequence that began while a person was typing is theirs, however quick a stretch of it was.
    const reason = !startedFresh ? '紧接人工输入' : (whyNotABurst(null) ?? mostlyFast(null))
    if (reason === null) {
      out.badRead = { reason: '读卡不完整：没有收到结束键（回车），请重新刷卡', restoreField: reachedField }
      out.trace = traceOf('truncated', '速度像读卡器，但没有结束键', null, null)
    } else {
      out.insert += releaseHeld()
      if (keys.length >= 3) out.trace = traceOf('typed', reason, null, null)
      typingUntil = keys[keys.length - 1].at + TYPING_GRACE_MS
    }
    keys = []
  }

  function key(stroke: KeyStroke, intoField: boolean): ReaderOutcome {
    const out = empty()
    // A key without a usable time (NaN, Infinity) would stop the deadline from moving: ignored.
    if (isModifierOnly(stroke) || !Number.isFinite(stroke.timeStamp)) return out
    const at = stroke.timeStamp
    if (keys.length > 0 && at - keys[keys.length - 1].at > settings.maxKeyGapMs) finishUnended(out)

    const suffix = suffixOf(stroke)
    const char = suffix || stroke.repeat ? null : decodeKey(stroke)

    if (char !== null) {
      if (keys.length === 0) {
        reachedField = false
        startedFresh = at >= typingUntil
        holding = startedFresh
        out.startedSequence = true
      }
      const ime = isImeKey(stroke)
      const held = intoField && holding && !ime
      keys.push({ char, at, held, ime })
      if (intoField && !held) reachedField = true
      out.preventDefault = held
      if (holding && looksTyped()) {
        // A person: what was held goes to the field now, this key included, in order.
        holding = false
        out.insert += releaseHeld()
      }
      if (!holding) typingUntil = at + TYPING_GRACE_MS
      return out
    }

    if (suffix !== null && keys.length > 0 && settings.suffixKeys.includes(suffix)) {
      // Right after typing, a burst must be unmistakable: a quick stretch of a person's typing is not one.
      const reason = whyNotABurst(at) ?? (startedFresh ? null : mostlyFast(at))
      if (reason === null) {
        out.preventDefault = true
        out.burst = {
          text: keys
            .map((k) => k.char)
            .join('')
            .slice(settings.prefix.length),
          restoreField: reachedField
        }
        out.trace = traceOf('burst', '读卡器', at, suffix)
        keys = []
        typingUntil = Number.NEGATIVE_INFINITY
        return out
      }
      if (keys.length >= 3) out.trace = traceOf('typed', reason, at, suffix)
    }

    // Enter after typing, Backspace, arrows, shortcuts …: held keys first, then the key itself.
    out.insert += releaseHeld()
    keys = []
    typingUntil = suffix !== null ? Number.NEGATIVE_INFINITY : at + TYPING_GRACE_MS
    return out
  }

  function tick(now: number): ReaderOutcome {
    const out = empty()
    if (keys.length === 0) return out
    const since = now - keys[keys.length - 1].at
    if (since >= settings.maxKeyGapMs) finishUnended(out)
    else if (since >= holdMs()) out.insert += releaseHeld()
    return out
  }

  function deadline(): number | null {
    if (keys.length === 0) return null
    const last = keys[keys.length - 1].at
    return keys.some((k) => k.held) ? last + holdMs() : last + settings.maxKeyGapMs
  }

  return {
    key,
    tick,
    deadline,
    configure(next) {
      settings = next
    }
  }
}
