import { createHash, createPublicKey, verify } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import type { Knex } from 'knex'
import {
  ENCRYPTED_PACKAGE_FORMAT,
  ENCRYPTED_QUEUE_FILE_FORMAT,
  PACKAGE_FILE_FORMAT,
  QUEUE_FILE_FORMAT,
  queueFilePayloadSchema,
  signedFileSchema,
  type ItemResult,
  type PackagePayload,
  type SignedFile
} from '../core/sync/protocol'
import type { Clock } from '../core/time'
import {
  silentLogger,
  type Logger,
  signPayload,
  decryptQueueFile,
  packageEncryptor,
  parseEncryptedQueueFile,
  QueueFileUnreadable
} from '../backend/shared'
import { currentBundle, type BundleCache } from './rules'
import { issueDuePolicies, issuedPoliciesOf } from './policies'
import { stampPending } from './db/state'
import { newBatchOrder, settleItems } from './settle'
import { streamWriter, writeSnapshot, type SnapshotWritten } from './snapshot'
import { findTerminal, whyNotInService, type TerminalRecord } from './terminals'
import { DEMO_CENTRE_PRIVATE_KEY_FILE, fileKeyById } from './file-key'

/**
 * The file transport for agents out of reach for days: a terminal's signed queue file is settled
 * exactly like an upload (same deduplication, so importing it twice changes nothing), and a sync
 * package carries rules, a full snapshot and the centre's results back.
 */

/** The file is not accepted: nothing was settled. */
export class FileRefused extends Error {
  override readonly name = 'FileRefused'
  readonly code = 'FILE_REFUSED'
}

export { DEMO_CENTRE_PRIVATE_KEY_FILE }

export interface QueueImport {
  readonly terminalId: string
  readonly results: readonly ItemResult[]
  /** How many items had each outcome, and rejections by code. */
  readonly summary: Readonly<Record<string, number>>
}

const CHUNK_ITEMS = 500

/**
 * The terminal that sent a queue file and the payload text: an encrypted file (version 2) is checked
 * against the terminal's registered key, then decrypted with the centre's file key it names; a
 * version 1 file (signed, in the clear, from a terminal not updated yet) is checked likewise.
 */
async function openQueueFile(
  db: Knex,
  value: unknown
): Promise<{ terminal: TerminalRecord; payload: string }> {
  const encrypted = parseEncryptedQueueFile(value)
  if (encrypted) {
    const terminal = await findTerminal(db, encrypted.terminalId)
    if (!terminal)
      throw new FileRefused(`待上传文件的${await whyNotInService(db, encrypted.terminalId)}；未导入任何交易`)
    const key = await fileKeyById(db, encrypted.recipientKeyId)
    if (!key)
      throw new FileRefused(
        `待上传文件是加密给另一个中心密钥（${encrypted.recipientKeyId.slice(0, 40)}）的，本中心无法解密；未导入任何交易`
      )
    try {
      return {
        terminal,
        payload: decryptQueueFile(encrypted, {
          terminalPublicKeyPem: terminal.publicKeyPem,
          recipientPrivateKeyPem: key.privateKeyPem
        })
      }
    } catch (error) {
      if (error instanceof QueueFileUnreadable) throw new FileRefused(`${error.message}；未导入任何交易`)
      throw error
    }
  }
  const file = signedFileSchema.safeParse(value)
  if (!file.success || file.data.format !== QUEUE_FILE_FORMAT)
    throw new FileRefused(`文件格式不正确：应为 ${ENCRYPTED_QUEUE_FILE_FORMAT} 或 ${QUEUE_FILE_FORMAT}`)
  const { keyId, payload, signature } = file.data
  const terminal = await findTerminal(db, keyId)
  if (!terminal) throw new FileRefused(`待上传文件的${await whyNotInService(db, keyId)}；未导入任何交易`)
  let valid: boolean
  try {
    const bytes = Buffer.from(signature, 'base64')
    valid =
      bytes.toString('base64') === signature &&
      verify(null, Buffer.from(payload, 'utf8'), createPublicKey(terminal.publicKeyPem), bytes)
  } catch {
    valid = false
  }
  if (!valid)
    throw new FileRefused('待上传文件签名验证失败：内容可能被改动，或不是该终端签名的；未导入任何交易')
  return { terminal, payload }
}

/**
 * Verifies the queue file with the key the terminal registered (its `keyId` is the terminal id),
 * then settles its items in order, 500 to a transaction.
 */
export async function importQueueFile(
  db: Knex,
  text: string,
  options: { clock: Clock; bundles: BundleCache; log?: Logger }
): Promise<QueueImport> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new FileRefused('待上传文件不是有效的签名文件（无法解析）')
  }
  const { terminal, payload } = await openQueueFile(db, value)
  let contents: unknown
  try {
    contents = JSON.parse(payload)
  } catch {
    contents = null
  }
  const parsed = queueFilePayloadSchema.safeParse(contents)
  if (!parsed.success) throw new FileRefused('待上传文件内容不符合协议；未导入任何交易')
  if (parsed.data.terminalId !== terminal.id)
    throw new FileRefused('待上传文件内的终端编号与签名终端不符；未导入任何交易')

  const order = newBatchOrder()
  const results: ItemResult[] = []
  const context = {
    terminal,
    clock: options.clock,
    bundles: options.bundles,
    isLocked: () => false,
    log: options.log ?? silentLogger
  }
  for (let i = 0; i < parsed.data.items.length; i += CHUNK_ITEMS) {
    results.push(...(await settleItems(db, context, parsed.data.items.slice(i, i + CHUNK_ITEMS), order)))
  }
  const summary: Record<string, number> = {}
  for (const result of results) {
    const key = result.outcome === 'rejected' ? `rejected:${result.code}` : result.outcome
    summary[key] = (summary[key] ?? 0) + 1
  }
  return { terminalId: terminal.id, results, summary }
}

export async function readQueueFileText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new FileRefused(`无法读取待上传文件（${(error as NodeJS.ErrnoException).code ?? '未知错误'}）`)
  }
}

export interface PackageExport {
  readonly file: string
  readonly snapshot: SnapshotWritten
  readonly ruleEnvelopes: number
  readonly results: number
}

const MAX_PACKAGE_RESULTS = 100_000

/**
 * A sync package for one terminal: the first line is the signed header (payload: the current rule
 * envelope of each region, the snapshot's digest and the centre's results for the terminal's
 * items), then a full snapshot exactly as `GET /v1/snapshot` streams it. The snapshot is streamed
 * to a side file first (its digest goes into the header), then both are joined and renamed into
 * place, so a crash never leaves half a package under the real name.
 */
export async function exportPackage(
  db: Knex,
  options: {
    terminalId: string
    file: string
    clock: Clock
    bundles: BundleCache
    privateKeyPem: string
    keyId: string
    reader?: Knex
  }
): Promise<PackageExport> {
  const terminal = await findTerminal(db, options.terminalId)
  if (!terminal) throw new FileRefused(`${await whyNotInService(db, options.terminalId)}，不为它制作数据包`)
  // Written in the protocol the terminal last spoke: an older terminal refuses what it does not know.
  const protocol = terminal.protocolVersion
  await issueDuePolicies(db, options.clock)
  await stampPending(db, options.clock.now().toISOString())
  const ruleEnvelopes: string[] = []
  for (const region of terminal.regionCodes) {
    const current = await currentBundle(db, region, protocol)
    if (current) ruleEnvelopes.push(current.envelope)
  }
  const stored: Array<{
    item_id: string
    outcome: 'accepted' | 'rejected'
    code: string | null
    message: string | null
    settled_at: string
    reference: string | null
  }> = await db('item_results')
    .where({ terminal_id: terminal.id })
    .orderBy([
      { column: 'settled_at', order: 'desc' },
      { column: 'item_id', order: 'desc' }
    ])
    .limit(MAX_PACKAGE_RESULTS)
    .select('item_id', 'outcome', 'code', 'message', 'settled_at', 'reference')
  const results: ItemResult[] = stored.reverse().map((row) =>
    row.outcome === 'accepted'
      ? {
          itemId: row.item_id,
          outcome: 'accepted',
          settledAt: row.settled_at,
          ...(row.reference ? { reference: row.reference } : {})
        }
      : {
          itemId: row.item_id,
          outcome: 'rejected',
          code: row.code ?? 'INVALID_ITEM',
          message: row.message ?? '',
          settledAt: row.settled_at
        }
  )

  const filePublicKeyPem = terminal.filePublicKeyPem
  if (!filePublicKeyPem)
    throw new FileRefused(
      `终端 ${terminal.id} 还没有登记文件加密公钥，同步包无法加密给它：请让该终端联网同步一次（新版本会自动登记）`
    )
  const snapshotFile = `${options.file}.snapshot.partial`
  const sealedFile = `${options.file}.sealed.partial`
  const packageFile = `${options.file}.partial`
  try {
    const out = createWriteStream(snapshotFile, { mode: 0o600 })
    const closed = new Promise<void>((resolve, reject) => {
      out.once('close', resolve)
      out.once('error', reject)
    })
    let snapshot: SnapshotWritten
    try {
      snapshot = await writeSnapshot(
        options.reader ?? db,
        {
          regionCodes: terminal.regionCodes,
          since: null,
          regionsSinceVersion: terminal.regionsSinceVersion,
          clock: options.clock,
          bundles: options.bundles,
          protocol
        },
        streamWriter(out)
      )
    } finally {
      out.end()
      await closed
    }
    const payload: PackagePayload = {
      terminalId: terminal.id,
      createdAt: options.clock.now().toISOString(),
      ruleEnvelopes,
      snapshotSha256: snapshot.end.sha256,
      results,
      ...(protocol >= 2 ? { policies: await issuedPoliciesOf(db, terminal.id) } : {})
    }
    const payloadText = JSON.stringify(payload)
    // signPayload makes a bundle envelope; its signature is over the same payload bytes.
    const { signature } = JSON.parse(signPayload(payloadText, options.privateKeyPem, options.keyId)) as {
      signature: string
    }
    const header: SignedFile = {
      format: PACKAGE_FILE_FORMAT,
      keyId: options.keyId,
      payload: payloadText,
      signature
    }
    // The version-1 package (its own signed line, then the snapshot) is sealed to the terminal's
    // file key on its way to disk; the signed first line of the file carries the ciphertext's digest.
    const sealing = packageEncryptor(terminal.id, filePublicKeyPem, payload.createdAt)
    const digest = createHash('sha256')
    let bytes = 0
    const sealed = createWriteStream(sealedFile, { mode: 0o600 })
    await pipeline(
      async function* () {
        yield Buffer.from(`${JSON.stringify(header)}\n`, 'utf8')
        yield* createReadStream(snapshotFile)
      },
      sealing.cipher,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          digest.update(chunk)
          bytes += chunk.length
          yield chunk
        }
      },
      sealed
    )
    const outerText = JSON.stringify(sealing.header({ sha256: digest.digest('hex'), bytes }))
    const outer = JSON.parse(signPayload(outerText, options.privateKeyPem, options.keyId)) as {
      signature: string
    }
    const first: SignedFile = {
      format: ENCRYPTED_PACKAGE_FORMAT,
      keyId: options.keyId,
      payload: outerText,
      signature: outer.signature
    }
    const target = createWriteStream(packageFile, { mode: 0o600 })
    target.write(`${JSON.stringify(first)}\n`)
    await pipeline(createReadStream(sealedFile), target)
    const handle = await open(packageFile, 'r+')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(packageFile, options.file)
    return { file: options.file, snapshot, ruleEnvelopes: ruleEnvelopes.length, results: results.length }
  } finally {
    await rm(snapshotFile, { force: true })
    await rm(sealedFile, { force: true })
    await rm(packageFile, { force: true })
  }
}
