/**
 * Writes account snapshots exactly as core/sync/protocol.ts says the centre streams them: NDJSON,
 * the header first, the end line last with the count of account and removed lines and the hex
 * SHA-256 of every byte before it. Tests, fault tests and `npm run bench:sync` share it; a test
 * that wants a broken file breaks the text this writes.
 */
import { createHash, type Hash } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { PROTOCOL_VERSION, type AccountLine, type SnapshotHeader } from '../../core/sync/protocol'
import { demoIdNumber } from '../../db/seeds/demo-population'

export type HeaderInput = Omit<SnapshotHeader, 'type' | 'protocol' | 'baseVersion' | 'generatedAt'> &
  Partial<Pick<SnapshotHeader, 'baseVersion' | 'generatedAt'>>

export interface SnapshotWriter {
  /** The header line, with its `\n`: already counted in the digest. */
  readonly header: string
  account(line: Omit<AccountLine, 'type'>): string
  removed(accountNo: string): string
  /** The end line; after it the writer takes nothing more. */
  end(): string
  /** Account and removed lines so far. */
  readonly count: number
}

export function headerLine(input: HeaderInput): SnapshotHeader {
  return {
    type: 'header',
    protocol: PROTOCOL_VERSION,
    snapshotVersion: input.snapshotVersion,
    full: input.full,
    baseVersion: input.baseVersion ?? null,
    regionCodes: input.regionCodes,
    balancesAsOf: input.balancesAsOf,
    generatedAt: input.generatedAt ?? input.balancesAsOf
  }
}

export function createSnapshotWriter(input: HeaderInput): SnapshotWriter {
  const hash: Hash = createHash('sha256')
  let count = 0
  let ended = false
  const emit = (value: object): string => {
    if (ended) throw new Error('snapshot writer: line after the end line')
    const text = `${JSON.stringify(value)}\n`
    hash.update(text, 'utf8')
    return text
  }
  const header = emit(headerLine(input))
  return {
    header,
    account(line) {
      count++
      return emit({ type: 'account', ...line })
    },
    removed(accountNo) {
      count++
      return emit({ type: 'removed', accountNo })
    },
    end() {
      const text = `${JSON.stringify({ type: 'end', count, sha256: hash.digest('hex') })}\n`
      ended = true
      return text
    },
    get count() {
      return count
    }
  }
}

export type SnapshotEntry = Omit<AccountLine, 'type'> | { readonly removed: string }

function write(writer: SnapshotWriter, entry: SnapshotEntry): string {
  return 'removed' in entry ? writer.removed(entry.removed) : writer.account(entry)
}

/** A whole snapshot as one string, for tests small enough to hold it. */
export function snapshotText(input: HeaderInput, entries: Iterable<SnapshotEntry>): string {
  const writer = createSnapshotWriter(input)
  const parts = [writer.header]
  for (const entry of entries) parts.push(write(writer, entry))
  parts.push(writer.end())
  return parts.join('')
}

/** Streams a snapshot to a file (never whole in memory), waiting for the disk when it lags. */
export async function writeSnapshotFile(
  path: string,
  input: HeaderInput,
  entries: Iterable<SnapshotEntry>
): Promise<{ readonly bytes: number; readonly count: number }> {
  const out = createWriteStream(path)
  const writer = createSnapshotWriter(input)
  let pending = writer.header
  const flush = async () => {
    if (!out.write(pending)) await once(out, 'drain')
    pending = ''
  }
  for (const entry of entries) {
    pending += write(writer, entry)
    if (pending.length >= 64 * 1024) await flush()
  }
  pending += writer.end()
  await flush()
  out.end()
  await once(out, 'finish')
  return { bytes: out.bytesWritten, count: writer.count }
}

/** Chunks of `text` as a network body delivers them: arbitrary sizes, cut anywhere (inside a UTF-8 character too). */
export async function* chunked(text: string | Buffer, size = 7919): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '秀英',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀兰',
  '霞'
]

function syntheticName(i: number): string {
  return `${SURNAMES[i % SURNAMES.length]}${GIVEN[Math.floor(i / SURNAMES.length) % GIVEN.length]}`
}

function birth(i: number, fromYear: number): string {
  return `${fromYear + (i % 40)}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}`
}

/**
 * A made-up resident ID, unique per (i, person) for i below 10,000,000: person 0 is the
 * cardholder, 1 and 2 family members. Valid in form (check character) only.
 */
export function syntheticIdNumber(i: number, person: 0 | 1 | 2): string {
  const area = `${['53', '52', '51'][person]}${String(Math.floor(i / 1000) % 10000).padStart(4, '0')}`
  return demoIdNumber(area, birth(i, person === 0 ? 1950 : 1980), String(i % 1000).padStart(3, '0'))
}

export function syntheticAccountNo(i: number): string {
  return `AC${String(i).padStart(10, '0')}`
}

export function syntheticCardNumber(i: number): string {
  return `S${String(i).padStart(8, '0')}`
}

/**
 * Account i of a synthetic population: 0–2 family members and 0–1 holdings (about one member and
 * half a holding on average), regions taken in turn from `regionCodes`.
 */
export function syntheticAccount(
  i: number,
  regionCodes: readonly string[],
  balanceFen = 100_000 + (i % 900_000)
): Omit<AccountLine, 'type'> {
  const members = i % 3
  const family: AccountLine['family'] = []
  for (let k = 1; k <= members; k++) {
    family.push({
      idNumber: syntheticIdNumber(i, k as 1 | 2),
      name: syntheticName(i + k),
      relation: k === 1 ? 'spouse' : 'child',
      boundAt: '2025-03-01T00:00:00.000Z'
    })
  }
  const holdings: AccountLine['holdings'] =
    i % 2 === 0
      ? [
          {
            idNumber: syntheticIdNumber(i, 0),
            productCode: 'HZB-2026',
            coverFrom: '2025-12-31T16:00:00.000Z',
            coverTo: '2026-12-31T15:59:59.000Z'
          }
        ]
      : []
  return {
    accountNo: syntheticAccountNo(i),
    cardNumber: syntheticCardNumber(i),
    idNumber: syntheticIdNumber(i, 0),
    name: syntheticName(i),
    regionCode: regionCodes[i % regionCodes.length],
    insuranceType: i % 5 === 4 ? 'employee_retired' : 'employee_active',
    status: 'active',
    balanceFen,
    historicalBalanceFen: Math.min(50_000, balanceFen),
    spentThisSettlementYearFen: i % 7 === 0 ? 20_000 : 0,
    fitnessCardTransfersFen: 0,
    family,
    holdings
  }
}

/** Accounts `from` to `to - 1` of the synthetic population, generated as they are consumed. */
export function* syntheticAccounts(
  from: number,
  to: number,
  regionCodes: readonly string[]
): Generator<Omit<AccountLine, 'type'>> {
  for (let i = from; i < to; i++) yield syntheticAccount(i, regionCodes)
}
