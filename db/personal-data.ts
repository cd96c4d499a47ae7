import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomFillSync,
  type KeyObject
} from 'node:crypto'
import { AppError } from '../core/errors'

/**
 * Personal data at rest: card numbers, ID numbers and names are never stored in plain text. A row
 * is found by a keyed hash of the value, and what the clerk sees is sealed (encrypted and
 * authenticated) next to it. Both subkeys come from one 32-byte terminal key.
 */
export interface PersonalDataCipher {
  /** Keyed hash for lookups (HMAC-SHA256 under a subkey, 16 bytes): equal values give equal hashes under one key. */
  lookupHash(value: string): Buffer
  /** AES-256-GCM under another subkey: version byte | 12-byte random IV | 16-byte tag | ciphertext. */
  seal(plain: string): Buffer
  /** Throws PersonalDataError on a wrong key or tampered bytes. */
  open(sealed: Buffer): string
  /**
   * HMAC-SHA256 (hex) under a third subkey, for the audit and close-report chains: someone who can
   * edit the database but not read the OS-protected key cannot write a link that checks.
   */
  recordMac(text: string): string
}

/** Sealed bytes that do not open: the key does not fit this database, or the bytes were changed. */
export class PersonalDataError extends AppError {
  constructor(message = '本机个人信息无法解密：密钥与数据库不符，或数据已被改动') {
    super('PERSONAL_DATA_KEY', message)
    this.name = 'PersonalDataError'
  }
}

export const PERSONAL_DATA_KEY_BYTES = 32
const VERSION = 1
const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES
const HASH_BYTES = 16
/** IVs are cut from one random block at a time: one getrandom call per 4,096 seals, not per seal. */
const IV_POOL_BYTES = IV_BYTES * 4096

function subkey(key: Buffer, purpose: string): KeyObject {
  // No salt: the key is already uniformly random; `info` separates the two uses.
  return createSecretKey(
    Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `yibao-counter/personal-data/${purpose}/v1`, 32))
  )
}

export function createPersonalDataCipher(key: Buffer): PersonalDataCipher {
  if (key.length !== PERSONAL_DATA_KEY_BYTES)
    throw new Error(`personal-data key must be ${PERSONAL_DATA_KEY_BYTES} bytes`)
  const hashKey = subkey(key, 'lookup-hash')
  const sealKey = subkey(key, 'seal')
  const recordKey = subkey(key, 'record-chain')
  const ivPool = Buffer.alloc(IV_POOL_BYTES)
  let ivOffset = IV_POOL_BYTES

  return {
    recordMac(text) {
      return createHmac('sha256', recordKey).update(text, 'utf8').digest('hex')
    },
    lookupHash(value) {
      return createHmac('sha256', hashKey).update(value, 'utf8').digest().subarray(0, HASH_BYTES)
    },
    seal(plain) {
      if (ivOffset === IV_POOL_BYTES) {
        randomFillSync(ivPool)
        ivOffset = 0
      }
      const plainBytes = Buffer.from(plain, 'utf8')
      const out = Buffer.allocUnsafe(HEADER_BYTES + plainBytes.length)
      out[0] = VERSION
      ivPool.copy(out, 1, ivOffset, ivOffset + IV_BYTES)
      ivOffset += IV_BYTES
      const cipher = createCipheriv('aes-256-gcm', sealKey, out.subarray(1, 1 + IV_BYTES))
      // GCM is a stream mode: update() returns exactly as many bytes as it is given.
      cipher.update(plainBytes).copy(out, HEADER_BYTES)
      cipher.final()
      cipher.getAuthTag().copy(out, 1 + IV_BYTES)
      return out
    },
    open(sealed) {
      if (sealed.length < HEADER_BYTES || sealed[0] !== VERSION) throw new PersonalDataError()
      const decipher = createDecipheriv('aes-256-gcm', sealKey, sealed.subarray(1, 1 + IV_BYTES))
      decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, HEADER_BYTES))
      try {
        return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]).toString(
          'utf8'
        )
      } catch {
        throw new PersonalDataError()
      }
    }
  }
}

/** Seals a small JSON record (one account's card, ID and name; a family member; an insured person). */
export function sealJson(cipher: PersonalDataCipher, value: unknown): Buffer {
  return cipher.seal(JSON.stringify(value))
}

/** Opens what sealJson wrote; `check` says whether it has the expected shape. */
export function openJson<T>(
  cipher: PersonalDataCipher,
  sealed: Buffer,
  check: (value: unknown) => value is T
): T {
  const text = cipher.open(sealed)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (!check(value)) throw new PersonalDataError('本机个人信息格式不符：数据可能已被改动')
  return value
}

/**
 * The settings row whose sealed value proves the key fits the database: it is written together
 * with the first sealed data (migration 0004), so a new or wrong key is noticed before anything is
 * read or written with it.
 */
export const KEY_CHECK_SETTING = 'personal_data_check'
const KEY_CHECK_TEXT = 'yibao-counter personal-data key check v1'

export function sealKeyCheck(cipher: PersonalDataCipher): string {
  return cipher.seal(KEY_CHECK_TEXT).toString('base64')
}

export function keyFitsCheck(cipher: PersonalDataCipher, check: string): boolean {
  try {
    return cipher.open(Buffer.from(check, 'base64')) === KEY_CHECK_TEXT
  } catch {
    return false
  }
}
