import type { RuleBundle } from './bundle'

/** Whether rules and account snapshot are recent enough for this terminal to sell offline. */
export interface OfflineFreshness {
  readonly snapshotAsOf: string
  readonly rulesReceivedAt: string
  readonly maxSnapshotAgeHours: number | null
  readonly maxRulesAgeHours: number | null
  readonly ok: boolean
  /** Why selling has stopped, in Chinese; null while fresh. */
  readonly reason: string | null
}

const HOUR = 3_600_000

/** Pure: the ages against the bundle's offline limits (none given: no limit). */
export function offlineFreshness(bundle: RuleBundle, snapshotAsOf: string, rulesReceivedAt: string, now: string): OfflineFreshness {
  const limits = bundle.offline
  const at = Date.parse(now)
  const snapshotHours = Math.floor((at - Date.parse(snapshotAsOf)) / HOUR)
  const rulesHours = Math.floor((at - Date.parse(rulesReceivedAt)) / HOUR)
  const reasons: string[] = []
  if (limits && snapshotHours > limits.maxSnapshotAgeHours) {
    reasons.push(`账户数据已 ${snapshotHours} 小时未更新，超过离线办理上限 ${limits.maxSnapshotAgeHours} 小时`)
  }
  if (limits && rulesHours > limits.maxRulesAgeHours) {
    reasons.push(`规则已 ${rulesHours} 小时未同步，超过离线办理上限 ${limits.maxRulesAgeHours} 小时`)
  }
  return {
    snapshotAsOf,
    rulesReceivedAt,
    maxSnapshotAgeHours: limits?.maxSnapshotAgeHours ?? null,
    maxRulesAgeHours: limits?.maxRulesAgeHours ?? null,
    ok: reasons.length === 0,
    reason: reasons.length > 0 ? `${reasons.join('；')}：请先同步数据，再办理` : null,
  }
}
