import { formatYuan } from '../money'
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
export function offlineFreshness(
  bundle: RuleBundle,
  snapshotAsOf: string,
  rulesReceivedAt: string,
  now: string
): OfflineFreshness {
  const limits = bundle.offline
  const at = Date.parse(now)
  const snapshotHours = Math.floor((at - Date.parse(snapshotAsOf)) / HOUR)
  const rulesHours = Math.floor((at - Date.parse(rulesReceivedAt)) / HOUR)
  const reasons: string[] = []
  if (limits && snapshotHours > limits.maxSnapshotAgeHours) {
    reasons.push(
      `账户数据已 ${snapshotHours} 小时未更新，超过离线办理上限 ${limits.maxSnapshotAgeHours} 小时`
    )
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
    reason: reasons.length > 0 ? `${reasons.join('；')}：请先同步数据，再办理` : null
  }
}

/**
 * The bundle's limits on selling while the centre cannot settle at once: one sale's amount, and the
 * amount and number already waiting in the outbox. Pure: what is queued is passed in.
 */
export function offlineSaleBlockers(
  bundle: RuleBundle,
  saleFen: number,
  queued: { readonly count: number; readonly totalFen: number }
): string[] {
  const limits = bundle.offline
  if (!limits || saleFen <= 0) return []
  const yuan = (fen: number) => formatYuan(fen)
  const blockers: string[] = []
  if (limits.maxSaleFen !== undefined && saleFen > limits.maxSaleFen) {
    blockers.push(
      `本笔 ${yuan(saleFen)} 元超过离线单笔上限 ${yuan(limits.maxSaleFen)} 元：请分笔办理，或上传后再办理`
    )
  }
  if (limits.maxQueuedCount !== undefined && queued.count + 1 > limits.maxQueuedCount) {
    blockers.push(`待上传交易已有 ${queued.count} 笔，达到离线上限 ${limits.maxQueuedCount} 笔：请先上传`)
  }
  if (limits.maxQueuedFen !== undefined && queued.totalFen + saleFen > limits.maxQueuedFen) {
    blockers.push(
      `待上传金额将达 ${yuan(queued.totalFen + saleFen)} 元，超过离线上限 ${yuan(limits.maxQueuedFen)} 元：请先上传`
    )
  }
  return blockers
}

/** Whether the region's sales and which products may be sold while the centre cannot be reached. */
export interface AuthorizationMode {
  /** The whole region needs the centre's answer for every sale. */
  readonly regionOnlineOnly: boolean
  /** Products that need it, in a region that otherwise sells offline within limits. */
  readonly onlineOnlyProducts: readonly string[]
  readonly centreReachable: boolean
}

/** Whether the bundle needs the centre's answer for the whole region, and for which products. */
export function onlineAuthorizationOf(bundle: RuleBundle): {
  regionOnlineOnly: boolean
  onlineOnlyProducts: readonly string[]
} {
  return {
    regionOnlineOnly: bundle.offline?.authorization === 'online',
    onlineOnlyProducts: bundle.offline?.onlineOnlyProducts ?? []
  }
}

/** What stops an order while the centre cannot be reached, when the rules need its answer. Pure. */
export function onlineOnlyBlockers(bundle: RuleBundle, productCodes: readonly string[]): string[] {
  const mode = onlineAuthorizationOf(bundle)
  if (mode.regionOnlineOnly)
    return [`${bundle.region.name}的规则要求联网授权：当前连不上医保中心，不能离线办理，请恢复网络后再办理`]
  const needing = [...new Set(productCodes.filter((code) => mode.onlineOnlyProducts.includes(code)))]
  if (needing.length === 0) return []
  const names = needing.map((code) => bundle.products.find((p) => p.code === code)?.name ?? code)
  return [`${names.join('、')}须联网授权：当前连不上医保中心，不能离线办理，请恢复网络后再办理`]
}
