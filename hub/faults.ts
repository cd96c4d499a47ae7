import { z } from 'zod'

/**
 * What a real centre does to a terminal now and then, on demand, so tests can show the terminal
 * copes: an answer lost after the centre committed, maintenance (503), a slow answer, and an
 * account being settled (its items come back retryLater). Mutable: tests change it while the
 * server runs; `POST /v1/_test/faults` changes it in a hub started with HUB_TEST_HOOKS=1.
 */
export interface HubFaults {
  /** `POST /v1/transactions`: settle and commit, then close the connection without an answer; this many times. */
  dropResponseAfterCommit: number
  /** Answer `503 UNAVAILABLE` to this many next requests, before doing anything. */
  unavailable: number
  /** Hold every upload answer this long (after the settlement committed, before the first byte is sent). */
  delayMs: number
  /** Account numbers the centre is settling: items for them are answered retryLater. */
  lockedAccounts: Set<string>
}

export function createFaults(): HubFaults {
  return { dropResponseAfterCommit: 0, unavailable: 0, delayMs: 0, lockedAccounts: new Set() }
}

/** The body of `POST /v1/_test/faults`: the fields given replace the current ones. */
export const faultsPatchSchema = z.strictObject({
  dropResponseAfterCommit: z.int().min(0).max(1000).optional(),
  unavailable: z.int().min(0).max(1000).optional(),
  delayMs: z.int().min(0).max(600_000).optional(),
  lockedAccounts: z
    .array(z.string().regex(/^[0-9A-Z]{6,32}$/))
    .max(10_000)
    .optional()
})
export type FaultsPatch = z.infer<typeof faultsPatchSchema>

export function applyFaults(faults: HubFaults, patch: FaultsPatch): void {
  if (patch.dropResponseAfterCommit !== undefined)
    faults.dropResponseAfterCommit = patch.dropResponseAfterCommit
  if (patch.unavailable !== undefined) faults.unavailable = patch.unavailable
  if (patch.delayMs !== undefined) faults.delayMs = patch.delayMs
  if (patch.lockedAccounts !== undefined) faults.lockedAccounts = new Set(patch.lockedAccounts)
}

export function faultsView(faults: HubFaults): Required<FaultsPatch> {
  return { ...faults, lockedAccounts: [...faults.lockedAccounts].sort() }
}
