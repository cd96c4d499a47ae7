import { formatYuan, type Fen } from '../money'
import type { RuleBundle } from '../rules/bundle'

/**
 * What the status bar shows of the link to the centre: always online or offline, when the terminal
 * last synced, what waits for upload, what the centre refused, and how close the offline limits are.
 */
export interface SyncStatusView {
  readonly registered: boolean
  readonly terminalId: string
  /** The centre's address as configured; null until registration. */
  readonly centreUrl: string | null
  /** online: the last exchange with the centre succeeded recently; never: no exchange yet. */
  readonly connection: 'online' | 'offline' | 'never'
  /** A sync or upload is running now. */
  readonly busy: boolean
  /** UTC ISO of the last successful exchange of any kind. */
  readonly lastContactAt: string | null
  /** UTC ISO of the last complete sync (rules checked and snapshot current). */
  readonly lastSyncAt: string | null
  /** The last failure, in Chinese, until the next success. */
  readonly lastError: string | null
  readonly snapshot: { readonly version: number; readonly balancesAsOf: string | null }
  readonly queue: {
    /** Sales the centre has not answered: never sent (待上传) and sent without an answer (待确认). */
    readonly count: number
    readonly totalFen: Fen
    /** Of `count`, the sales sent at least once without an answer (status `uploaded`, 待确认). */
    readonly awaitingAnswer: number
    /** Reversals of sales the centre has, waiting to go up too (not counted in `count`). */
    readonly reversals: number
    readonly oldestAt: string | null
    readonly nextAttemptAt: string | null
  }
  /** Transactions the centre rejected that no supervisor has followed up yet (rejections.followUp, #7). */
  readonly rejectedCount: number
  /** The tightest offline limits across this terminal's regions, tightest first. */
  readonly limits: readonly OfflineLimitView[]
  /** UTC ISO of the next automatic sync, when one is planned. */
  readonly nextSyncAt: string | null
  /** The last exchange by file (a queue exported, a package imported), else null. */
  readonly lastFileExchange: { readonly at: string; readonly kind: 'export' | 'import' } | null
  /** An account snapshot coming down now (a first one takes a while), else null. */
  readonly snapshotProgress: SnapshotProgressView | null
}

/** What a snapshot download has done so far: lines received and written, of how many, how long left. */
export interface SnapshotProgressView {
  /** receiving: lines coming in and staged; applying: all received, the switch-over running. */
  readonly phase: 'receiving' | 'applying'
  readonly lines: number
  /** The centre's count of account lines to come (its `x-snapshot-lines`); null when it gave none. */
  readonly expectedLines: number | null
  /** 0–100, whole; null without an expected count. */
  readonly percent: number | null
  /** Estimated from the pace so far; null at the start, without a count, or while applying. */
  readonly secondsLeft: number | null
  readonly startedAt: string
}

/** The progress as shown, from what the import counted so far (pure: the status call and tests share it). */
export function snapshotProgressView(
  progress: {
    phase: 'receiving' | 'applying'
    lines: number
    expectedLines: number | null
    startedAt: string
  },
  now: string
): SnapshotProgressView {
  const { lines, expectedLines, phase } = progress
  const elapsedMs = Date.parse(now) - Date.parse(progress.startedAt)
  const percent =
    expectedLines === null
      ? null
      : phase === 'applying' || expectedLines === 0
        ? 100
        : Math.min(99, Math.floor((lines / expectedLines) * 100))
  // A pace needs a little to go on: a first batch and a second of time.
  const secondsLeft =
    expectedLines === null || phase === 'applying' || lines === 0 || elapsedMs < 1000
      ? null
      : Math.max(0, Math.ceil(((expectedLines - lines) * elapsedMs) / lines / 1000))
  return { ...progress, percent, secondsLeft }
}

export type LimitLevel = 'ok' | 'near' | 'reached'

export interface OfflineLimitView {
  readonly kind: 'rulesAge' | 'snapshotAge' | 'queuedFen' | 'queuedCount'
  readonly regionName: string
  readonly level: LimitLevel
  /** Age limits: when selling stops (UTC ISO), for a countdown. */
  readonly deadline: string | null
  /** Chinese, with the numbers: "规则还可离线使用 5 小时" and the like. */
  readonly text: string
}

const HOUR = 3_600_000
/** An age limit is "near" inside this share of it, or inside a day, whichever is longer. */
const NEAR_SHARE = 0.2
const NEAR_HOURS = 24

export interface LimitInputs {
  readonly bundle: RuleBundle
  /** When this terminal last had the rules confirmed current by the centre (or received them). */
  readonly rulesCheckedAt: string
  /** When the account balances were true at the centre. */
  readonly balancesAsOf: string
  readonly queued: { readonly count: number; readonly totalFen: Fen }
  readonly now: string
}

function ageLimit(
  kind: 'rulesAge' | 'snapshotAge',
  regionName: string,
  since: string,
  maxHours: number,
  now: string
): OfflineLimitView {
  const deadlineMs = Date.parse(since) + maxHours * HOUR
  const leftMs = deadlineMs - Date.parse(now)
  const nearMs = Math.max(maxHours * NEAR_SHARE, NEAR_HOURS) * HOUR
  const level: LimitLevel = leftMs <= 0 ? 'reached' : leftMs <= nearMs ? 'near' : 'ok'
  const what = kind === 'rulesAge' ? '规则' : '账户数据'
  const hoursLeft = Math.max(0, Math.floor(leftMs / HOUR))
  const text =
    level === 'reached'
      ? `${regionName}${what}已超过离线上限 ${maxHours} 小时，停止办理：请同步`
      : `${regionName}${what}还可离线使用 ${hoursLeft} 小时`
  return { kind, regionName, level, deadline: new Date(deadlineMs).toISOString(), text }
}

function amountLimit(
  kind: 'queuedFen' | 'queuedCount',
  regionName: string,
  used: number,
  max: number
): OfflineLimitView {
  const left = max - used
  const level: LimitLevel = left <= 0 ? 'reached' : left <= max * NEAR_SHARE ? 'near' : 'ok'
  const text =
    kind === 'queuedFen'
      ? `待上传 ${formatYuan(used)} 元，离线上限 ${formatYuan(max)} 元`
      : `待上传 ${used} 笔，离线上限 ${max} 笔`
  return { kind, regionName, level, deadline: null, text }
}

const LEVEL_ORDER: Record<LimitLevel, number> = { reached: 0, near: 1, ok: 2 }

/**
 * Pure: every offline limit of every region's bundle, tightest first (reached, near, then soonest
 * deadline). Regions whose limit falls at the same moment (rules synced together, say) share one
 * line: "衢州市等 6 个地区规则还可离线使用 …".
 */
export function offlineLimits(inputs: readonly LimitInputs[]): OfflineLimitView[] {
  type Limit = { build: (regionName: string) => OfflineLimitView; regions: string[] }
  const byKey = new Map<string, Limit>()
  const add = (key: string, region: string, build: Limit['build']) => {
    const found = byKey.get(key)
    if (found) found.regions.push(region)
    else byKey.set(key, { build, regions: [region] })
  }
  for (const { bundle, rulesCheckedAt, balancesAsOf, queued, now } of inputs) {
    const limits = bundle.offline
    if (!limits) continue
    const region = bundle.region.name
    const { maxRulesAgeHours, maxSnapshotAgeHours, maxQueuedFen, maxQueuedCount } = limits
    add(`rules|${rulesCheckedAt}|${maxRulesAgeHours}|${now}`, region, (name) =>
      ageLimit('rulesAge', name, rulesCheckedAt, maxRulesAgeHours, now)
    )
    add(`snapshot|${balancesAsOf}|${maxSnapshotAgeHours}|${now}`, region, (name) =>
      ageLimit('snapshotAge', name, balancesAsOf, maxSnapshotAgeHours, now)
    )
    if (maxQueuedFen !== undefined)
      add(`fen|${queued.totalFen}|${maxQueuedFen}`, region, (name) =>
        amountLimit('queuedFen', name, queued.totalFen, maxQueuedFen)
      )
    if (maxQueuedCount !== undefined)
      add(`count|${queued.count}|${maxQueuedCount}`, region, (name) =>
        amountLimit('queuedCount', name, queued.count, maxQueuedCount)
      )
  }
  const views = [...byKey.values()].map(({ build, regions }) =>
    build(regions.length === 1 ? regions[0] : `${regions[0]}等 ${regions.length} 个地区`)
  )
  return views.sort(
    (a, b) =>
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      (a.deadline ?? '9999').localeCompare(b.deadline ?? '9999')
  )
}

/** Exponential backoff with full jitter: a random wait in [0, min(cap, base·2^attempt)). */
export function retryDelayMs(
  attempt: number,
  random: () => number,
  options: { baseMs?: number; capMs?: number } = {}
): number {
  const base = options.baseMs ?? 5_000
  const cap = options.capMs ?? 15 * 60_000
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30))
  // Never zero: a retry storm after an outage is what the jitter is there to prevent.
  return Math.max(base / 5, Math.floor(random() * ceiling))
}
