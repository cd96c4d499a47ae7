import { createReaderDetector, type ReaderOutcome, type ReaderTrace } from '../../core/reader/detector'
import type { KeyStroke } from '../../core/reader/keys'
import type { ReaderSettings } from '../../core/reader/settings'

export interface ReplayResult {
  readonly bursts: string[]
  readonly badReads: string[]
  readonly traces: ReaderTrace[]
  /** The field's text each time Enter reached it (a person submitting). */
  readonly submitted: string[]
  /** The field at the end. */
  readonly field: string
}

/**
 * Plays key strokes through the detector the way the renderer's adapter does, with a focused text
 * field simulated: held keys are inserted when released, keys let through are typed, a burst that
 * touched the field restores it.
 */
export function replay(
  strokes: readonly KeyStroke[],
  settings: ReaderSettings,
  intoField = true
): ReplayResult {
  const detector = createReaderDetector(settings)
  const result: ReplayResult = { bursts: [], badReads: [], traces: [], submitted: [], field: '' }
  let field = ''
  let snapshot = ''

  const apply = (out: ReaderOutcome, stroke?: KeyStroke) => {
    field += out.insert
    if (out.startedSequence) snapshot = stroke && !out.preventDefault && intoField ? field : field
    if (out.trace) result.traces.push(out.trace)
    if (out.burst) {
      result.bursts.push(out.burst.text)
      if (out.burst.restoreField) field = snapshot
    }
    if (out.badRead) {
      result.badReads.push(out.badRead.reason)
      if (out.badRead.restoreField) field = snapshot
    }
    if (!stroke || out.preventDefault || !intoField) return
    if (stroke.key === 'Backspace') field = field.slice(0, -1)
    else if (stroke.key === 'Enter' || stroke.code === 'Enter') result.submitted.push(field)
    else if (stroke.key === 'Process' && /^(Digit|Numpad|Key)/.test(stroke.code))
      field += stroke.code.slice(-1).toLowerCase()
    else if (stroke.key.length === 1) field += stroke.key
  }

  for (const stroke of strokes) {
    for (let due = detector.deadline(); due !== null && due <= stroke.timeStamp; due = detector.deadline())
      apply(detector.tick(due))
    apply(detector.key(stroke, intoField), stroke)
  }
  for (let due = detector.deadline(); due !== null; due = detector.deadline()) apply(detector.tick(due))
  return { ...result, field }
}
