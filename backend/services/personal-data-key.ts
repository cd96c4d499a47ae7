import { randomBytes } from 'node:crypto'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { AppError } from '../../core/errors'
import {
  createPersonalDataCipher,
  KEY_CHECK_SETTING,
  keyFitsCheck,
  PERSONAL_DATA_KEY_BYTES
} from '../../db/personal-data'
import type { Logger } from './log'

/** Electron's safeStorage, when it can encrypt (DPAPI on Windows, Keychain on macOS, a keyring on Linux). */
export interface KeyProtector {
  encrypt(plainText: string): Promise<Buffer>
  /** `stale`: the OS rotated its key (or offers a better one); the text should be wrapped again. */
  decrypt(encrypted: Buffer): Promise<{ readonly text: string; readonly stale: boolean }>
  /** Whether this wrapped text is really kept by the OS, not under a key anyone can look up (Chromium's Linux fallback). */
  protects(encrypted: Buffer, plainText: string): boolean
}

/**
 * The OS key store cannot answer yet (a Linux keyring not unlocked): worth waiting for, never a
 * reason to make a new key or to read the database without one.
 */
export class KeyStoreLockedError extends AppError {
  constructor() {
    super(
      'PERSONAL_DATA_KEY',
      '系统密钥环尚未解锁，暂时无法读取个人信息密钥。请登录桌面或解锁系统的"登录"密钥环后重试；数据未被改动。'
    )
    this.name = 'KeyStoreLockedError'
  }
}

export type PersonalDataProtection = 'os' | 'file'

export interface PersonalDataKey {
  readonly key: Buffer
  /** 'file': the key lies unprotected next to the database; the UI warns about it. */
  readonly protection: PersonalDataProtection
}

/** Wrapped by the operating system: useless on another machine or to another user. */
export const OS_KEY_FILE = 'personal-data.key.os'
/** Plain key file (mode 0600), only where the operating system offers no protection. */
export const FILE_KEY_FILE = 'personal-data.key'

const CONTACT = '数据未被改动。请恢复原密钥文件，或联系运维人员。'

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

/** Written whole or not at all (temporary file, fsync, rename): a crash never leaves half a key. */
async function writeKeyFile(file: string, content: Buffer): Promise<void> {
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, file)
}

function decodeKey(text: string, file: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64')
  if (key.length !== PERSONAL_DATA_KEY_BYTES)
    throw new AppError('PERSONAL_DATA_KEY', `个人信息密钥文件已损坏（${file}）。${CONTACT}`)
  return key
}

/**
 * The sealed check value the database holds (settings `personal_data_check`), read before
 * migrating: null for a new database or one from before personal data was sealed.
 */
export async function readKeyCheck(db: Knex): Promise<string | null> {
  if (!(await db.schema.hasTable('settings'))) return null
  const row = await db('settings')
    .where({ key: KEY_CHECK_SETTING })
    .first<{ value: string } | undefined>('value')
  return row?.value ?? null
}

/**
 * The terminal's personal-data key. Made once, at random; kept wrapped by the operating system
 * when `protector` is given, else in a plain file with a logged warning. A plain key is moved under
 * the operating system's protection as soon as that is available.
 *
 * `check` is the database's sealed check value: when the database already holds sealed data, a
 * missing or different key is refused, never replaced, since a new key would make every sealed
 * row (sales not yet uploaded among them) unreadable.
 */
export async function loadPersonalDataKey(options: {
  dataDir: string
  protector: KeyProtector | null
  log: Logger
  check?: string | null
}): Promise<PersonalDataKey> {
  const { dataDir, protector, log } = options
  const check = options.check ?? null
  const osFile = join(dataDir, OS_KEY_FILE)
  const plainFile = join(dataDir, FILE_KEY_FILE)

  // The key as stored, and whether storing it again would help: the OS rotated its own key, the
  // ".os" file opens with a public fallback key, or the key lies in a plain file.
  let loaded: (PersonalDataKey & { readonly rewrap: boolean }) | null = null
  const wrapped = await readIfExists(osFile)
  if (wrapped !== null) {
    if (!protector) {
      throw new AppError(
        'PERSONAL_DATA_KEY',
        `个人信息密钥由操作系统加密保存，但当前无法使用系统加密服务（例如以浏览器模式或命令行打开了柜台程序的数据目录）。请以柜台程序正常启动。${CONTACT}`
      )
    }
    let opened: { text: string; stale: boolean }
    try {
      opened = await protector.decrypt(wrapped)
    } catch (error) {
      if (error instanceof KeyStoreLockedError) throw error
      throw new AppError(
        'PERSONAL_DATA_KEY',
        `操作系统无法解开个人信息密钥（可能更换了系统用户或重置了系统密码）。${CONTACT}`
      )
    }
    const protectedByOs = protector.protects(wrapped, opened.text)
    loaded = {
      key: decodeKey(opened.text, osFile),
      protection: protectedByOs ? 'os' : 'file',
      rewrap: opened.stale || !protectedByOs
    }
  } else {
    const plain = await readIfExists(plainFile)
    if (plain !== null)
      loaded = { key: decodeKey(plain.toString('utf8'), plainFile), protection: 'file', rewrap: true }
  }

  if (loaded === null) {
    if (check !== null) {
      throw new AppError(
        'PERSONAL_DATA_KEY',
        `个人信息密钥文件缺失（${OS_KEY_FILE} 或 ${FILE_KEY_FILE}），无法读取本机已加密的参保人信息；程序没有另建新密钥。${CONTACT}`
      )
    }
    const key = randomBytes(PERSONAL_DATA_KEY_BYTES)
    if (await wrapUnderOs(key)) {
      log.info('personal_data_key_created', { protection: 'os' })
      return { key, protection: 'os' }
    }
    await writePlainKey(key)
    log.info('personal_data_key_created', { protection: 'file' })
    warnUnprotected()
    return { key, protection: 'file' }
  }
  if (check !== null && !keyFitsCheck(createPersonalDataCipher(loaded.key), check)) {
    throw new AppError(
      'PERSONAL_DATA_KEY',
      `个人信息密钥与本机数据库不匹配（可能换用了其他终端的密钥文件），无法读取已加密的参保人信息。${CONTACT}`
    )
  }

  if (loaded.rewrap && (await wrapUnderOs(loaded.key))) {
    // Written and proven under the OS's protection: a plain copy, if there was one, goes.
    await rm(plainFile, { force: true })
    log.info(wrapped === null ? 'personal_data_key_protected' : 'personal_data_key_rewrapped', {
      protection: 'os'
    })
    return { key: loaded.key, protection: 'os' }
  }
  if (loaded.protection === 'file') {
    if (wrapped !== null) {
      // A ".os" file anyone can open is a plain key under another name: keep it under its true name.
      await writePlainKey(loaded.key)
      await rm(osFile, { force: true })
    }
    warnUnprotected()
  }
  return { key: loaded.key, protection: loaded.protection }

  /** The key as the 0600 plain file, whole or not at all. */
  function writePlainKey(key: Buffer): Promise<void> {
    return writeKeyFile(plainFile, Buffer.from(`${key.toString('base64')}\n`, 'utf8'))
  }

  function warnUnprotected(): void {
    // Fields name the problem, never the key.
    log.error('personal_data_key_unprotected', {
      file: FILE_KEY_FILE,
      reason: protector ? 'os_key_store_built_in_key' : 'os_encryption_unavailable'
    })
  }

  /**
   * Wraps the key under the OS and writes it, only when the wrapped copy is really protected and
   * opens to the same key; false (nothing written) otherwise. A locked key store is waited for by
   * the caller; any other failure leaves the key where it is, with the warning.
   */
  async function wrapUnderOs(key: Buffer): Promise<boolean> {
    if (!protector) return false
    const text = key.toString('base64')
    try {
      const rewrapped = await protector.encrypt(text)
      if (!protector.protects(rewrapped, text)) return false
      if (!decodeKey((await protector.decrypt(rewrapped)).text, osFile).equals(key)) return false
      await writeKeyFile(osFile, rewrapped)
      return true
    } catch (error) {
      if (error instanceof KeyStoreLockedError) throw error
      log.error('personal_data_key_wrap_failed', { error: error instanceof Error ? error.name : 'unknown' })
      return false
    }
  }
}
