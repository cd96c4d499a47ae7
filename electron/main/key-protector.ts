import { createDecipheriv, pbkdf2Sync } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { KeyStoreLockedError, type KeyProtector } from '../../backend/services/personal-data-key'

/** The part of Electron's safeStorage the key protection uses: the asynchronous API (the synchronous one is deprecated in Electron 45 and gone in 46). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>
  encryptStringAsync(plainText: string): Promise<Buffer>
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>
}

/**
 * The keys Chromium falls back to on Linux when no key store answers: PBKDF2-HMAC-SHA1 of
 * "peanuts" (its "v10" data) and of the empty password, salt "saltysalt", one iteration, AES-128-CBC
 * with an IV of sixteen spaces. They are printed in Chromium's source, so they protect nothing.
 */
const BUILT_IN_KEYS = [
  pbkdf2Sync('peanuts', 'saltysalt', 1, 16, 'sha1'),
  pbkdf2Sync('', 'saltysalt', 1, 16, 'sha1')
]
const BUILT_IN_IV = Buffer.alloc(16, ' ')

/**
 * Whether this wrapped text opens with one of Chromium's built-in keys. The asynchronous API can
 * fall back to one of them (say, no Secret Service on the desktop) while the backend the
 * synchronous API reports still names a keyring; trying the public keys on what was actually
 * written is the only account of the protection that cannot be wrong.
 */
export function opensWithBuiltInKey(encrypted: Buffer, plain: string | Buffer): boolean {
  if (!/^v1\d$/.test(encrypted.subarray(0, 3).toString('latin1'))) return false
  const expected = typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain
  return BUILT_IN_KEYS.some((key) => {
    try {
      const decipher = createDecipheriv('aes-128-cbc', key, BUILT_IN_IV)
      return Buffer.concat([decipher.update(encrypted.subarray(3)), decipher.final()]).equals(expected)
    } catch {
      return false
    }
  })
}

/** Electron rejects an operation with this while the key store is locked (a Linux keyring before the user unlocks it). */
function isTemporarilyUnavailable(error: unknown): boolean {
  return error instanceof Error && /temporarily unavailable/i.test(error.message)
}

/**
 * About four seconds: enough for a keyring that unlocks with the desktop login the counter starts
 * with; after that the operator is asked (and can unlock it and try again) rather than left waiting.
 */
export const KEY_STORE_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000]

/**
 * safeStorage as the personal-data key's protector, or null where it cannot encrypt at all. Call
 * after the app is ready. A key store that is only locked for now is waited for and asked again;
 * if it stays locked, `KeyStoreLockedError` says so in Chinese and nothing is changed. Keys
 * wrapped by the synchronous API open with the asynchronous one.
 */
export async function osKeyProtector(
  storage: SafeStorageLike,
  retryDelaysMs: readonly number[] = KEY_STORE_RETRY_DELAYS_MS
): Promise<KeyProtector | null> {
  if (!(await storage.isAsyncEncryptionAvailable())) return null
  async function patiently<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation()
      } catch (error) {
        if (!isTemporarilyUnavailable(error)) throw error
        if (attempt >= retryDelaysMs.length) throw new KeyStoreLockedError()
        await sleep(retryDelaysMs[attempt])
      }
    }
  }
  return {
    encrypt: (plainText) => patiently(() => storage.encryptStringAsync(plainText)),
    decrypt: async (encrypted) => {
      const { result, shouldReEncrypt } = await patiently(() => storage.decryptStringAsync(encrypted))
      return { text: result, stale: shouldReEncrypt }
    },
    protects: (encrypted, plainText) => !opensWithBuiltInKey(encrypted, plainText)
  }
}
