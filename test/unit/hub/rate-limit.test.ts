import { describe, expect, it } from 'vitest'
import { createRateLimiter, createTurns, NoTurn } from '../../../hub/rate-limit'

describe('the centre’s limits', () => {
  it('lets a burst through, then one call per refill, and says how long to wait', () => {
    let now = 0
    const limiter = createRateLimiter({ perSecond: 2, burst: 3 }, () => now)
    expect([1, 2, 3, 4].map(() => limiter.take('T-1'))).toEqual([0, 0, 0, 1])
    expect(limiter.take('T-2')).toBe(0)
    now += 500
    expect(limiter.take('T-1')).toBe(0)
    expect(limiter.take('T-1')).toBe(1)
    now += 60_000
    expect([1, 2, 3, 4].map(() => limiter.take('T-1'))).toEqual([0, 0, 0, 1])
  })

  it('runs at most so many at once, the rest in order, and a failure gives its turn back', async () => {
    const turns = createTurns(2)
    let running = 0
    let most = 0
    const order: number[] = []
    const work = (n: number, fail = false) =>
      turns.run(async () => {
        running += 1
        most = Math.max(most, running)
        await new Promise((resolve) => setTimeout(resolve, 5))
        running -= 1
        order.push(n)
        if (fail) throw new Error(`failed ${n}`)
        return n
      })
    const results = await Promise.allSettled([work(1), work(2, true), work(3), work(4), work(5)])
    expect(most).toBe(2)
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled'
    ])
    expect(order.slice(2)).toEqual([3, 4, 5])
    expect(await work(6)).toBe(6)
  })

  it('sends back, having done nothing, what waited too long for its turn, and the line moves on', async () => {
    const turns = createTurns(1, 20)
    let release = () => {}
    const long = turns.run(() => new Promise<void>((resolve) => (release = resolve)))
    let ran = false
    const late = turns.run(async () => {
      ran = true
    })
    await expect(late).rejects.toBeInstanceOf(NoTurn)
    expect(ran).toBe(false)
    release()
    await long
    expect(await turns.run(async () => 'next')).toBe('next')
  })
})
