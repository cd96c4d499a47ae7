import { randomBytes } from 'node:crypto'
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AppError } from '../../../core/errors'
import { fixedClock } from '../../../core/time'
import { createPersonalDataCipher, sealKeyCheck } from '../../../db/personal-data'
import {
  FILE_KEY_FILE,
  KeyStoreLockedError,
  loadPersonalDataKey,
  OS_KEY_FILE,
  type KeyProtector
} from '../../../backend/services/personal-data-key'
import { DATABASE_FILE_NAME, openCounterRuntime } from '../../../backend/runtime'
import { recordingLogger, signedIn, tempDir, TEST_NOW } from '../../support/helpers'

/** Stands in for safeStorage: reversible, but not the plain text, and it remembers what it wrapped. */
function fakeProtector(): KeyProtector & {
  wrapped: string[]
  broken: boolean
  locked: boolean
  publicKey: boolean
  version: string
} {
  const mask = (bytes: Buffer) => Buffer.from(bytes.map((byte) => byte ^ 0x5a))
  const protector = {
    wrapped: [] as string[],
    broken: false,
    /** The key store is locked (a keyring not unlocked yet): every operation says so. */
    locked: false,
    /** Wrapping under a key anyone can look up (Chromium's Linux fallback), not the OS's own. */
    publicKey: false,
    /** The OS key's generation: data wrapped under an older one opens, but is stale. */
    version: 'v10',
    encrypt(plain: string) {
      if (protector.locked) return Promise.reject(new KeyStoreLockedError())
      protector.wrapped.push(plain)
      return Promise.resolve(
        Buffer.concat([
          Buffer.from(protector.publicKey ? 'v00' : protector.version),
          mask(Buffer.from(plain, 'utf8'))
        ])
      )
    },
    decrypt(encrypted: Buffer) {
      if (protector.locked) return Promise.reject(new KeyStoreLockedError())
      if (protector.broken || !['v00', 'v10', 'v11'].includes(encrypted.subarray(0, 3).toString())) {
        return Promise.reject(
          new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.')
        )
      }
      return Promise.resolve({
        text: mask(encrypted.subarray(3)).toString('utf8'),
        stale: encrypted.subarray(0, 3).toString() !== protector.version
      })
    },
    // The fake marks what it wrapped under the public key by the generation 'v00'.
    protects: (encrypted: Buffer) => encrypted.subarray(0, 3).toString() !== 'v00'
  }
  return protector
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught
  )
  expect(error).toBeInstanceOf(AppError)
  expect((error as AppError).code).toBe('PERSONAL_DATA_KEY')
  return error as AppError
}

describe('the personal-data key', () => {
  it('without OS protection: a random key in a 0600 file, a warning logged, and the same key next time', async () => {
    const dataDir = await tempDir()
    const log = recordingLogger()
    const first = await loadPersonalDataKey({ dataDir, protector: null, log })
    expect(first.protection).toBe('file')
    expect(first.key).toHaveLength(32)
    expect(await readdir(dataDir)).toEqual([FILE_KEY_FILE])
    if (process.platform !== 'win32')
      expect((await stat(join(dataDir, FILE_KEY_FILE))).mode & 0o777).toBe(0o600)
    expect(log.lines.some((line) => line.includes('personal_data_key_unprotected'))).toBe(true)
    // Fields name the problem, never the key.
    expect(log.lines.join('\n')).not.toContain(first.key.toString('base64'))
    expect(log.lines.join('\n')).not.toContain(first.key.toString('hex'))

    const again = await loadPersonalDataKey({ dataDir, protector: null, log })
    expect(again.key.equals(first.key)).toBe(true)
  })

  it('with OS protection: the key is kept only wrapped, and unwrapped again next time', async () => {
    const dataDir = await tempDir()
    const protector = fakeProtector()
    const log = recordingLogger()
    const first = await loadPersonalDataKey({ dataDir, protector, log })
    expect(first.protection).toBe('os')
    expect(await readdir(dataDir)).toEqual([OS_KEY_FILE])
    const stored = await readFile(join(dataDir, OS_KEY_FILE))
    expect(stored.includes(first.key)).toBe(false)
    expect(stored.includes(Buffer.from(first.key.toString('base64')))).toBe(false)
    expect(log.lines.some((line) => line.includes('personal_data_key_unprotected'))).toBe(false)

    const again = await loadPersonalDataKey({ dataDir, protector, log })
    expect(again).toEqual(first)
  })

  it('wraps the key again when the OS has rotated its own key, keeping the key itself', async () => {
    const dataDir = await tempDir()
    const protector = fakeProtector()
    const first = await loadPersonalDataKey({ dataDir, protector, log: recordingLogger() })
    protector.version = 'v11'
    const log = recordingLogger()
    const after = await loadPersonalDataKey({ dataDir, protector, log })
    expect(after).toEqual(first)
    expect((await readFile(join(dataDir, OS_KEY_FILE))).subarray(0, 3).toString()).toBe('v11')
    expect(log.lines.some((line) => line.includes('personal_data_key_rewrapped'))).toBe(true)
  })

  it('moves a plain key under OS protection once that is available, keeping the key itself', async () => {
    const dataDir = await tempDir()
    const plain = await loadPersonalDataKey({ dataDir, protector: null, log: recordingLogger() })
    const check = sealKeyCheck(createPersonalDataCipher(plain.key))
    const log = recordingLogger()
    const protectedNow = await loadPersonalDataKey({ dataDir, protector: fakeProtector(), log, check })
    expect(protectedNow.protection).toBe('os')
    expect(protectedNow.key.equals(plain.key)).toBe(true)
    expect(await readdir(dataDir)).toEqual([OS_KEY_FILE])
    expect(log.lines.some((line) => line.includes('personal_data_key_protected'))).toBe(true)
  })

  it('does not call a key protected that the OS wrapped under a public fallback key: a plain key file, said so, until the OS really protects it', async () => {
    const dataDir = await tempDir()
    const protector = fakeProtector()
    protector.publicKey = true
    const log = recordingLogger()
    const first = await loadPersonalDataKey({ dataDir, protector, log })
    expect(first.protection).toBe('file')
    expect(await readdir(dataDir)).toEqual([FILE_KEY_FILE])
    expect(log.lines.join('\n')).toContain('os_key_store_built_in_key')

    // A ".os" file written under the public key by an earlier release: reported as unprotected and
    // kept under its true name; the key itself never changes.
    const check = sealKeyCheck(createPersonalDataCipher(first.key))
    await rm(join(dataDir, FILE_KEY_FILE))
    await writeFile(join(dataDir, OS_KEY_FILE), await protector.encrypt(first.key.toString('base64')))
    const reopened = await loadPersonalDataKey({ dataDir, protector, log: recordingLogger(), check })
    expect(reopened).toEqual(first)
    expect(await readdir(dataDir)).toEqual([FILE_KEY_FILE])

    // The keyring answers now: the key goes under its protection, and is reported so.
    protector.publicKey = false
    const protectedNow = await loadPersonalDataKey({ dataDir, protector, log: recordingLogger(), check })
    expect(protectedNow).toEqual({ key: first.key, protection: 'os' })
    expect(await readdir(dataDir)).toEqual([OS_KEY_FILE])
  })

  it('opens after a crash between keeping a public-key ".os" file under its true name and removing it', async () => {
    const dataDir = await tempDir()
    const protector = fakeProtector()
    protector.publicKey = true
    const first = await loadPersonalDataKey({ dataDir, protector, log: recordingLogger() })
    const check = sealKeyCheck(createPersonalDataCipher(first.key))
    // What a kill after the plain file was written and before the ".os" file was removed leaves.
    await writeFile(join(dataDir, OS_KEY_FILE), await protector.encrypt(first.key.toString('base64')))
    expect((await readdir(dataDir)).sort()).toEqual([FILE_KEY_FILE, OS_KEY_FILE].sort())
    expect(await loadPersonalDataKey({ dataDir, protector, log: recordingLogger(), check })).toEqual(first)
    expect(await readdir(dataDir)).toEqual([FILE_KEY_FILE])
  })

  it('waits for a locked key store instead of refusing for good: nothing is changed, no new key is made', async () => {
    const dataDir = await tempDir()
    const protector = fakeProtector()
    const first = await loadPersonalDataKey({ dataDir, protector, log: recordingLogger() })
    const stored = await readFile(join(dataDir, OS_KEY_FILE))
    protector.locked = true
    const error = await loadPersonalDataKey({ dataDir, protector, log: recordingLogger() }).catch(
      (caught: unknown) => caught
    )
    expect(error).toBeInstanceOf(KeyStoreLockedError)
    expect((error as KeyStoreLockedError).message).toContain('系统密钥环尚未解锁')
    expect(await readdir(dataDir)).toEqual([OS_KEY_FILE])
    expect((await readFile(join(dataDir, OS_KEY_FILE))).equals(stored)).toBe(true)
    // A new folder is not given a plain key because the keyring is locked for now.
    const fresh = await tempDir()
    expect(
      await loadPersonalDataKey({ dataDir: fresh, protector, log: recordingLogger() }).catch(
        (caught: unknown) => caught
      )
    ).toBeInstanceOf(KeyStoreLockedError)
    expect(await readdir(fresh)).toEqual([])
    protector.locked = false
    expect(await loadPersonalDataKey({ dataDir, protector, log: recordingLogger() })).toEqual(first)
  })

  it('refuses, and makes no new key, when the database holds sealed data but the key file is gone', async () => {
    const dataDir = await tempDir()
    const check = sealKeyCheck(createPersonalDataCipher(randomBytes(32)))
    const error = await refusal(
      loadPersonalDataKey({ dataDir, protector: null, log: recordingLogger(), check })
    )
    expect(error.message).toContain('密钥文件缺失')
    expect(error.message).toContain('没有另建新密钥')
    expect(await readdir(dataDir)).toEqual([])
  })

  it('refuses a key that does not fit the database, a damaged key file, and a wrapped key the OS cannot open', async () => {
    const dataDir = await tempDir()
    const check = sealKeyCheck(createPersonalDataCipher(randomBytes(32)))
    await writeFile(join(dataDir, FILE_KEY_FILE), `${randomBytes(32).toString('base64')}\n`)
    expect(
      (await refusal(loadPersonalDataKey({ dataDir, protector: null, log: recordingLogger(), check })))
        .message
    ).toContain('不匹配')

    await writeFile(join(dataDir, FILE_KEY_FILE), 'abc\n')
    expect(
      (await refusal(loadPersonalDataKey({ dataDir, protector: null, log: recordingLogger() }))).message
    ).toContain('已损坏')

    const osDir = await tempDir()
    const protector = fakeProtector()
    await loadPersonalDataKey({ dataDir: osDir, protector, log: recordingLogger() })
    protector.broken = true
    expect(
      (await refusal(loadPersonalDataKey({ dataDir: osDir, protector, log: recordingLogger() }))).message
    ).toContain('操作系统无法解开')
    // Browser mode or the CLI on a folder whose key the OS keeps: refused, not replaced by a file key.
    expect(
      (await refusal(loadPersonalDataKey({ dataDir: osDir, protector: null, log: recordingLogger() })))
        .message
    ).toContain('系统加密服务')
    expect(await readdir(osDir)).toEqual([OS_KEY_FILE])
  })
})

describe('the runtime and the personal-data key', () => {
  const clock = fixedClock(TEST_NOW)
  const open = (dataDir: string, protector: KeyProtector | null = null) =>
    openCounterRuntime({
      dataDir,
      clock,
      log: recordingLogger(),
      appVersion: 't',
      personalDataProtector: protector
    })

  it('will not open a database whose key file was deleted, and leaves the database as it was', async () => {
    const dataDir = await tempDir()
    await (await open(dataDir)).close()
    const before = await readFile(join(dataDir, DATABASE_FILE_NAME))
    await rm(join(dataDir, FILE_KEY_FILE))

    await refusal(open(dataDir))
    expect(await readdir(dataDir)).not.toContain(FILE_KEY_FILE)
    expect((await readFile(join(dataDir, DATABASE_FILE_NAME))).equals(before)).toBe(true)
  })

  it('will not open a database with another terminal’s key', async () => {
    const dataDir = await tempDir()
    await (await open(dataDir)).close()
    await writeFile(join(dataDir, FILE_KEY_FILE), `${randomBytes(32).toString('base64')}\n`)
    expect((await refusal(open(dataDir))).message).toContain('不匹配')
  })

  it('says in app.info how the key is kept', async () => {
    const withOs = await open(await tempDir(), fakeProtector())
    const info = await withOs.dispatch('app.info', {}, await signedIn(withOs))
    expect(info).toMatchObject({ ok: true, value: { personalDataProtection: 'os' } })
    await withOs.close()

    const withFile = await open(await tempDir())
    expect(await withFile.dispatch('app.info', {}, { transport: 'test' })).toMatchObject({
      ok: true,
      value: { personalDataProtection: 'file' }
    })
    await withFile.close()
  })
})
