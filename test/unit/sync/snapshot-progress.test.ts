import { describe, expect, it } from 'vitest'
import { snapshotProgressView } from '../../../core/sync/status'

const START = '2026-11-22T02:30:00.000Z'
const after = (seconds: number) => new Date(Date.parse(START) + seconds * 1000).toISOString()

describe('snapshot progress as shown', () => {
  it('says the share done and the time left at the pace so far', () => {
    const view = snapshotProgressView(
      { phase: 'receiving', lines: 50_000, expectedLines: 200_000, startedAt: START },
      after(4)
    )
    expect(view).toMatchObject({ percent: 25, secondsLeft: 12 })
  })

  it('guesses no time left before it has a pace, and never says 100 % before the switch-over', () => {
    expect(
      snapshotProgressView(
        { phase: 'receiving', lines: 0, expectedLines: 200_000, startedAt: START },
        after(3)
      ).secondsLeft
    ).toBeNull()
    expect(
      snapshotProgressView(
        { phase: 'receiving', lines: 2_000, expectedLines: 200_000, startedAt: START },
        after(0.5)
      ).secondsLeft
    ).toBeNull()
    expect(
      snapshotProgressView(
        { phase: 'receiving', lines: 199_999, expectedLines: 200_000, startedAt: START },
        after(13)
      ).percent
    ).toBe(99)
    expect(
      snapshotProgressView(
        { phase: 'applying', lines: 200_000, expectedLines: 200_000, startedAt: START },
        after(13)
      )
    ).toMatchObject({ percent: 100, secondsLeft: null })
  })

  it('without the centre’s count: lines only, no share and no time', () => {
    expect(
      snapshotProgressView(
        { phase: 'receiving', lines: 8_000, expectedLines: null, startedAt: START },
        after(5)
      )
    ).toMatchObject({ lines: 8_000, percent: null, secondsLeft: null })
  })
})
