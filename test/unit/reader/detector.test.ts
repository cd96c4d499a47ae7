import { describe, expect, it } from 'vitest'
import { createReaderDetector } from '../../../core/reader/detector'
import { decodeKey, type KeyStroke } from '../../../core/reader/keys'
import { DEFAULT_READER_SETTINGS, readerSettingsSchema } from '../../../core/reader/settings'
import { generateCorpus } from '../../../fixtures/keystroke-corpus'
import { replay } from '../../../fixtures/replay'

function key(key: string, code: string, timeStamp: number, extra: Partial<KeyStroke> = {}): KeyStroke {
  return {
    key,
    code,
    timeStamp,
    shiftKey: false,
    capsLock: false,
    ctrlKey: false,
    altKey: false,
    metaKey: false,
    repeat: false,
    ...extra
  }
}

/** A burst at a fixed gap, each key as a reader (or, with ime, an input method) would send it. */
function burst(
  text: string,
  gapMs: number,
  options: { ime?: boolean; suffix?: 'Enter' | 'Tab'; start?: number } = {}
): KeyStroke[] {
  const start = options.start ?? 1000
  const strokes = [...text].map((char, i) => {
    const code = /\d/.test(char)
      ? `Digit${char}`
      : /[A-Za-z]/.test(char)
        ? `Key${char.toUpperCase()}`
        : char === ';'
          ? 'Semicolon'
          : char === '='
            ? 'Equal'
            : 'Slash'
    const shiftKey = /[A-Z?]/.test(char)
    return key(options.ime ? 'Process' : char, code, start + i * gapMs, { shiftKey })
  })
  const suffix = options.suffix ?? 'Enter'
  strokes.push(key(options.ime ? 'Process' : suffix, suffix, start + text.length * gapMs))
  return strokes
}

describe('decoding keys from the physical key', () => {
  it('reads digits, numpad digits and letters from `code` when an input method reports "Process"', () => {
    expect(decodeKey(key('Process', 'Digit7', 0))).toBe('7')
    expect(decodeKey(key('Process', 'Numpad3', 0))).toBe('3')
    expect(decodeKey(key('Process', 'KeyX', 0, { shiftKey: true }))).toBe('X')
    expect(decodeKey(key('Process', 'KeyX', 0))).toBe('x')
    expect(decodeKey(key('Process', 'KeyX', 0, { capsLock: true }))).toBe('X')
    expect(decodeKey(key('Process', 'Slash', 0, { shiftKey: true }))).toBe('?')
  })

  it('ignores shortcuts and non-character keys', () => {
    expect(decodeKey(key('c', 'KeyC', 0, { ctrlKey: true }))).toBeNull()
    expect(decodeKey(key('ArrowLeft', 'ArrowLeft', 0))).toBeNull()
    expect(decodeKey(key('F2', 'F2', 0))).toBeNull()
  })
})

describe('telling a reader from a person', () => {
  it('takes a fast burst ending in Enter whole, and nothing of it reaches the field', () => {
    const result = replay(burst('A53000001', 12), DEFAULT_READER_SETTINGS)
    expect(result.bursts).toEqual(['A53000001'])
    expect(result.field).toBe('')
    expect(result.submitted).toEqual([])
  })

  it('ignores a key without a usable time stamp: the burst around it still ends, the deadline keeps moving', () => {
    const strokes = burst('A53000001', 12)
    strokes.splice(4, 0, key('9', 'Digit9', Number.NaN))
    expect(replay(strokes, DEFAULT_READER_SETTINGS).bursts).toEqual(['A53000001'])
    for (const odd of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const detector = createReaderDetector(DEFAULT_READER_SETTINGS)
      detector.key(key('A', 'KeyA', 1000, { shiftKey: true }), true)
      const due = detector.deadline()
      expect(detector.key(key('5', 'Digit5', odd), true)).toMatchObject({ preventDefault: false, insert: '' })
      expect(detector.deadline()).toBe(due)
      expect(Number.isFinite(detector.deadline())).toBe(true)
    }
  })

  it('takes a burst typed through an input method, and restores the field it touched', () => {
    const result = replay(burst('11010519491231002X', 9, { ime: true }), DEFAULT_READER_SETTINGS)
    expect(result.bursts).toEqual(['11010519491231002X'])
    expect(result.field).toBe('')
  })

  it('keeps a burst whole through a stall, restoring whatever the stall let into the field', () => {
    const strokes = burst('B54000001', 10)
    // A 110 ms stall after the fourth key: the first four were released into the field meanwhile.
    for (let i = 4; i < strokes.length; i++)
      strokes[i] = { ...strokes[i], timeStamp: strokes[i].timeStamp + 110 }
    const result = replay(strokes, DEFAULT_READER_SETTINGS)
    expect(result.bursts).toEqual(['B54000001'])
    expect(result.field).toBe('')
  })

  it('lets a person typing at 60 ms a key type into the field, in order, and submit with Enter', () => {
    const strokes = burst('A53000001', 60).map((s) => ({ ...s, key: s.code === 'Enter' ? 'Enter' : s.key }))
    const result = replay(strokes, DEFAULT_READER_SETTINGS)
    expect(result.bursts).toEqual([])
    expect(result.submitted).toEqual(['A53000001'])
  })

  it('lets slow typing through key by key', () => {
    const result = replay(burst('zhangsan', 250), DEFAULT_READER_SETTINGS)
    expect(result.bursts).toEqual([])
    expect(result.submitted).toEqual(['zhangsan'])
  })

  it('calls a reader-speed sequence without its Enter a bad read, and drops it', () => {
    const strokes = burst('A53000001', 10).slice(0, -1)
    const result = replay(strokes, DEFAULT_READER_SETTINGS)
    expect(result.bursts).toEqual([])
    expect(result.badReads).toEqual(['读卡不完整：没有收到结束键（回车），请重新刷卡'])
    expect(result.field).toBe('')
    expect(result.traces.at(-1)?.verdict).toBe('truncated')
  })

  it('does not take two quick keys and Enter for a burst', () => {
    const result = replay(
      burst('12', 10).map((s) => ({ ...s, key: s.code === 'Enter' ? 'Enter' : s.key })),
      DEFAULT_READER_SETTINGS
    )
    expect(result.bursts).toEqual([])
    expect(result.submitted).toEqual(['12'])
  })

  it('honours the terminal’s settings: Tab off as a suffix, a required prefix, a slow scanner', () => {
    const enterOnly = { ...DEFAULT_READER_SETTINGS, suffixKeys: ['Enter' as const] }
    expect(replay(burst('A53000001', 10, { suffix: 'Tab' }), enterOnly).bursts).toEqual([])

    const withPrefix = { ...DEFAULT_READER_SETTINGS, prefix: '=' }
    expect(replay(burst('=A53000001', 10), withPrefix).bursts).toEqual(['A53000001'])
    expect(replay(burst('A53000001', 10), withPrefix).bursts).toEqual([])

    const slowScanner = burst('A53000001', 80)
    expect(replay(slowScanner, DEFAULT_READER_SETTINGS).bursts).toEqual([])
    const tuned = { ...DEFAULT_READER_SETTINGS, maxTypicalGapMs: 100, maxKeyGapMs: 200 }
    expect(replay(slowScanner, tuned).bursts).toEqual(['A53000001'])
  })

  it('records why a sequence was not a burst, with per-key gaps, for the reader test panel', () => {
    const result = replay(burst('A53000001', 80), DEFAULT_READER_SETTINGS)
    expect(result.traces).toHaveLength(1)
    expect(result.traces[0]).toMatchObject({
      verdict: 'typed',
      reason: '典型间隔 80 ms，超过 40 ms',
      text: 'A53000001',
      suffix: 'Enter'
    })
    expect(result.traces[0].gapsMs).toEqual([80, 80, 80, 80, 80, 80, 80, 80, 80])
  })

  it('refuses settings out of range', () => {
    expect(readerSettingsSchema.safeParse({ ...DEFAULT_READER_SETTINGS, maxKeyGapMs: 5 }).success).toBe(false)
    expect(readerSettingsSchema.safeParse({ ...DEFAULT_READER_SETTINGS, suffixKeys: [] }).success).toBe(false)
  })
})

describe('the seeded keystroke corpus', () => {
  const corpus = generateCorpus()

  it('has at least 2,000 timelines of both kinds, IME on and off', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(2000)
    for (const kind of ['reader', 'human'] as const) {
      for (const ime of [true, false])
        expect(corpus.filter((t) => t.kind === kind && t.ime === ime).length).toBeGreaterThan(400)
    }
  })

  it('decodes every reader burst exactly, leaving the focused field empty', () => {
    const misses = corpus
      .filter((t) => t.kind === 'reader')
      .map((t) => ({ t, result: replay(t.strokes, DEFAULT_READER_SETTINGS) }))
      .filter(
        ({ t, result }) =>
          result.bursts.length !== 1 ||
          result.bursts[0] !== t.expected ||
          result.field !== '' ||
          result.badReads.length > 0
      )
    expect(
      misses.map(
        ({ t, result }) =>
          `${t.label} ime=${t.ime}: ${JSON.stringify(result.bursts)} ${result.traces.map((x) => x.reason)}`
      )
    ).toEqual([])
  })

  it('takes no person for a reader, and every typed key reaches the field in order', () => {
    const wrong = corpus
      .filter((t) => t.kind === 'human')
      .map((t) => ({ t, result: replay(t.strokes, DEFAULT_READER_SETTINGS) }))
      .filter(
        ({ t, result }) =>
          result.bursts.length > 0 ||
          result.badReads.length > 0 ||
          (!t.ime && result.submitted[0] !== t.expected)
      )
    expect(
      wrong.map(({ t, result }) => `${t.label} ime=${t.ime}: ${JSON.stringify(result)}`).slice(0, 3)
    ).toEqual([])
  })
})
