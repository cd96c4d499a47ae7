import type { ImportedPackageView } from '../../../../core/api/contract'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rename, rm, writeFile } from 'node:fs/promises'
import { AppError } from '../../../../core/errors'
import {
  ENCRYPTED_PACKAGE_FORMAT,
  encryptedPackageHeaderSchema,
  PACKAGE_FILE_FORMAT,
  packagePayloadSchema,
  snapshotHeaderSchema,
  type ItemResult,
  type PolicyIssue,
  type QueueFilePayload,
  type UploadItem
} from '../../../../core/sync/protocol'
import type { Clock } from '../../../../core/time'
import type { ActiveRules } from '../../rule-store'
import type { TrustedKeys } from '../../rules/keys'
import type { SnapshotStore } from '../snapshot/import'
import { encryptQueueFile, packageDecryptor, terminalFileKeyId } from './file-crypto'
import { openSignedFile, parseJson } from './signed-file'
import { publicKeyPemOf } from '../../rules/envelope'

/**
 * The file transport for agents out of reach for days: the pending queue goes to the centre as an
 * encrypted, signed file, and rules, snapshot and the centre's results come back as a signed package. Both
 * directions are idempotent: the centre deduplicates items on their ids, and a package's snapshot
 * is applied like a download (an older or repeated one changes nothing it should not).
 */

/** Written beside the target and renamed into place: a crash never leaves half a file under the real name. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.partial`
  await writeFile(temporary, text, { mode: 0o600 })
  const handle = await open(temporary, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, file).catch(async (error: unknown) => {
    await rm(temporary, { force: true })
    throw error
  })
}

export interface QueueExport {
  readonly file: string
  readonly items: number
  readonly totalFen: number
}

/**
 * The pending outbox as a file for the centre, encrypted to the centre's file key and signed with
 * the terminal's key: it carries names, ID and card numbers, and travels on USB sticks. The
 * entries stay queued: the centre's answer settles them.
 */
export async function exportQueue(
  deps: {
    /** The terminal's signing key (PEM), made at registration. */
    signingKeyPem(): Promise<string | null>
    /** The centre's file-encryption key, checked; null until the centre handed one out. */
    centreFileKey(): Promise<{ keyId: string; publicKeyPem: string } | null>
    pendingItems(): Promise<UploadItem[]>
    clock: Clock
    terminalId: string
  },
  file: string
): Promise<QueueExport> {
  const privateKeyPem = await deps.signingKeyPem()
  if (!privateKeyPem)
    throw new AppError('NOT_REGISTERED', '本终端尚未向中心注册，没有签名密钥，不能导出：请先注册')
  const recipient = await deps.centreFileKey()
  if (!recipient) {
    throw new AppError(
      'NOT_REGISTERED',
      '还没有医保中心的文件加密密钥，不能导出：请联网同步一次后再导出（待上传的交易仍在本机，没有变化）'
    )
  }
  const items = await deps.pendingItems()
  const payload: QueueFilePayload = {
    terminalId: deps.terminalId,
    exportedAt: deps.clock.now().toISOString(),
    items
  }
  await writeAtomically(
    file,
    encryptQueueFile(JSON.stringify(payload), {
      terminalId: deps.terminalId,
      recipient,
      signingKeyPem: privateKeyPem
    })
  )
  const totalFen = items.reduce((sum, item) => sum + (item.type === 'sale' ? item.totalFen : 0), 0)
  return { file, items: items.length, totalFen }
}

/** What a package brought: the contract's view of it, the same for the CLI and the app. */
export type PackageImport = ImportedPackageView

/** The first lines of a byte stream and where the next one starts, without reading the (possibly large) rest. */
async function firstLines(
  source: AsyncIterable<Buffer>,
  count: number
): Promise<{ lines: string[]; bytes: number }> {
  let pending = Buffer.alloc(0)
  const lines: string[] = []
  let bytes = 0
  // Leaving the loop early ends (destroys) the stream.
  for await (const chunk of source) {
    pending = Buffer.concat([pending, chunk])
    let newline: number
    while (lines.length < count && (newline = pending.indexOf(0x0a)) >= 0) {
      lines.push(pending.subarray(0, newline).toString('utf8'))
      bytes += newline + 1
      pending = pending.subarray(newline + 1)
    }
    if (lines.length === count) return { lines, bytes }
    if (pending.length > 64 * 1024 * 1024) break
  }
  throw new AppError('FILE_REFUSED', '同步包文件不完整')
}

const fileBytes = (file: string, start = 0): AsyncIterable<Buffer> =>
  createReadStream(file, { start, highWaterMark: 256 * 1024 })

/** The stream without its first `skip` bytes. */
async function* after(source: AsyncIterable<Buffer>, skip: number): AsyncIterable<Buffer> {
  let left = skip
  for await (const chunk of source) {
    if (left >= chunk.length) {
      left -= chunk.length
      continue
    }
    yield left > 0 ? chunk.subarray(left) : chunk
    left = 0
  }
}

/**
 * The package's plain bytes, from `skip` on: the file's sealed body decrypted with this terminal's
 * file key, once the centre's signature over the header and the body's digest have been checked.
 */
async function openSealedPackage(
  file: string,
  deps: { trustedKeys: TrustedKeys; terminalId: string; filePrivateKeyPem(): Promise<string | null> }
): Promise<(skip: number) => AsyncIterable<Buffer>> {
  const outer = await firstLines(fileBytes(file), 1)
  const format = (parseJson(outer.lines[0]) as { format?: unknown } | null)?.format
  if (format === PACKAGE_FILE_FORMAT)
    throw new AppError(
      'FILE_REFUSED',
      '同步包未加密（旧格式）：它把个人信息明文带在介质上，本终端不接受。请中心用新版本重新制作同步包'
    )
  const header = encryptedPackageHeaderSchema.safeParse(
    parseJson(openSignedFile(outer.lines[0], ENCRYPTED_PACKAGE_FORMAT, deps.trustedKeys))
  )
  if (!header.success) throw new AppError('FILE_REFUSED', '同步包首行不符合协议')
  if (header.data.terminalId !== deps.terminalId)
    throw new AppError(
      'FILE_REFUSED',
      `同步包是为终端 ${header.data.terminalId} 制作的，不是本终端（${deps.terminalId}）`
    )
  const privateKeyPem = await deps.filePrivateKeyPem()
  if (!privateKeyPem)
    throw new AppError('NOT_REGISTERED', '本终端还没有文件加密密钥，打不开同步包：请先向中心注册')
  if (terminalFileKeyId(publicKeyPemOf(privateKeyPem)) !== header.data.recipientKeyId)
    throw new AppError(
      'FILE_REFUSED',
      '同步包不是加密给本终端现用密钥的：请让中心在本终端最近一次同步之后重新制作'
    )
  // The body against the signed digest first: nothing from a changed or cut file is decrypted.
  const digest = createHash('sha256')
  let bytes = 0
  for await (const chunk of fileBytes(file, outer.bytes)) {
    digest.update(chunk)
    bytes += chunk.length
  }
  if (bytes !== header.data.ciphertextBytes || digest.digest('hex') !== header.data.ciphertextSha256)
    throw new AppError('FILE_REFUSED', '同步包内容与中心的签名不符：文件可能被改动或不完整')
  return (skip) =>
    after(
      createReadStream(file, { start: outer.bytes, highWaterMark: 256 * 1024 }).pipe(
        packageDecryptor(header.data, privateKeyPem)
      ),
      skip
    )
}

/**
 * A rules-and-snapshot package from the centre, encrypted to this terminal: the signature and the
 * digest are checked before anything is decrypted; rules are imported as if downloaded; the
 * snapshot streams from the decryption into the same all-or-nothing import; the centre's results
 * settle queued items.
 */
export async function importPackage(
  deps: {
    rules: ActiveRules
    snapshots: SnapshotStore
    trustedKeys: TrustedKeys
    terminalId: string
    /** This terminal's file key (X25519 private PEM), made at registration. */
    filePrivateKeyPem(): Promise<string | null>
    /** Settles the queued items the centre's results answer; how many it settled. */
    applyResults(results: readonly ItemResult[]): Promise<number>
    /** Keeps the policy numbers the centre passed on; how many lines got one. */
    applyPolicies(issues: readonly PolicyIssue[]): Promise<number>
  },
  file: string
): Promise<PackageImport> {
  const plain = await openSealedPackage(file, deps)
  const head = await firstLines(plain(0), 1)
  const parsed = packagePayloadSchema.safeParse(
    parseJson(openSignedFile(head.lines[0], PACKAGE_FILE_FORMAT, deps.trustedKeys))
  )
  if (!parsed.success) throw new AppError('FILE_REFUSED', '同步包内容不符合协议')
  const contents = parsed.data
  if (contents.terminalId !== deps.terminalId)
    throw new AppError(
      'FILE_REFUSED',
      `同步包是为终端 ${contents.terminalId} 制作的，不是本终端（${deps.terminalId}）`
    )

  // All or nothing: every bundle is checked and the snapshot verified and applied before any rule
  // is taken, so a package refused for its snapshot leaves the rules as they were too.
  for (const envelope of contents.ruleEnvelopes) await deps.rules.check(envelope)
  // A package no newer than what is held (the same file twice, or one overtaken by a download) is
  // not applied: an older snapshot would put back balances the centre has since changed.
  const header = snapshotHeaderSchema.safeParse(parseJson((await firstLines(plain(0), 2)).lines[1]))
  if (!header.success) throw new AppError('FILE_REFUSED', '同步包的账户数据首行不符合协议')
  let snapshot: PackageImport['snapshot'] = 'unchanged'
  if (header.data.snapshotVersion > (await deps.snapshots.current()).version) {
    const imported = await deps.snapshots.importSnapshot(plain(head.bytes), {
      expectedSha256: contents.snapshotSha256
    })
    snapshot = { version: imported.snapshotVersion, accounts: imported.accounts, removed: imported.removed }
  }
  const rules: Array<PackageImport['rules'][number]> = []
  for (const envelope of contents.ruleEnvelopes) {
    const imported = await deps.rules.import(envelope)
    rules.push({
      regionCode: imported.bundle.region.code,
      version: imported.bundle.version,
      status: imported.status
    })
  }
  const results = contents.results ? await deps.applyResults(contents.results) : 0
  const policies = contents.policies ? await deps.applyPolicies(contents.policies) : 0
  return { rules, snapshot, results, policies }
}
