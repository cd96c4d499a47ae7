import { describe, expect, it } from 'vitest'
import { offlineLimits, retryDelayMs } from '../../../core/sync/status'
import { demoBundle, NOW } from '../../support/rule-fixtures'

const HOUR = 3_600_000
const hoursBefore = (hours: number) => new Date(Date.parse(NOW) - hours * HOUR).toISOString()

describe('offline limits on the status bar', () => {
  const quzhou = demoBundle('330800')
  const limits = quzhou.offline
  if (!limits || limits.maxQueuedFen === undefined || limits.maxQueuedCount === undefined)
    throw new Error('the Quzhou demo bundle has offline limits')

  it('counts down to the moment selling stops when rules are close to their age limit', () => {
    const [tightest] = offlineLimits([
      {
        bundle: quzhou,
        rulesCheckedAt: hoursBefore(limits.maxRulesAgeHours - 5),
        balancesAsOf: hoursBefore(1),
        queued: { count: 0, totalFen: 0 },
        now: NOW
      }
    ])
    expect(tightest.kind).toBe('rulesAge')
    expect(tightest.level).toBe('near')
    expect(tightest.deadline).toBe(new Date(Date.parse(NOW) + 5 * HOUR).toISOString())
    expect(tightest.text).toContain('还可离线使用 5 小时')
  })

  it('says selling has stopped once the snapshot is older than allowed', () => {
    const [tightest] = offlineLimits([
      {
        bundle: quzhou,
        rulesCheckedAt: hoursBefore(1),
        balancesAsOf: hoursBefore(limits.maxSnapshotAgeHours + 1),
        queued: { count: 0, totalFen: 0 },
        now: NOW
      }
    ])
    expect(tightest).toMatchObject({ kind: 'snapshotAge', level: 'reached' })
    expect(tightest.text).toContain('停止办理')
  })

  it('warns when the queued amount is within a fifth of its limit, and a fresh terminal is all clear', () => {
    const queued = { count: 1, totalFen: (limits.maxQueuedFen ?? 0) - 1 }
    const views = offlineLimits([
      { bundle: quzhou, rulesCheckedAt: NOW, balancesAsOf: NOW, queued, now: NOW }
    ])
    expect(views[0]).toMatchObject({ kind: 'queuedFen', level: 'near' })
    const fresh = offlineLimits([
      { bundle: quzhou, rulesCheckedAt: NOW, balancesAsOf: NOW, queued: { count: 0, totalFen: 0 }, now: NOW }
    ])
    expect(fresh.every((view) => view.level === 'ok')).toBe(true)
  })
})

describe('offline limits across regions', () => {
  it('gives regions whose limit falls at the same moment one line, and keeps a tighter region apart', () => {
    const queued = { count: 0, totalFen: 0 }
    const inputs = ['330800', '210100', '539900'].map((code) => ({
      bundle: demoBundle(code),
      rulesCheckedAt: NOW,
      balancesAsOf: NOW,
      queued,
      now: NOW
    }))
    const merged = offlineLimits(inputs).filter((view) => view.kind === 'rulesAge')
    const sameLimit = new Set(inputs.map((input) => input.bundle.offline?.maxRulesAgeHours)).size
    expect(merged).toHaveLength(sameLimit)
    expect(merged.some((view) => view.regionName.includes('等'))).toBe(sameLimit < inputs.length)
    const apart = offlineLimits([{ ...inputs[0], rulesCheckedAt: hoursBefore(100) }, inputs[1]]).filter(
      (view) => view.kind === 'rulesAge'
    )
    expect(apart.map((view) => view.regionName)).toEqual([
      inputs[0].bundle.region.name,
      inputs[1].bundle.region.name
    ])
  })
})

describe('retry backoff', () => {
  it('grows exponentially, is capped, and is spread by jitter so terminals do not retry together', () => {
    const top = () => 0.999_999
    expect(retryDelayMs(0, top)).toBeLessThan(5_000)
    expect(retryDelayMs(3, top)).toBeGreaterThan(39_000)
    expect(retryDelayMs(50, top)).toBeLessThanOrEqual(15 * 60_000)
    const spread = new Set(Array.from({ length: 20 }, (_, i) => retryDelayMs(6, () => i / 20)))
    expect(spread.size).toBeGreaterThan(15)
    expect(retryDelayMs(6, () => 0)).toBeGreaterThan(0)
  })
})
