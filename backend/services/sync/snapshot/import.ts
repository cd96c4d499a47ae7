import { availableParallelism } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Knex } from 'knex'
import { AppError } from '../../../../core/errors'
import type { Logger } from '../../../../core/log'
import type { SnapshotEnd, SnapshotHeader } from '../../../../core/sync/protocol'
import { LineRefusal, snapshotRefused as refused } from '../../../../core/sync/snapshot-refusal'
import type { Clock } from '../../../../core/time'
import type { PersonalDataCipher } from '../../../../db/personal-data'
import {
  applyStagedSnapshot,
  currentSnapshot,
  oldestBalanceAsOf,
  SnapshotStaging
} from '../../../../db/repositories/snapshot'
import type { PreparedBatch } from './batch'
import { checkHeader, checkSnapshotLine, LineProblem } from './check'
import { LineTooLongError, MAX_LINE_BYTES, NdjsonLineSplitter } from './lines'
import { inlinePreparer, startWorkerPool, type BatchPreparer } from './preparers'

/**
 * The account snapshot import (docs/sync-protocol.md, "Account snapshot"). The download is read as
 * it arrives, never whole: lines are checked, hashed and sealed in batches, each written to the
 * staging tables (migration 0006) in its own short transaction, so the counter's lookups, which
 * share the one database connection, get their turn between batches. Only when the end line checks
 * out (count, digest, the signed package's digest, a delta's base) is staging applied to the live
 * tables, in one transaction of set-based SQL. Until then, and after any failure, the previous
 * snapshot answers every swipe unchanged.
 */

export interface SnapshotImportResult {
  readonly snapshotVersion: number
  readonly full: boolean
  /** Account lines applied. */
  readonly accounts: number
  /** Accounts that left the snapshot: deleted, or kept as removed where sales refer to them. */
  readonly removed: number
  readonly balancesAsOf: string
  /** False when the snapshot was no newer than the one held (a package imported again): nothing changed. */
  readonly applied: boolean
}

export interface SnapshotImportDeps {
  readonly db: Knex
  readonly cipher: PersonalDataCipher
  readonly clock: Clock
  readonly log: Logger
  /**
   * The key `cipher` was made from. Given, a large snapshot is hashed and sealed on worker threads
   * (most of the import's work); without it, on the main thread, about twice as slowly on two cores.
   */
  readonly personalDataKey?: Uint8Array
}

export interface SnapshotImportOptions {
  /** A signed package repeats the end line's digest; the snapshot must match it. */
  readonly expectedSha256?: string
  /** Worker threads when `personalDataKey` is given (default: one per core, at most 4; 0: none). */
  readonly workers?: number
  /** Told after each batch is staged (lines so far), and once all is in and the switch-over starts. */
  readonly onProgress?: (progress: { phase: 'receiving' | 'applying'; lines: number }) => void
}

/** Lines per staging transaction: about 1 MB of NDJSON, a few tens of milliseconds of the connection. */
export const STAGING_BATCH_LINES = 2000
/** …or fewer when the lines are long (families, many holdings), so a batch's memory stays bounded. */
const STAGING_BATCH_BYTES = 4 * 1024 * 1024

/** Imports running in this process, per database: one at a time, or their staging rows would mix. */
const running = new WeakSet<Knex>()

/** What the end line must agree with. */
interface Received {
  readonly header: SnapshotHeader
  readonly lines: number
  readonly accounts: number
  readonly removed: number
}

function checkEnd(
  end: SnapshotEnd,
  digest: string,
  received: Received,
  endLineNo: number,
  expectedSha256: string | undefined
): void {
  if (end.count !== received.accounts + received.removed) {
    throw refused(
      `结束行（第 ${endLineNo} 行）的行数为 ${end.count}，实际收到 ${received.accounts + received.removed} 行`
    )
  }
  if (end.sha256 !== digest) throw refused('校验值与内容不符，数据在传输或保存中被损坏或改动')
  if (expectedSha256 !== undefined && expectedSha256 !== end.sha256)
    throw refused('快照的校验值与同步包签名中的不一致')
}

/** Parses the last line of the stream, which must be the end line. */
function parseEnd(line: Buffer | null, lineNo: number): SnapshotEnd {
  const truncated = refused(`数据不完整，到第 ${lineNo} 行为止没有结束行（下载中断或文件被截断）`)
  if (line === null) throw truncated
  let value: unknown
  try {
    value = JSON.parse(line.toString('utf8'))
  } catch {
    throw truncated
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined
  if (type !== 'end')
    throw type === 'account' || type === 'removed' ? truncated : refused(`第 ${lineNo} 行应为结束行（end）`)
  const checked = checkSnapshotLine(value)
  if (checked instanceof LineProblem) throw refused(`第 ${lineNo} 行（结束行）：${checked.message}`)
  if (checked.type !== 'end') throw truncated
  return checked.line
}

function toBuffer(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
}

type Staged =
  | {
      readonly kind: 'staged'
      readonly received: Received
      readonly end: SnapshotEnd
      readonly endLineNo: number
      readonly digest: string
    }
  | { readonly kind: 'skipped'; readonly header: SnapshotHeader }

/**
 * Reads the stream line by line and stages it batch by batch. The last line is always held back:
 * only when the stream ends is it known to be the end line, which is checked rather than staged.
 */
class StreamStager {
  private readonly splitter = new NdjsonLineSplitter()
  private header: SnapshotHeader | null = null
  private held: Buffer | null = null
  private pending: Buffer[] = []
  private pendingFirstLineNo = 2
  private readonly inline: BatchPreparer
  private preparer: BatchPreparer
  private pool: BatchPreparer | null = null
  private workersTried = false
  private pendingBytes = 0
  /** Batches being prepared, in line order; each already has a rejection handler, so none goes unhandled. */
  private readonly preparing: Array<Promise<PreparedBatch>> = []
  private writing: Promise<void> | null = null
  private accounts = 0
  private removed = 0

  constructor(
    private readonly deps: SnapshotImportDeps,
    private readonly staging: SnapshotStaging,
    private readonly current: { version: number },
    private readonly options: SnapshotImportOptions
  ) {
    this.inline = inlinePreparer(deps.cipher)
    this.preparer = this.inline
  }

  async run(source: AsyncIterable<Uint8Array | string>): Promise<Staged> {
    const iterator = source[Symbol.asyncIterator]()
    try {
      for (;;) {
        let step: IteratorResult<Uint8Array | string>
        try {
          step = await iterator.next()
        } catch (error) {
          // The source failed (network gone, file unreadable): what was read is discarded.
          this.deps.log.error('snapshot_source_failed', {
            line: this.splitter.lineNo,
            error: error instanceof Error ? error.name : 'unknown'
          })
          throw refused(`读到第 ${this.splitter.lineNo} 行时数据中断（网络断开或文件无法读取）`)
        }
        if (step.done) break
        let lines: Buffer[]
        try {
          lines = this.splitter.push(toBuffer(step.value))
        } catch (error) {
          if (error instanceof LineTooLongError)
            throw refused(`第 ${error.lineNo} 行超过 ${MAX_LINE_BYTES / 1024 / 1024} MB，不是快照的行`)
          throw error
        }
        for (const line of lines) {
          if ((await this.take(line)) === 'skip') return { kind: 'skipped', header: this.requireHeader() }
        }
      }
      const tail = this.splitter.finish()
      if (tail !== null && (await this.take(tail)) === 'skip')
        return { kind: 'skipped', header: this.requireHeader() }
      const header = this.requireHeader()
      const lastLineNo = this.splitter.lineNo - 1
      const endLine = this.held
      await this.flush()
      await this.drain()
      const end = parseEnd(endLine, lastLineNo)
      const received = { header, lines: lastLineNo, accounts: this.accounts, removed: this.removed }
      return {
        kind: 'staged',
        received,
        end,
        endLineNo: lastLineNo,
        digest: this.splitter.digestBeforeLastLine()
      }
    } finally {
      // A batch still being written must finish (or fail) before staging is cleared.
      await this.writing?.catch(() => undefined)
      await this.pool?.close()
      // Stop a download or close a file that is not read to its end.
      await iterator.return?.()?.catch(() => undefined)
    }
  }

  private requireHeader(): SnapshotHeader {
    if (this.header === null) throw refused('没有收到任何数据')
    return this.header
  }

  private async take(line: Buffer): Promise<'skip' | 'go'> {
    if (this.header === null) {
      const header = acceptHeader(line, this.current, this.deps)
      this.header = header
      if (header.full && header.snapshotVersion <= this.current.version) return 'skip'
      await this.staging.claim()
      return 'go'
    }
    if (this.held !== null) {
      this.pending.push(this.held)
      this.pendingBytes += this.held.length
      if (this.pending.length >= STAGING_BATCH_LINES || this.pendingBytes >= STAGING_BATCH_BYTES)
        await this.flush(true)
    }
    this.held = line
    return 'go'
  }

  private async flush(full = false): Promise<void> {
    const header = this.header
    if (this.pending.length === 0 || header === null) return
    // Workers only for a snapshot of more than one batch: starting them costs more than a small delta.
    if (full && !this.workersTried) {
      this.workersTried = true
      await this.startWorkers()
    }
    const lines = this.pending
    const firstLineNo = this.pendingFirstLineNo
    const preparer = this.preparer
    const batch = preparer.prepare(lines, firstLineNo, header.regionCodes).catch((error: unknown) => {
      if (error instanceof LineRefusal || preparer === this.inline) throw error
      // A worker failed (out of memory, killed): this batch and the rest are prepared here.
      this.deps.log.error('snapshot_worker_failed', {
        line: firstLineNo,
        error: error instanceof Error ? error.message.slice(0, 100) : 'unknown'
      })
      this.preparer = this.inline
      return this.inline.prepare(lines, firstLineNo, header.regionCodes)
    })
    batch.catch(() => undefined)
    this.preparing.push(batch)
    this.pendingFirstLineNo += lines.length
    this.pending = []
    this.pendingBytes = 0
    // Batches in preparation on the workers, one being written: memory stays flat.
    while (this.preparing.length > this.preparer.parallelism) await this.writeNext()
  }

  private async startWorkers(): Promise<void> {
    const key = this.deps.personalDataKey
    // One per core: the main thread mostly waits (on the stream, on SQLite), measured faster than leaving it a core.
    const count = this.options.workers ?? Math.min(4, availableParallelism())
    if (key === undefined || count < 1) return
    this.pool = await startWorkerPool({ key, cipher: this.deps.cipher, count, log: this.deps.log })
    if (!this.pool) return
    this.preparer = this.pool
    this.deps.log.info('snapshot_workers_started', { workers: this.pool.parallelism })
  }

  /** Writes the oldest prepared batch, after the one before it. */
  private async writeNext(): Promise<void> {
    const next = this.preparing.shift()
    if (next === undefined) return
    const batch = await next
    this.accounts += batch.accounts
    this.removed += batch.removed
    const previous = this.writing
    this.writing = null
    if (previous) await previous
    const lines = this.accounts + this.removed
    this.writing = this.staging
      .write(batch)
      .then(() => this.options.onProgress?.({ phase: 'receiving', lines }))
  }

  private async drain(): Promise<void> {
    while (this.preparing.length > 0) await this.writeNext()
    const last = this.writing
    this.writing = null
    if (last) await last
  }
}

function acceptHeader(line: Buffer, current: { version: number }, deps: SnapshotImportDeps): SnapshotHeader {
  let value: unknown
  try {
    value = JSON.parse(line.toString('utf8'))
  } catch {
    throw refused('第 1 行不是有效的 JSON')
  }
  const header = checkHeader(value)
  if (header instanceof LineProblem) throw refused(`第 1 行应为头行（header）：${header.message}`)
  if (!header.full) {
    if (header.baseVersion !== current.version) {
      throw refused(
        `增量快照基于版本 ${header.baseVersion ?? '（未注明）'}，本机现有版本 ${current.version}，需先下载完整快照`
      )
    }
    // Equal versions: nothing changed since, which is news too (the balances are confirmed as of now).
    if (header.snapshotVersion < header.baseVersion)
      throw refused(`增量快照的版本 ${header.snapshotVersion} 比基础版本 ${header.baseVersion} 旧`)
  }
  deps.log.info('snapshot_import_started', {
    version: header.snapshotVersion,
    full: header.full,
    held: current.version
  })
  return header
}

export async function importSnapshot(
  deps: SnapshotImportDeps,
  source: AsyncIterable<Uint8Array | string>,
  options: SnapshotImportOptions = {}
): Promise<SnapshotImportResult> {
  if (running.has(deps.db)) throw refused('另一次账户快照导入正在进行，请稍后再试')
  running.add(deps.db)
  const started = performance.now()
  const staging = new SnapshotStaging(deps.db, deps.clock)
  try {
    const current = await currentSnapshot(deps.db)
    const staged = await new StreamStager(deps, staging, current, options).run(source)
    if (staged.kind === 'skipped') {
      const { header } = staged
      deps.log.info('snapshot_skipped', { version: header.snapshotVersion, held: current.version })
      return {
        snapshotVersion: header.snapshotVersion,
        full: header.full,
        accounts: 0,
        removed: 0,
        balancesAsOf: header.balancesAsOf,
        applied: false
      }
    }
    const { received, end, endLineNo, digest } = staged
    checkEnd(end, digest, received, endLineNo, options.expectedSha256)
    const stageMs = performance.now() - started
    const applyStarted = performance.now()
    options.onProgress?.({ phase: 'applying', lines: received.accounts + received.removed })
    const { removed, transactionMs, steps } = await applyStagedSnapshot(deps.db, staging, received, {
      now: deps.clock.now().toISOString(),
      log: deps.log
    })
    const applyMs = performance.now() - applyStarted
    deps.log.info('snapshot_imported', {
      version: received.header.snapshotVersion,
      full: received.header.full,
      accounts: received.accounts,
      removedLines: received.removed,
      removed,
      stageMs: Math.round(stageMs),
      // The apply transaction: how long the counter's lookups wait; applyMs adds the checkpoint beside it.
      transactionMs: Math.round(transactionMs),
      ...steps,
      applyMs: Math.round(applyMs)
    })
    return {
      snapshotVersion: received.header.snapshotVersion,
      full: received.header.full,
      accounts: received.accounts,
      removed,
      balancesAsOf: received.header.balancesAsOf,
      applied: true
    }
  } catch (error) {
    const refusal = error instanceof LineRefusal ? refused(error.message) : error
    if (refusal instanceof AppError && refusal.code === 'SNAPSHOT_REFUSED') {
      // The message names lines and fields, never their content.
      deps.log.error('snapshot_refused', {
        line: error instanceof LineRefusal ? error.lineNo : null,
        message: refusal.message
      })
      throw refusal
    }
    deps.log.error('snapshot_import_failed', { error: error instanceof Error ? error.name : 'unknown' })
    throw refused('写入本机数据库时出错')
  } finally {
    await staging.clear().catch((error: unknown) => {
      // The next import clears it anyway; only the disk space waits.
      deps.log.error('snapshot_staging_clear_failed', {
        error: error instanceof Error ? error.name : 'unknown'
      })
    })
    running.delete(deps.db)
  }
}

/** What the sync and the file transport need of snapshots: import a stream, and say which one is held. */
export interface SnapshotStore {
  importSnapshot(
    source: AsyncIterable<Uint8Array | string>,
    options?: SnapshotImportOptions
  ): Promise<SnapshotImportResult>
  current(): Promise<{ version: number; balancesAsOf: string | null }>
  /** Balances-as-of of the oldest account, when no snapshot was ever downloaded (demo data). */
  oldestBalanceAsOf(): Promise<string | null>
}

export function createSnapshotStore(deps: SnapshotImportDeps): SnapshotStore {
  return {
    importSnapshot: (source, options) => importSnapshot(deps, source, options),
    current: () => currentSnapshot(deps.db),
    oldestBalanceAsOf: () => oldestBalanceAsOf(deps.db)
  }
}
