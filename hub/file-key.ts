import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Knex } from 'knex'
import { CENTRE_FILE_KEY_FORMAT, type CentreFileKeyPayload, type SignedFile } from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { DEMO_KEY_ID, DEMO_TRUSTED_KEYS, signPayload, type TrustedKeys } from '../backend/shared'

/** The centre's signing key of the demo (its private half is in the repository for anyone to read). */
export const DEMO_CENTRE_PRIVATE_KEY_FILE = fileURLToPath(
  new URL(`../bundles/keys/${DEMO_KEY_ID}.private.pem`, import.meta.url)
)

/** The demo centre's file key (its private half is public too): the first key of a new centre. */
export const DEMO_FILE_KEY_ID = 'DEMO-file-key-NOT-FOR-PRODUCTION'
const DEMO_FILE_PRIVATE_KEY_FILE = fileURLToPath(
  new URL(`../bundles/keys/${DEMO_FILE_KEY_ID}.private.pem`, import.meta.url)
)

/**
 * The key the centre signs with (its file key, packages): `HUB_SIGNING_KEY`, an Ed25519 private key
 * file the centre's administrator provides, with `HUB_SIGNING_KEY_ID` (the id terminals list in
 * their trusted-keys.json); unset, the demo key, which only demo terminals trust.
 */
export async function centreSigningKey(
  env: Readonly<Record<string, string | undefined>> = process.env
): Promise<{ privateKeyPem: string; keyId: string; demo: boolean }> {
  const file = env.HUB_SIGNING_KEY?.trim()
  if (!file)
    return {
      privateKeyPem: await readFile(DEMO_CENTRE_PRIVATE_KEY_FILE, 'utf8'),
      keyId: DEMO_KEY_ID,
      demo: true
    }
  const keyId = env.HUB_SIGNING_KEY_ID?.trim()
  if (!keyId) throw new Error('HUB_SIGNING_KEY 需要同时设置 HUB_SIGNING_KEY_ID（终端信任文件里的密钥编号）')
  const privateKeyPem = await readFile(file, 'utf8')
  if (createPrivateKey(privateKeyPem).asymmetricKeyType !== 'ed25519')
    throw new Error(`HUB_SIGNING_KEY ${file} 不是 Ed25519 私钥`)
  return { privateKeyPem, keyId, demo: false }
}

const trustedByKeyFile = new Map<string, TrustedKeys>()

/** What the centre takes bundles signed with: the demo key, and its own signing key when it has one. */
export function hubTrustedKeys(env: Readonly<Record<string, string | undefined>> = process.env): TrustedKeys {
  const file = env.HUB_SIGNING_KEY?.trim()
  const keyId = env.HUB_SIGNING_KEY_ID?.trim()
  if (!file || !keyId) return DEMO_TRUSTED_KEYS
  // Read once per key file: every bundle the centre takes asks.
  const cacheKey = `${file}\n${keyId}`
  let keys = trustedByKeyFile.get(cacheKey)
  if (!keys) {
    const publicKeyPem = createPublicKey(createPrivateKey(readFileSync(file, 'utf8')))
      .export({ type: 'spki', format: 'pem' })
      .toString()
    keys = { ...DEMO_TRUSTED_KEYS, [keyId]: publicKeyPem }
    trustedByKeyFile.set(cacheKey, keys)
  }
  return keys
}
/**
 * The centre's key for queue files sent to it: made on first need, its public half signed with the
 * centre's signing key, so a terminal can check it came from the centre it trusts for rules.
 */

export interface CentreFileKey {
  readonly keyId: string
  readonly privateKeyPem: string
  /** As terminals receive it: a signed file of format CENTRE_FILE_KEY_FORMAT. */
  readonly signedPublicKey: string
}

type Row = { key_id: string; private_key_pem: string; signed_public_key: string }
const toKey = (row: Row): CentreFileKey => ({
  keyId: row.key_id,
  privateKeyPem: row.private_key_pem,
  signedPublicKey: row.signed_public_key
})

/** The newest file key, made (and kept) when there is none yet. */
export async function currentFileKey(db: Knex, clock: Clock): Promise<CentreFileKey> {
  const newest = await db('file_keys').orderBy('created_at', 'desc').first<Row | undefined>()
  if (newest) return toKey(newest)
  // A demo centre starts with the demo file key; one with its own signing key never with a public one.
  if (!(await centreSigningKey()).demo) return addFileKey(db, clock)
  return addFileKey(db, clock, await readFile(DEMO_FILE_PRIVATE_KEY_FILE, 'utf8'), DEMO_FILE_KEY_ID)
}

/**
 * A new newest file key: `privateKeyPem` given (the demo's, so a demo terminal that never registered
 * seals passwords this centre opens), or a fresh one (what a real centre does, and tests of rotation).
 */
export async function addFileKey(
  db: Knex,
  clock: Clock,
  privateKeyPem?: string,
  keyId = `file-${randomBytes(6).toString('hex')}`
): Promise<CentreFileKey> {
  const privateKey =
    privateKeyPem === undefined ? generateKeyPairSync('x25519').privateKey : createPrivateKey(privateKeyPem)
  const pair = { privateKey, publicKey: createPublicKey(privateKey) }
  const payload: CentreFileKeyPayload = {
    keyId,
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    issuedAt: clock.now().toISOString()
  }
  const payloadText = JSON.stringify(payload)
  // signPayload makes a bundle envelope; its signature is over the same payload bytes.
  const signing = await centreSigningKey()
  const { signature } = JSON.parse(signPayload(payloadText, signing.privateKeyPem, signing.keyId)) as {
    signature: string
  }
  const signed: SignedFile = {
    format: CENTRE_FILE_KEY_FORMAT,
    keyId: signing.keyId,
    payload: payloadText,
    signature
  }
  const row: Row = {
    key_id: payload.keyId,
    private_key_pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    signed_public_key: JSON.stringify(signed)
  }
  // Two first requests at once: the first insert wins, both answer with what is stored.
  await db('file_keys')
    .insert({ ...row, created_at: payload.issuedAt })
    .onConflict('key_id')
    .ignore()
  return toKey((await db('file_keys').orderBy('created_at', 'desc').first<Row>()) ?? row)
}

/** A file key by id, old or new: a queue file names the key it was encrypted to. */
export async function fileKeyById(db: Knex, keyId: string): Promise<CentreFileKey | null> {
  const row = await db('file_keys').where({ key_id: keyId }).first<Row | undefined>()
  return row ? toKey(row) : null
}
