import { parentPort, workerData } from 'node:worker_threads'
import { createPersonalDataCipher } from '../../../../db/personal-data'
import { LineRefusal } from '../../../../core/sync/snapshot-refusal'
import { prepareBatch } from './batch'
import { WORKER_PROBE, type WorkerInit, type WorkerReply, type WorkerRequest } from './preparers'

/**
 * A worker thread that prepares snapshot batches (parse, check, hash, seal): hashing and sealing
 * cost about 20 µs an account, most of the import's work, so they are spread over the cores while
 * the main thread reads the stream and writes staging. Its cipher is made from the same key as
 * the main thread's; the pool checks that both hash alike before using it.
 */

function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let start = 0
  for (let nl = bytes.indexOf(0x0a, start); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, nl))
    start = nl + 1
  }
  return lines
}

const port = parentPort
const init = workerData as WorkerInit | null
// Only as the pool's worker: this module may be loaded elsewhere (a bundler, a test runner's thread).
if (port && init?.snapshotWorker === true) {
  const cipher = createPersonalDataCipher(Buffer.from(init.key))
  port.postMessage({ probe: cipher.lookupHash(WORKER_PROBE).toString('hex') })
  port.on('message', (request: WorkerRequest) => {
    let reply: WorkerReply
    try {
      const bytes = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength)
      const batch = prepareBatch(splitLines(bytes), request.firstLineNo, {
        cipher,
        regionCodes: new Set(request.regionCodes)
      })
      reply = { id: request.id, batch }
    } catch (error) {
      reply =
        error instanceof LineRefusal
          ? { id: request.id, refusal: { lineNo: error.lineNo, reason: error.reason } }
          : { id: request.id, failure: error instanceof Error ? error.name : 'unknown' }
    }
    port.postMessage(reply)
  })
}
