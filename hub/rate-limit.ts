/**
 * How much the centre takes at once from whom. A token bucket per caller (a terminal, or an address for the calls made before a terminal has
 * a token): `burst` calls at once, then `perSecond`. One process's view: with several centre
 * processes each keeps its own, and the reverse proxy's limit (docs/centre.md) is the global one.
 * A few lines of arithmetic; a library would add a dependency for no more than this.
 */
export interface RateLimit {
  readonly perSecond: number
  readonly burst: number
}

export interface RateLimiter {
  /** Takes one call; 0 when allowed, else the whole seconds to wait before the next is. */
  take(key: string): number
}

/** Buckets idle this long are full again and forgotten, so the map cannot grow without end. */
const FORGET_AFTER_MS = 10 * 60_000

export function createRateLimiter(
  limit: RateLimit,
  now: () => number = () => performance.now()
): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>()
  let sweptAt = now()
  return {
    take(key) {
      const at = now()
      if (at - sweptAt > FORGET_AFTER_MS) {
        for (const [k, bucket] of buckets) if (at - bucket.at > FORGET_AFTER_MS) buckets.delete(k)
        sweptAt = at
      }
      const bucket = buckets.get(key) ?? { tokens: limit.burst, at }
      bucket.tokens = Math.min(limit.burst, bucket.tokens + ((at - bucket.at) / 1000) * limit.perSecond)
      bucket.at = at
      buckets.set(key, bucket)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond))
    }
  }
}

/** At most `limit` of these at once; the others wait in order, each at most `waitAtMostMs`. */
export interface Turns {
  /** Rejects with NoTurn, having done nothing, when no turn came in time. */
  run<T>(work: () => Promise<T>): Promise<T>
}

export class NoTurn extends Error {
  override readonly name = 'NoTurn'
}

export function createTurns(limit: number, waitAtMostMs = Number.POSITIVE_INFINITY): Turns {
  let running = 0
  const waiting: Array<() => void> = []
  return {
    async run(work) {
      if (running >= limit) {
        await new Promise<void>((resolve, reject) => {
          const turn = () => {
            clearTimeout(timer)
            resolve()
          }
          const timer = Number.isFinite(waitAtMostMs)
            ? setTimeout(() => {
                waiting.splice(waiting.indexOf(turn), 1)
                reject(new NoTurn())
              }, waitAtMostMs)
            : undefined
          waiting.push(turn)
        })
      } else running += 1
      try {
        return await work()
      } finally {
        // The turn passes straight to the next in line, or is given back.
        const next = waiting.shift()
        if (next) next()
        else running -= 1
      }
    }
  }
}
