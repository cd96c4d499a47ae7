import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  opensWithBuiltInKey,
  osKeyProtector,
  type SafeStorageLike
} from '../../../electron/main/key-protector'
import { KeyStoreLockedError } from '../../../backend/services/personal-data-key'

/**
 * Written by real Chromium (Debian's 156, `--password-store=basic`, no keyring): the cookie
 * `probe=counter-known-answer` for example.invalid, as its Cookies database holds it. Database
 * version 24 puts the SHA-256 of the host before the value.
 */
const CHROMIUM_V10_COOKIE = Buffer.from(
  '76313058B13C46B2D5C4947E10A19065772FFFA8E9D02CF6369C1FCA5718D0E0B0BE2FDEFDCFABD197CDBDA86DCE22DAD10539BF343FB99409203AB91BF2EA6A79F52F',
  'hex'
)
const COOKIE_PLAIN = Buffer.concat([
  createHash('sha256').update('example.invalid').digest(),
  Buffer.from('counter-known-answer')
])

/** safeStorage that is locked for the first `lockedFor` operations, then wraps by prefixing "v11" (a keyring's key, not a public one). */
function storage(
  lockedFor: number,
  failure = 'Decryption is temporarily unavailable.'
): SafeStorageLike & { calls: number } {
  const fake = {
    calls: 0,
    isAsyncEncryptionAvailable: () => Promise.resolve(true),
    encryptStringAsync: (plain: string) =>
      fake.answer(() => Buffer.concat([Buffer.from('v11'), Buffer.from(plain).reverse()])),
    decryptStringAsync: (encrypted: Buffer) =>
      fake.answer(() => ({
        result: Buffer.from(encrypted.subarray(3)).reverse().toString(),
        shouldReEncrypt: false
      })),
    answer<T>(value: () => T): Promise<T> {
      return ++fake.calls <= lockedFor ? Promise.reject(new Error(failure)) : Promise.resolve(value())
    }
  }
  return fake
}

describe('the OS key protector', () => {
  it('knows a text wrapped by Chromium’s built-in Linux key for what it is: readable by anyone', () => {
    expect(opensWithBuiltInKey(CHROMIUM_V10_COOKIE, COOKIE_PLAIN)).toBe(true)
    expect(opensWithBuiltInKey(CHROMIUM_V10_COOKIE, Buffer.concat([COOKIE_PLAIN, Buffer.from('x')]))).toBe(
      false
    )
    // A keyring's wrapping (here: anything not under the public keys) is not taken for it.
    const tampered = Buffer.from(CHROMIUM_V10_COOKIE)
    tampered[10] ^= 1
    expect(opensWithBuiltInKey(tampered, COOKIE_PLAIN)).toBe(false)
    expect(opensWithBuiltInKey(Buffer.from('DPAPI blob of some kind'), COOKIE_PLAIN)).toBe(false)
  })

  it('asks a locked key store again after a wait, and says so in Chinese if it stays locked', async () => {
    const unlocksSoon = storage(2)
    const protector = await osKeyProtector(unlocksSoon, [1, 1, 1])
    const wrapped = await protector?.encrypt('key')
    expect(await protector?.decrypt(wrapped ?? Buffer.alloc(0))).toEqual({ text: 'key', stale: false })
    expect(unlocksSoon.calls).toBe(4)

    const staysLocked = storage(100)
    const refused = await (
      await osKeyProtector(staysLocked, [1, 1, 1])
    )
      ?.decrypt(Buffer.from('v11abc'))
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(KeyStoreLockedError)
    expect((refused as Error).message).toContain('系统密钥环尚未解锁')
    expect(staysLocked.calls).toBe(4)
  })

  it('does not retry a failure that is not a locked store: a key the OS cannot open is refused at once', async () => {
    const broken = storage(
      100,
      'Error while decrypting the ciphertext provided to safeStorage.decryptString.'
    )
    const refused = await (
      await osKeyProtector(broken, [1, 1, 1])
    )
      ?.decrypt(Buffer.from('v11abc'))
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(Error)
    expect(refused).not.toBeInstanceOf(KeyStoreLockedError)
    expect(broken.calls).toBe(1)
  })

  it('offers nothing where safeStorage cannot encrypt at all', async () => {
    expect(
      await osKeyProtector({ ...storage(0), isAsyncEncryptionAvailable: () => Promise.resolve(false) })
    ).toBeNull()
  })
})
