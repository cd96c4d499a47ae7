import { createHash, type Hash } from 'node:crypto'

/** Longer than any account line can be (20 family members, 200 holdings): a stream without newlines is refused, not buffered. */
export const MAX_LINE_BYTES = 1024 * 1024

const NEWLINE = 0x0a
const EMPTY = Buffer.alloc(0)

/** A line too long to be a snapshot line; `lineNo` is the line it would have been. */
export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError'
  constructor(readonly lineNo: number) {
    super(`line ${lineNo} longer than ${MAX_LINE_BYTES} bytes`)
  }
}

/**
 * Splits an NDJSON byte stream into lines on Buffers (no per-character string work) and hashes it
 * on the way: the SHA-256 the snapshot's end line states covers every byte before the end line,
 * and only the last line can be the end line, so the hash always lags by exactly one line.
 *
 * Lines are views into the received chunks (without their `\n`); they stay valid as long as they
 * are referenced.
 */
export class NdjsonLineSplitter {
  private readonly hash: Hash = createHash('sha256')
  /** Bytes not hashed yet: the last complete line (already handed out) and the partial line after it. */
  private held: Buffer = EMPTY
  /** Where, in `held`, the partial line starts (everything before it was handed out). */
  private partialStart = 0
  private nextLineNo = 1
  private digested = false

  /** The line number the next line handed out will have (1-based). */
  get lineNo(): number {
    return this.nextLineNo
  }

  /** The complete lines this chunk finishes, in order. The first has number `lineNo` as read before the call. */
  push(chunk: Uint8Array): Buffer[] {
    if (chunk.byteLength === 0) return []
    const incoming = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const buf = this.held.length === 0 ? incoming : Buffer.concat([this.held, incoming])
    const lines: Buffer[] = []
    let start = this.partialStart
    let lastStart = -1
    for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      lines.push(buf.subarray(start, nl))
      lastStart = start
      start = nl + 1
    }
    if (buf.length - start > MAX_LINE_BYTES) throw new LineTooLongError(this.nextLineNo + lines.length)
    if (lastStart === -1) {
      // No line finished: keep everything (nothing new may be hashed, the held line may still be the end line).
      this.held = buf
      return lines
    }
    this.update(buf.subarray(0, lastStart))
    // Copied, so a small held line does not pin a large chunk.
    this.held = Buffer.from(buf.subarray(lastStart))
    this.partialStart = start - lastStart
    this.nextLineNo += lines.length
    return lines
  }

  /** At the end of the stream: the last line when the stream did not end with `\n`, else null. */
  finish(): Buffer | null {
    if (this.partialStart >= this.held.length) return null
    const last = this.held.subarray(this.partialStart)
    this.nextLineNo += 1
    // The unterminated line is now the last line: hash what was held before it.
    this.update(this.held.subarray(0, this.partialStart))
    this.held = last
    this.partialStart = last.length
    return last
  }

  /** Hex SHA-256 of every byte before the last line handed out. Once only: hashing stops here. */
  digestBeforeLastLine(): string {
    this.digested = true
    return this.hash.digest('hex')
  }

  private update(bytes: Buffer): void {
    if (bytes.length > 0 && !this.digested) this.hash.update(bytes)
  }
}
