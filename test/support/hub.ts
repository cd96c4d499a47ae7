import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Knex } from 'knex'
import { onTestFinished } from 'vitest'
import type { Relation } from '../../core/cardholder'
import { uuidv7 } from '../../core/ids'
import type { RuleBundle } from '../../core/rules/bundle'
import { coverPeriodOf } from '../../core/rules/cover'
import {
  accountLineSchema,
  centreErrorSchema,
  ENCRYPTED_PACKAGE_FORMAT,
  encryptedPackageHeaderSchema,
  type EncryptedPackageHeader,
  QUEUE_FILE_FORMAT,
  registrationResponseSchema,
  removedLineSchema,
  snapshotEndSchema,
  snapshotHeaderSchema,
  uploadResponseSchema,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  type AccountLine,
  type ItemResult,
  type RegistrationResponse,
  type ReversalItem,
  type PayerProof,
  type SaleItem,
  type SignedFile,
  type SnapshotEnd,
  type SnapshotHeader,
  type UploadItem
} from '../../core/sync/protocol'
import type { Clock } from '../../core/time'
import { DEMO_BUNDLE_ENVELOPES } from '../../db/seeds/demo-bundles'
import { DEMO_ACCOUNTS, demoAccountNo } from '../../db/seeds/demo-population'
import { DEMO_CENTRE_FILE_KEY } from '../../db/seeds/demo-centre-file-key'
import { sealPinBlock } from '../../backend/services/payment/pin-block'
import { newTerminalFileKey, packageDecryptor } from '../../backend/services/sync/files/file-crypto'
import { openSignedFile } from '../../backend/services/sync/files/signed-file'
import { DEMO_KEY_ID } from '../../backend/services/rules/keys'
import { DEMO_CENTRE_PRIVATE_KEY_FILE, exportPackage } from '../../hub/files'
import { createBundleCache } from '../../hub/rules'
import { DEMO_TRUSTED_KEYS } from '../../backend/services/rules/keys'
import { verifyBundle } from '../../backend/services/rules/load'
import { openHubDatabase } from '../../hub/db/open'
import { createFaults, type HubFaults } from '../../hub/faults'
import { startHub, type RunningHub } from '../../hub/server'
import { tempDir, TEST_NOW } from './helpers'
import { centreOnPostgres, freshPostgresUrl } from './postgres'
import { DEMO_PIN } from './payment'

/** A clock the test moves on: token expiry, settlement times. */
export interface TestClock extends Clock {
  advance(ms: number): void
}

export function testClock(iso = TEST_NOW): TestClock {
  let at = Date.parse(iso)
  return { now: () => new Date(at), advance: (ms) => void (at += ms) }
}

export interface TestHub {
  readonly db: Knex
  readonly hub: RunningHub
  readonly url: string
  readonly clock: TestClock
  readonly faults: HubFaults
  readonly dir: string
}

/**
 * The real hub on a fresh SQLite file in a temp folder (or `dir`, one the hub's CLI wrote to), on
 * 127.0.0.1 and a free port; closed after the test. In the `centre-pg` test project
 * (HUB_TEST_DATABASE=postgres) on a fresh PostgreSQL schema instead, unless `databaseUrl` names one.
 */
export async function openTestHub(
  options: {
    maxBodyBytes?: number
    testHooks?: boolean
    dir?: string
    policyDelayMs?: number
    protocol?: 1 | 2
    /** A PostgreSQL database (test/support/postgres.ts) to open instead of the folder's SQLite file. */
    databaseUrl?: string
  } = {}
): Promise<TestHub> {
  const dir = options.dir ?? (await tempDir('hub-test-'))
  const clock = testClock()
  const databaseUrl = options.databaseUrl ?? (centreOnPostgres() ? await freshPostgresUrl() : undefined)
  const db = await openHubDatabase(dir, { clock, databaseUrl })
  const faults = createFaults()
  const hub = await startHub({
    db,
    clock,
    faults,
    maxBodyBytes: options.maxBodyBytes,
    testHooks: options.testHooks,
    policyDelayMs: options.policyDelayMs,
    protocol: options.protocol
  })
  onTestFinished(async () => {
    await hub.close()
    await db.destroy()
  })
  return { db, hub, url: hub.url, clock, faults, dir }
}

export interface Answer {
  readonly status: number
  readonly text: string
  readonly headers: Headers
  json(): unknown
  /** The error body, checked against the protocol. */
  error(): { code: string; message: string }
}

export async function call(
  url: string,
  path: string,
  init: {
    method?: string
    token?: string
    body?: unknown
    rawBody?: string
    headers?: Record<string, string>
    /** The protocol the caller announces, as a terminal of that version does (1: no header at all). */
    protocol?: 1 | 2
  } = {}
): Promise<Answer> {
  const headers: Record<string, string> = {
    ...(init.protocol === 1 ? {} : { [PROTOCOL_HEADER]: String(init.protocol ?? PROTOCOL_VERSION) }),
    ...init.headers
  }
  if (init.token) headers.authorization = `Bearer ${init.token}`
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body))
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body
  })
  const text = await response.text()
  return {
    status: response.status,
    text,
    headers: response.headers,
    json: () => JSON.parse(text) as unknown,
    error: () => centreErrorSchema.parse(JSON.parse(text)).error
  }
}

export interface RegisteredTerminal extends RegistrationResponse {
  readonly privateKey: KeyObject
  readonly publicKeyPem: string
  /** The terminal's X25519 file key (PKCS#8 PEM): sync packages are encrypted to it. */
  readonly filePrivateKeyPem: string
}

export async function register(
  url: string,
  terminalId = 'T-TEST0001',
  enrolmentCode = 'DEMO-ALL',
  territory = '测试大厅 1 号窗口'
): Promise<RegisteredTerminal> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const fileKey = newTerminalFileKey()
  const answer = await call(url, '/v1/terminals', {
    body: {
      enrolmentCode,
      terminalId,
      territory,
      appVersion: '0.1.0',
      publicKeyPem,
      filePublicKeyPem: fileKey.publicKeyPem
    }
  })
  if (answer.status !== 201) throw new Error(`registration failed: ${answer.status} ${answer.text}`)
  return {
    ...registrationResponseSchema.parse(answer.json()),
    privateKey,
    publicKeyPem,
    filePrivateKeyPem: fileKey.privateKeyPem
  }
}

/**
 * A sync package as the terminal opens it: the centre's signed header line (checked against the
 * demo key) and the version-1 text inside, decrypted with the terminal's file key.
 */
/** The centre's package for a terminal, signed with the demo key, as `npm run hub -- export-package` makes it. */
export async function exportDemoPackage(
  db: Knex,
  clock: Clock,
  terminalId: string,
  file: string,
  bundles = createBundleCache()
): ReturnType<typeof exportPackage> {
  return exportPackage(db, {
    terminalId,
    file,
    clock,
    bundles,
    privateKeyPem: await readFile(DEMO_CENTRE_PRIVATE_KEY_FILE, 'utf8'),
    keyId: DEMO_KEY_ID
  })
}

export async function openPackageFile(
  file: string,
  filePrivateKeyPem: string
): Promise<{ header: EncryptedPackageHeader; sealed: Buffer; plain: string }> {
  const bytes = await readFile(file)
  const newline = bytes.indexOf(0x0a)
  const outer = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as { format: string; payload: string }
  const header = encryptedPackageHeaderSchema.parse(
    JSON.parse(
      openSignedFile(bytes.subarray(0, newline).toString('utf8'), ENCRYPTED_PACKAGE_FORMAT, DEMO_TRUSTED_KEYS)
    )
  )
  if (outer.format !== ENCRYPTED_PACKAGE_FORMAT) throw new Error(`not an encrypted package: ${outer.format}`)
  const sealed = bytes.subarray(newline + 1)
  const decipher = packageDecryptor(header, filePrivateKeyPem)
  const plain = Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8')
  return { header, sealed, plain }
}

export interface ParsedSnapshot {
  readonly header: SnapshotHeader
  readonly accounts: AccountLine[]
  readonly removed: string[]
  readonly end: SnapshotEnd
}

/** Parses NDJSON as a terminal must: every line by its schema, the end line's count and digest checked. */
export function parseSnapshot(text: string): ParsedSnapshot {
  const lines = text.split('\n')
  if (lines.pop() !== '') throw new Error('snapshot does not end with a newline')
  const endLine = lines.pop() ?? ''
  const end = snapshotEndSchema.parse(JSON.parse(endLine))
  const body = lines.map((line) => `${line}\n`).join('')
  const digest = createHash('sha256').update(body, 'utf8').digest('hex')
  if (digest !== end.sha256) throw new Error('snapshot digest does not match')
  const header = snapshotHeaderSchema.parse(JSON.parse(lines[0]))
  const accounts: AccountLine[] = []
  const removed: string[] = []
  for (const line of lines.slice(1)) {
    const value = JSON.parse(line) as { type: string }
    if (value.type === 'account') accounts.push(accountLineSchema.parse(value))
    else removed.push(removedLineSchema.parse(value).accountNo)
  }
  if (end.count !== accounts.length + removed.length) throw new Error('snapshot count does not match')
  return { header, accounts, removed, end }
}

export async function snapshot(url: string, token: string, since?: number): Promise<ParsedSnapshot> {
  const answer = await call(url, `/v1/snapshot${since === undefined ? '' : `?since=${since}`}`, { token })
  if (answer.status !== 200) throw new Error(`snapshot failed: ${answer.status} ${answer.text}`)
  return parseSnapshot(answer.text)
}

/** One account as the centre now shows it to a terminal. */
export async function accountAtCentre(url: string, token: string, cardNumber: string): Promise<AccountLine> {
  const found = (await snapshot(url, token)).accounts.find((a) => a.cardNumber === cardNumber)
  if (!found) throw new Error(`no account ${cardNumber} in the snapshot`)
  return found
}

export async function upload(
  url: string,
  token: string,
  terminalId: string,
  items: readonly UploadItem[]
): Promise<ItemResult[]> {
  const answer = await call(url, '/v1/transactions', { token, body: { terminalId, items } })
  if (answer.status !== 200) throw new Error(`upload failed: ${answer.status} ${answer.text}`)
  return uploadResponseSchema.parse(answer.json()).results
}

const bundles = new Map<string, RuleBundle>()
for (const envelope of DEMO_BUNDLE_ENVELOPES) {
  const verified = verifyBundle(envelope, DEMO_TRUSTED_KEYS)
  if (!verified.ok) throw new Error(verified.message)
  bundles.set(verified.value.bundle.region.code, verified.value.bundle)
}

export function demoAccount(cardNumber: string) {
  const account = DEMO_ACCOUNTS.find((a) => a.cardNumber === cardNumber)
  if (!account) throw new Error(`no demo account ${cardNumber}`)
  return { ...account, accountNo: demoAccountNo(account) }
}

export interface LineSpec {
  readonly relation?: 'self' | Relation
  readonly productCode: string
  readonly units?: number | null
  readonly premiumFen: number
}

/** The applicant's mobile the test sales carry unless told otherwise. */
export const DEMO_MOBILE = '13912345678'

export const newId = () => uuidv7(Date.now(), randomBytes(10))

/**
 * A sale as a terminal's outbox holds it, for a demo cardholder and members of their bound family,
 * paid with the card read by the reader and `pin` (the demo cards' 123456 unless given) sealed to
 * the demo centre's file key, the key a new reference centre starts with. `payment: null`: none.
 */
export function saleFor(
  cardNumber: string,
  lines: readonly LineSpec[],
  options: {
    terminalId?: string
    at?: string
    pin?: string
    payment?: PayerProof | null
    /** The applicant's mobile; null: none (a terminal of protocol 1 sends none). */
    mobile?: string | null
  } = {}
): SaleItem {
  const account = demoAccount(cardNumber)
  const bundle = bundles.get(account.regionCode)
  if (!bundle) throw new Error(`no bundle for ${account.regionCode}`)
  const at = options.at ?? TEST_NOW
  const saleId = newId()
  const payment =
    options.payment === undefined
      ? ({
          method: 'card',
          entry: 'swiped',
          pinBlock: sealPinBlock(options.pin ?? DEMO_PIN, saleId, DEMO_CENTRE_FILE_KEY)
        } as const)
      : options.payment
  const mobile = options.mobile === undefined ? DEMO_MOBILE : options.mobile
  return {
    ...(payment ? { payment } : {}),
    ...(mobile ? { applicant: { mobile } } : {}),
    type: 'sale',
    saleId,
    terminalId: options.terminalId ?? 'T-TEST0001',
    operatorCode: '1001',
    createdAt: at,
    payer: { cardNumber: account.cardNumber, idNumber: account.idNumber, regionCode: account.regionCode },
    rules: { regionCode: bundle.region.code, version: bundle.version },
    totalFen: lines.reduce((sum, line) => sum + line.premiumFen, 0),
    lines: lines.map((line, index) => {
      const relation = line.relation ?? 'self'
      const member =
        relation === 'self'
          ? { idNumber: account.idNumber, name: account.name }
          : account.family.find((m) => m.relation === relation)
      if (!member) throw new Error(`${cardNumber} has no ${relation}`)
      const product = bundle.products.find((p) => p.code === line.productCode)
      if (!product) throw new Error(`no product ${line.productCode}`)
      const cover = coverPeriodOf(product, at)
      return {
        lineNo: index + 1,
        relation,
        insuredIdNumber: member.idNumber,
        insuredName: member.name,
        productCode: line.productCode,
        units: line.units === undefined ? (product.pricing.kind === 'perUnit' ? 1 : null) : line.units,
        premiumFen: line.premiumFen,
        coverFrom: cover.from,
        coverTo: cover.to
      }
    })
  }
}

export function reversalOf(sale: SaleItem, at = TEST_NOW): ReversalItem {
  return {
    type: 'reversal',
    reversalId: newId(),
    saleId: sale.saleId,
    terminalId: sale.terminalId,
    operatorCode: '9001',
    at,
    reason: '客户撤销',
    totalFen: sale.totalFen
  }
}

/** A version 1 queue file, as terminals wrote them before encryption: signed with the terminal's key, keyId its id, in the clear. */
export function queueFile(
  terminal: RegisteredTerminal,
  items: readonly UploadItem[],
  exportedAt = TEST_NOW
): string {
  const payload = JSON.stringify({ terminalId: terminal.terminalId, exportedAt, items })
  const file: SignedFile = {
    format: QUEUE_FILE_FORMAT,
    keyId: terminal.terminalId,
    payload,
    signature: sign(null, Buffer.from(payload, 'utf8'), terminal.privateKey).toString('base64')
  }
  return JSON.stringify(file)
}
