import { describe, expect, it } from 'vitest'
import { accountAtCentre, openTestHub, register } from '../../support/hub'

const DAY = 86_400_000

/** 赵丽华 (Yunnan): 吉瑞安康 paid yearly; the first year's cover ends 2026-12-18 (Beijing), the second instalment then due. */
const INSTALMENTS = 'A53000004'

describe('hub: which holdings an account’s line shows', () => {
  it('a policy with an instalment to pay stays listed after its cover ends, in grace and lapsed for two years, then goes', async () => {
    const { url, clock } = await openTestHub()
    let terminals = 0
    // A new terminal each time: a token does not outlive the clock's jumps.
    const holdings = async () => {
      const { token } = await register(url, `T-HOLD${String(++terminals).padStart(4, '0')}`)
      return (await accountAtCentre(url, token, INSTALMENTS)).holdings
    }
    const inCover = await holdings()
    expect(inCover).toEqual([
      expect.objectContaining({
        productCode: 'YN-JRAK',
        coverTo: '2026-12-17T16:00:00.000Z',
        instalments: expect.objectContaining({ paid: 1, nextDueAt: '2026-12-17T16:00:00.000Z' })
      })
    ])
    clock.advance(40 * DAY) // the cover ended 14 days ago: in grace
    expect(await holdings()).toEqual(inCover)
    clock.advance(700 * DAY) // lapsed, and reinstatable
    expect(await holdings()).toEqual(inCover)
    clock.advance(100 * DAY) // lapsed more than two years ago
    expect(await holdings()).toEqual([])
  })
})
