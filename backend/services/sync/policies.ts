import type { Logger } from '../../../core/log'
import type { PolicyIssue } from '../../../core/sync/protocol'
import type { SyncStateRepository } from '../../../db/repositories/sync-state'
import type { CentreClient } from './centre-client'
import type { CentreConnection } from './connection'

/**
 * The insurer's policy numbers coming back (docs/sync-protocol.md, "Policies"): after the upload
 * of every sync, from a centre of protocol 2, a page at a time from where the last call ended. Each
 * line keeps the first number it is given; the cursor moves only after the page is stored.
 */
export interface PolicyFetchDeps {
  readonly connection: CentreConnection
  readonly state: SyncStateRepository
  readonly applyPolicies: (issues: readonly PolicyIssue[]) => Promise<number>
  readonly log: Logger
}

/** How many lines got their number; 0 from a centre of protocol 1 (it has no such call). */
export async function fetchPolicies(deps: PolicyFetchDeps, centre: CentreClient): Promise<number> {
  if ((await deps.connection.centreProtocol(centre)) < 2) return 0
  let cursor = (await deps.state.read()).policiesCursor
  let kept = 0
  for (let page = 0; page < 1000; page++) {
    const answer = await deps.connection.authorized(centre, (token) => centre.policies(token, cursor))
    kept += await deps.applyPolicies(answer.policies)
    cursor = answer.cursor
    await deps.state.write({ policiesCursor: cursor })
    if (!answer.more) break
  }
  if (kept > 0) deps.log.info('policies_received', { lines: kept })
  return kept
}
