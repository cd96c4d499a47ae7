/**
 * `npm run bench:reader`: the seeded keystroke corpus (fixtures/keystroke-corpus.ts) through our
 * detector (core/reader) and through onscan.js 1.5.2 with its default options, side by side: reader
 * bursts decoded exactly, and people taken for a reader, with the input method on and off.
 * Prints figures; asserts nothing (the corpus test in test/reader does).
 */
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { DEFAULT_READER_SETTINGS } from '../core/reader/settings'
import type { KeyStroke } from '../core/reader/keys'
import { generateCorpus, type Timeline } from '../fixtures/keystroke-corpus'
import { replay } from '../fixtures/replay'

interface OnScan {
  attachTo(element: EventTarget, options: { onScan(code: string): void }): void
}

const SEED = 20261122

/** The keyCode a browser reports for a key: what onscan.js decodes from (229 while an IME composes). */
function keyCodeOf(stroke: KeyStroke): number {
  if (stroke.key === 'Process') return 229
  const digit = /^(Digit|Numpad)(\d)$/.exec(stroke.code)
  if (digit) return (digit[1] === 'Digit' ? 48 : 96) + Number(digit[2])
  const letter = /^Key([A-Z])$/.exec(stroke.code)
  if (letter) return letter[1].charCodeAt(0)
  const named: Record<string, number> = {
    Enter: 13,
    Tab: 9,
    Backspace: 8,
    ShiftLeft: 16,
    Semicolon: 186,
    Equal: 187,
    Slash: 191
  }
  return named[stroke.code] ?? 0
}

/**
 * onscan.js reads time from Date.now() and decides on setTimeout; both are replaced by a virtual
 * clock that follows the timeline, so its verdicts depend on the corpus only, not on this machine.
 */
function runOnScan(onScan: OnScan, timeline: Timeline): string[] {
  const scans: string[] = []
  const timers: Array<{ due: number; run: () => void; id: number }> = []
  let now = timeline.strokes[0].timeStamp
  let nextId = 1
  const realNow = Date.now
  const realSetTimeout = globalThis.setTimeout
  const realClearTimeout = globalThis.clearTimeout
  const runDue = (until: number) => {
    for (;;) {
      timers.sort((a, b) => a.due - b.due)
      const timer = timers[0]
      if (!timer || timer.due > until) break
      timers.shift()
      now = timer.due
      timer.run()
    }
    now = until
  }
  Date.now = () => Math.round(now)
  const fakeSetTimeout = (run: (...args: unknown[]) => void, delay = 0, ...args: unknown[]) => {
    const id = nextId++
    timers.push({ due: now + delay, run: () => run(...args), id })
    return id
  }
  const fakeClearTimeout = (id: unknown) => {
    const index = timers.findIndex((timer) => timer.id === id)
    if (index >= 0) timers.splice(index, 1)
  }
  Object.assign(globalThis, { setTimeout: fakeSetTimeout, clearTimeout: fakeClearTimeout })
  try {
    const element = new EventTarget()
    onScan.attachTo(element, { onScan: (code) => scans.push(code) })
    for (const stroke of timeline.strokes) {
      runDue(stroke.timeStamp)
      const event = Object.assign(new Event('keydown', { cancelable: true }), {
        key: stroke.key,
        code: stroke.code,
        keyCode: keyCodeOf(stroke),
        which: keyCodeOf(stroke),
        shiftKey: stroke.shiftKey
      })
      element.dispatchEvent(event)
    }
    runDue(Number.POSITIVE_INFINITY)
  } finally {
    Date.now = realNow
    Object.assign(globalThis, { setTimeout: realSetTimeout, clearTimeout: realClearTimeout })
  }
  return scans
}

function main(): void {
  const onScan = createRequire(import.meta.url)('onscan.js') as OnScan
  const corpus = generateCorpus(SEED)
  type Tally = { decoded: number; bursts: number; mistaken: number; people: number }
  const blank = (): Tally => ({ decoded: 0, bursts: 0, mistaken: 0, people: 0 })
  const tallies = { ours: { off: blank(), on: blank() }, onscan: { off: blank(), on: blank() } }

  let strokes = 0
  let oursMs = 0
  for (const timeline of corpus) {
    strokes += timeline.strokes.length
    const t0 = performance.now()
    const ours = replay(timeline.strokes, DEFAULT_READER_SETTINGS).bursts
    oursMs += performance.now() - t0
    const theirs = runOnScan(onScan, timeline)
    for (const [name, scans] of [
      ['ours', ours],
      ['onscan', theirs]
    ] as const) {
      const tally = tallies[name][timeline.ime ? 'on' : 'off']
      if (timeline.kind === 'reader') {
        tally.bursts++
        if (scans.length === 1 && scans[0] === timeline.expected) tally.decoded++
      } else {
        tally.people++
        if (scans.length > 0) tally.mistaken++
      }
    }
  }

  const cell = (done: number, of: number) => `${done}/${of}`.padStart(9)
  console.log(
    `bench:reader  ${corpus.length.toLocaleString('en-US')} timelines (seed ${SEED}), ${strokes.toLocaleString('en-US')} key events`
  )
  console.log('                              bursts decoded exactly   people taken for a reader')
  console.log('                              IME off     IME on       IME off     IME on')
  for (const [label, name] of [
    ['ours (core/reader)', 'ours'],
    ['onscan.js 1.5.2, defaults', 'onscan']
  ] as const) {
    const { off, on } = tallies[name]
    console.log(
      `  ${label.padEnd(28)}${cell(off.decoded, off.bursts)}  ${cell(on.decoded, on.bursts)}    ${cell(off.mistaken, off.people)}  ${cell(on.mistaken, on.people)}`
    )
  }
  console.log(`  our detector: ${Math.round(strokes / (oursMs / 1000)).toLocaleString('en-US')} key events/s`)
}

main()
