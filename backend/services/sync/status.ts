import {
  offlineLimits,
  snapshotProgressView,
  type LimitInputs,
  type SyncStatusView
} from '../../../core/sync/status'
import type { Clock } from '../../../core/time'
import type { OutboxRepository } from '../../../db/repositories/outbox'
import type { SyncStateRepository } from '../../../db/repositories/sync-state'
import type { ActiveRules } from '../rule-store'
import type { CentreConnection } from './connection'
import type { SnapshotProgress } from './download'
import type { SyncScheduler } from './scheduler'
import type { SnapshotStore } from './snapshot/import'

/**
 * What the status bar shows on every signed-in screen: registered or not, online or offline,
 * the last sync and error, what waits to go up and what the centre rejected, and the nearest
 * offline limit of the regions this terminal serves (core/sync/status.ts decides the limits).
 */
export interface SyncStatusDeps {
  readonly state: SyncStateRepository
  readonly outbox: OutboxRepository
  readonly snapshots: SnapshotStore
  readonly rules: ActiveRules
  readonly connection: CentreConnection
  readonly scheduler: SyncScheduler
  readonly clock: Clock
  readonly terminalId: string
  readonly intervalMs: number
  /** The regions this terminal holds rules for, when not registered yet (demo). */
  readonly heldRegions: () => Promise<string[]>
  /** A snapshot download running now, as far as it got. */
  readonly snapshotProgress: () => SnapshotProgress | null
}

export function createSyncStatus(deps: SyncStatusDeps): () => Promise<SyncStatusView> {
  return async function status() {
    const [state, queue, reversals, rejectedCount, snapshot, nextAttemptAt] = await Promise.all([
      deps.state.read(),
      deps.outbox.queuedSales(),
      deps.outbox.queuedReversals(),
      deps.outbox.rejectedCount(),
      deps.snapshots.current(),
      deps.outbox.nextAttemptAt()
    ])
    const at = deps.clock.now().toISOString()
    const progress = deps.snapshotProgress()
    const balancesAsOf = snapshot.balancesAsOf ?? (await deps.snapshots.oldestBalanceAsOf()) ?? at
    const regions = state.regionCodes.length > 0 ? state.regionCodes : await deps.heldRegions()
    const inputs: LimitInputs[] = []
    for (const region of regions) {
      const held = await deps.rules.select(region, at)
      if (!held.ok) continue
      inputs.push({
        bundle: held.value.bundle,
        rulesCheckedAt: await deps.rules.confirmedAt(held.value.bundle),
        balancesAsOf,
        queued: queue,
        now: at
      })
    }
    const limits = offlineLimits(inputs)
    const recent =
      state.lastContactAt !== null && Date.parse(at) - Date.parse(state.lastContactAt) < 2 * deps.intervalMs
    return {
      registered: state.centreUrl !== null && state.refreshSecretSealed !== null,
      terminalId: deps.terminalId,
      centreUrl: state.centreUrl,
      // A refusal (a withdrawn bundle's 404, say) is an answer: the centre is there, lastError says what went wrong.
      connection:
        state.lastContactAt === null && state.lastError === null
          ? 'never'
          : deps.connection.reachable() && recent
            ? 'online'
            : 'offline',
      busy: deps.scheduler.busy(),
      lastContactAt: state.lastContactAt,
      lastSyncAt: state.lastSyncAt,
      lastError: state.lastError,
      snapshot: { version: snapshot.version, balancesAsOf: snapshot.balancesAsOf },
      queue: { ...queue, reversals, nextAttemptAt },
      rejectedCount,
      // Every limit near or reached, else only the tightest: the status bar has one line for them.
      limits: limits.filter((limit, index) => limit.level !== 'ok' || index === 0),
      nextSyncAt: deps.scheduler.nextSyncAt(),
      lastFileExchange: state.lastFileExchange,
      snapshotProgress: progress ? snapshotProgressView(progress, at) : null
    }
  }
}
