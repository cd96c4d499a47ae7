import { existsSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type { PersonalDataCipher } from '../../../../db/personal-data'
import type { Logger } from '../../../../core/log'
import { LineRefusal } from '../../../../core/sync/snapshot-refusal'
import { prepareBatch, type PreparedBatch } from './batch'

/** Turns batches of lines into staging rows: on the main thread, or spread over worker threads. */
export interface BatchPreparer {
  /** How many batches may be in preparation at once (0: prepared as they are handed over). */
  readonly parallelism: number
  prepare(
    lines: readonly Buffer[],
    firstLineNo: number,
    regionCodes: readonly string[]
  ): Promise<PreparedBatch>
  close(): Promise<void>
}

export function inlinePreparer(cipher: PersonalDataCipher): BatchPreparer {
  return {
    parallelism: 0,
    async prepare(lines, firstLineNo, regionCodes) {
      return prepareBatch(lines, firstLineNo, { cipher, regionCodes: new Set(regionCodes) })
    },
    async close() {}
  }
}

export interface WorkerInit {
  readonly snapshotWorker: true
  readonly key: Uint8Array
  /** The TypeScript entry, when started through tsx. */
  readonly entry?: string
}

/** One batch: the lines with their `\n`, as one transferred buffer. */
export interface WorkerRequest {
  readonly id: number
  readonly bytes: Uint8Array
  readonly firstLineNo: number
  readonly regionCodes: readonly string[]
}

export type WorkerReply =
  | { readonly id: number; readonly batch: PreparedBatch }
  | { readonly id: number; readonly refusal: { readonly lineNo: number; readonly reason: string } }
  | { readonly id: number; readonly failure: string }

/** Hashed by each worker at start and compared with the main thread's cipher. */
export const WORKER_PROBE = 'yibao-counter/snapshot-worker/probe'

const NEWLINE = Buffer.from('\n')
const WORKER_OLD_GENERATION_MB = 64
/** V8's default young generation for a worker grows to ~48 MB of garbage; 12 MB costs a few per cent of speed. */
const WORKER_YOUNG_GENERATION_MB = 12

/** From source, a worker cannot load TypeScript by itself: it imports the entry through tsx. */
const TYPESCRIPT_BOOTSTRAP = `
  const { workerData } = require('node:worker_threads')
  const { pathToFileURL } = require('node:url')
  import('tsx/esm/api').then(({ tsImport }) => tsImport(workerData.entry, pathToFileURL(process.cwd() + '/').href))
`

/**
 * How to start the worker: from source (tsx, vitest) the TypeScript file beside this module,
 * through tsx; bundled, the `snapshot-worker.js` entry
 * (electron.vite.config.ts) beside the main entry or one folder up from a shared chunk. Null when
 * there is none.
 */
function workerEntry(): { script: URL | string; eval: boolean; entry?: string } | null {
  const here = import.meta.url
  // Loader hooks of the parent (tsx's --import, vitest's) do not reach a worker thread.
  if (here.endsWith('.ts'))
    return { script: TYPESCRIPT_BOOTSTRAP, eval: true, entry: new URL('./worker.ts', here).href }
  for (const candidate of ['./snapshot-worker.js', '../snapshot-worker.js']) {
    const url = new URL(candidate, here)
    if (url.protocol === 'file:' && existsSync(url)) return { script: url, eval: false }
  }
  return null
}

interface Pending {
  resolve(batch: PreparedBatch): void
  reject(error: Error): void
}

/**
 * Starts `count` workers with the personal-data key; null (the caller prepares inline) when no
 * worker can start or a worker's cipher does not hash like `cipher` (a key that is not this
 * database's would seal rows nobody could open).
 */
export async function startWorkerPool(options: {
  key: Uint8Array
  cipher: PersonalDataCipher
  count: number
  log: Logger
}): Promise<BatchPreparer | null> {
  const entry = workerEntry()
  if (entry === null || options.count < 1) return null
  const expectedProbe = options.cipher.lookupHash(WORKER_PROBE).toString('hex')
  const workers: Worker[] = []
  const pending = new Map<number, Pending>()
  let nextId = 0
  let broken: Error | null = null

  const failAll = (error: Error) => {
    broken ??= error
    for (const waiting of pending.values()) waiting.reject(error)
    pending.clear()
  }

  const started = await Promise.allSettled(
    Array.from({ length: options.count }, async () => {
      const init: WorkerInit = { snapshotWorker: true, key: options.key, entry: entry.entry }
      // A worker holds one batch at a time: its heap is capped, and one that runs out is replaced by the main thread.
      const worker = new Worker(entry.script, {
        workerData: init,
        eval: entry.eval,
        resourceLimits: {
          maxOldGenerationSizeMb: WORKER_OLD_GENERATION_MB,
          maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB
        }
      })
      workers.push(worker)
      const probe = await new Promise<string>((resolve, reject) => {
        const exited = (code: number) => reject(new Error(`snapshot worker exited (${code})`))
        worker.once('message', (message: { probe: string }) => {
          // Only its own listeners: Worker keeps internal ones that start the message port.
          worker.off('error', reject)
          worker.off('exit', exited)
          resolve(message.probe)
        })
        worker.once('error', reject)
        worker.once('exit', exited)
      })
      if (probe !== expectedProbe) throw new Error('snapshot worker key does not match the database key')
      worker.on('message', (reply: WorkerReply) => {
        const waiting = pending.get(reply.id)
        if (!waiting) return
        pending.delete(reply.id)
        if ('batch' in reply) waiting.resolve(reply.batch)
        else if ('refusal' in reply)
          waiting.reject(new LineRefusal(reply.refusal.lineNo, reply.refusal.reason))
        else waiting.reject(new Error(`snapshot worker failed: ${reply.failure}`))
      })
      worker.on('error', (error) => failAll(error))
      worker.on('exit', () => failAll(new Error('snapshot worker exited')))
    })
  )
  const close = async () => {
    failAll(new Error('snapshot worker pool closed'))
    await Promise.all(workers.map((worker) => worker.terminate()))
  }
  const failed = started.find((result) => result.status === 'rejected')
  if (failed) {
    options.log.error('snapshot_workers_unavailable', {
      reason: failed.reason instanceof Error ? failed.reason.message.slice(0, 100) : 'unknown'
    })
    await close()
    return null
  }

  return {
    parallelism: workers.length,
    prepare(lines, firstLineNo, regionCodes) {
      if (broken) return Promise.reject(broken)
      // One contiguous buffer of its own, moved (not copied) to the worker.
      let size = 0
      for (const line of lines) size += line.length + 1
      const bytes = Buffer.allocUnsafeSlow(size)
      let at = 0
      for (const line of lines) {
        at += line.copy(bytes, at)
        at += NEWLINE.copy(bytes, at)
      }
      const id = nextId++
      const request: WorkerRequest = { id, bytes, firstLineNo, regionCodes }
      return new Promise<PreparedBatch>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        workers[id % workers.length].postMessage(request, [bytes.buffer])
      })
    },
    close
  }
}
