import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  LineTooLongError,
  MAX_LINE_BYTES,
  NdjsonLineSplitter
} from '../../../backend/services/sync/snapshot/lines'

function splitAll(bytes: Buffer, chunkSize: number): { lines: string[]; digest: string } {
  const splitter = new NdjsonLineSplitter()
  const lines: string[] = []
  for (let at = 0; at < bytes.length; at += chunkSize) {
    for (const line of splitter.push(bytes.subarray(at, at + chunkSize))) lines.push(line.toString('utf8'))
  }
  const tail = splitter.finish()
  if (tail) lines.push(tail.toString('utf8'))
  return { lines, digest: splitter.digestBeforeLastLine() }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

describe('splitting a snapshot stream into lines', () => {
  const body = '{"type":"header"}\n{"name":"张伟"}\n{"name":"李娜","n":1}\n'
  const text = `${body}{"type":"end"}\n`

  it('gives the same lines and digest whatever the chunk size, cuts inside a UTF-8 character included', () => {
    for (const size of [1, 2, 3, 5, 7, 16, 64, 10_000]) {
      const { lines, digest } = splitAll(Buffer.from(text, 'utf8'), size)
      expect(lines).toEqual([
        '{"type":"header"}',
        '{"name":"张伟"}',
        '{"name":"李娜","n":1}',
        '{"type":"end"}'
      ])
      expect(digest, `chunks of ${size}`).toBe(sha256(body))
    }
  })

  it('takes a last line without its newline, and hashes everything before it', () => {
    const { lines, digest } = splitAll(Buffer.from(`${body}{"type":"end"}`, 'utf8'), 4)
    expect(lines.at(-1)).toBe('{"type":"end"}')
    expect(digest).toBe(sha256(body))
  })

  it('numbers lines from 1 as they are handed out', () => {
    const splitter = new NdjsonLineSplitter()
    expect(splitter.lineNo).toBe(1)
    expect(splitter.push(Buffer.from('a\nb\nc'))).toHaveLength(2)
    expect(splitter.lineNo).toBe(3)
    expect(splitter.finish()?.toString()).toBe('c')
    expect(splitter.lineNo).toBe(4)
  })

  it('hands out empty lines as empty, so the importer can refuse them', () => {
    expect(splitAll(Buffer.from('a\n\nb\n'), 2).lines).toEqual(['a', '', 'b'])
  })

  it('refuses a line longer than any snapshot line instead of buffering it', () => {
    const splitter = new NdjsonLineSplitter()
    splitter.push(Buffer.from('ok\n'))
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    expect(() => {
      for (let sent = 0; sent <= MAX_LINE_BYTES; sent += chunk.length) splitter.push(chunk)
    }).toThrow(LineTooLongError)
    try {
      splitter.push(chunk)
    } catch (error) {
      expect((error as LineTooLongError).lineNo).toBe(2)
    }
  })

  it('does not keep a large chunk alive for the short line held back from it', () => {
    const splitter = new NdjsonLineSplitter()
    const big = Buffer.from('{"n":1}\n'.repeat(100_000))
    expect(splitter.push(big)).toHaveLength(100_000)
    const held = (splitter as unknown as { held: Buffer }).held
    expect(held.buffer.byteLength).toBeLessThan(big.length)
  })
})
