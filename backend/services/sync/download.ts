import type { Logger } from '../../../core/log'
import type { Clock } from '../../../core/time'
import type { SyncStateRepository } from '../../../db/repositories/sync-state'
import type { ActiveRules } from '../rule-store'
import type { TrustedKeys } from '../rules/keys'
import { rulesTag, type CentreClient } from './centre-client'
import type { CentreConnection } from './connection'
import { readCentreFileKey } from './files/signed-file'
import type { SnapshotImportResult, SnapshotStore } from './snapshot/import'

/**
 * What comes down from the centre (docs/sync-protocol.md, "Rules" and "Account snapshot"): each
 * region's rule bundle (an unchanged one costs a 304), the account snapshot (full, or a delta
 * since the version held, applied all or nothing), and the centre's file-encryption key once.
 */
export interface Downloader {
  rules(centre: CentreClient, regionCodes: readonly string[]): Promise<void>
  snapshot(centre: CentreClient): Promise<void>
  /**
   * A terminal registered before the centre handed out file keys fetches it once. Checked against
   * the trusted keys before it is kept; a failure only means the queue cannot be exported yet.
   */
  centreFileKey(centre: CentreClient): Promise<void>
}

export interface DownloaderDeps {
  readonly state: SyncStateRepository
  readonly rules: ActiveRules
  readonly snapshots: SnapshotStore
  readonly connection: CentreConnection
  readonly trustedKeys: TrustedKeys
  readonly clock: Clock
  readonly log: Logger
  /** Where a snapshot download's progress is kept for the status bar (null: none running). */
  readonly progress: { current: SnapshotProgress | null }
}

export interface SnapshotProgress {
  phase: 'receiving' | 'applying'
  lines: number
  expectedLines: number | null
  startedAt: string
}

export function createDownloader(deps: DownloaderDeps): Downloader {
  const { connection, log } = deps
  const now = () => deps.clock.now().toISOString()

  return {
    async rules(centre, regionCodes) {
      const checked: Record<string, string> = { ...(await deps.state.read()).rulesCheckedAt }
      for (const region of regionCodes) {
        const held = await deps.rules.select(region, now())
        const tag = held.ok ? rulesTag(region, held.value.bundle.version) : null
        const envelope = await connection.authorized(centre, (t) => centre.rules(t, region, tag))
        if (envelope !== null) {
          const imported = await deps.rules.import(envelope)
          log.info('rules_synced', { region, version: imported.bundle.version, status: imported.status })
        }
        checked[region] = now()
      }
      await deps.state.write({ rulesCheckedAt: checked })
    },

    async snapshot(centre) {
      const { version } = await deps.snapshots.current()
      const { body, expectedLines } = await connection.authorized(centre, (t) =>
        centre.snapshot(t, version > 0 ? version : null)
      )
      const progress: SnapshotProgress = { phase: 'receiving', lines: 0, expectedLines, startedAt: now() }
      deps.progress.current = progress
      let result: SnapshotImportResult
      try {
        result = await deps.snapshots.importSnapshot(body, {
          onProgress: ({ phase, lines }) => Object.assign(progress, { phase, lines })
        })
      } finally {
        deps.progress.current = null
      }
      log.info('snapshot_synced', {
        version: result.snapshotVersion,
        accounts: result.accounts,
        removed: result.removed
      })
    },

    async centreFileKey(centre) {
      try {
        const signed = await centre.centreFileKey()
        readCentreFileKey(signed, deps.trustedKeys)
        await deps.state.write({ centreFileKey: signed })
      } catch (error) {
        log.info('centre_file_key_unavailable', { error: error instanceof Error ? error.name : 'unknown' })
      }
    }
  }
}
