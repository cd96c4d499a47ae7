import { vi } from 'vitest'

/**
 * How long a test waits for something that is on its way (a lookup on a real SQLite file, a
 * render, a child process): generous, because a loaded two-core machine is many times slower than
 * a laptop, and a wait that passes early costs nothing.
 */
export const WAIT_MS = 15_000

/**
 * Until the assertion holds (its value), trying again every 20 ms; before each try, pending I/O
 * callbacks and Vue's render queue get their turn. Every test waits through this, never a bare
 * vi.waitFor with vitest's one-second default.
 */
export function until<T>(assertion: () => T | Promise<T>, timeoutMs = WAIT_MS): Promise<T> {
  return vi.waitFor(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 0))
      return assertion()
    },
    { timeout: timeoutMs, interval: 20 }
  )
}
