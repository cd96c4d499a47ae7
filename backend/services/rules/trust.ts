import { createPublicKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { AppError } from '../../../core/errors'
import { DEMO_KEY_ID, DEMO_PUBLIC_KEY_PEM, type TrustedKeys } from './keys'

/**
 * The centre keys an installation trusts, from a file the centre's administrator puts beside the
 * app (or names in COUNTER_TRUSTED_KEYS) at installation: no rebuild to change them. Several keys
 * at once, so the centre can sign with a new key while terminals still hold bundles signed with
 * the old; a key listed under `revoked` is refused everywhere, bundles already held included.
 */
export const TRUST_FILE_FORMAT = 'yibao-trusted-keys/1'
export const TRUST_FILE_NAME = 'trusted-keys.json'

const keyIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '密钥编号只能由字母、数字和 ._- 组成')

const trustFileSchema = z
  .object({
    format: z.literal(TRUST_FILE_FORMAT),
    keys: z
      .array(
        z.object({ keyId: keyIdSchema, publicKeyPem: z.string().max(1000), note: z.string().optional() })
      )
      .max(50),
    revoked: z.array(keyIdSchema).max(500).default([])
  })
  .strict()

export type TrustSource = 'file' | 'none'

export interface Trust {
  /** The keys bundles and signed centre files are checked against. */
  readonly keys: TrustedKeys
  /** Key ids the installation revoked (never trusted, even the demo key). */
  readonly revoked: readonly string[]
  /** The file the keys came from, or null: no deployment keys configured. */
  readonly file: string | null
  /** The public demo key is trusted: only ever in a data folder created as a demo. */
  readonly demoKeyTrusted: boolean
}

/** Reads and checks a trust file; a broken one stops the start with a clear message, never trusts less silently. */
export function parseTrustFile(text: string, file: string): { keys: TrustedKeys; revoked: string[] } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new AppError('TRUST_FILE_INVALID', `信任密钥文件 ${file} 不是有效的 JSON`)
  }
  const parsed = trustFileSchema.safeParse(value)
  if (!parsed.success)
    throw new AppError(
      'TRUST_FILE_INVALID',
      `信任密钥文件 ${file} 格式不正确（应为 ${TRUST_FILE_FORMAT}）：${parsed.error.issues[0]?.message ?? ''}`
    )
  const keys: Record<string, string> = {}
  for (const { keyId, publicKeyPem } of parsed.data.keys) {
    let type: string | undefined
    try {
      type = createPublicKey(publicKeyPem).asymmetricKeyType
    } catch {
      type = undefined
    }
    if (type !== 'ed25519')
      throw new AppError('TRUST_FILE_INVALID', `信任密钥文件 ${file} 中的密钥 ${keyId} 不是 Ed25519 公钥`)
    if (Object.hasOwn(keys, keyId))
      throw new AppError('TRUST_FILE_INVALID', `信任密钥文件 ${file} 中的密钥编号 ${keyId} 重复`)
    keys[keyId] = publicKeyPem
  }
  return { keys, revoked: parsed.data.revoked }
}

/**
 * The first of `candidates` that exists, read and checked; null when none does. A file named on
 * purpose (`required`, from COUNTER_TRUSTED_KEYS) must exist: missing, the folder would start as a demo.
 */
export async function readTrustFile(
  candidates: readonly string[],
  required: string | null = null
): Promise<{ file: string; keys: TrustedKeys; revoked: string[] } | null> {
  for (const file of required ? [required, ...candidates] : candidates) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      const missing = error instanceof Error && 'code' in error && error.code === 'ENOENT'
      if (missing && file === required)
        throw new AppError('TRUST_FILE_INVALID', `找不到 COUNTER_TRUSTED_KEYS 指定的信任密钥文件 ${file}`)
      if (missing) continue
      throw error
    }
    return { file, ...parseTrustFile(text, file) }
  }
  return null
}

/**
 * What this data folder trusts: the installation's keys, and the demo key only when the folder was
 * created as a demo. A revoked id is left out whatever else says to trust it.
 */
export function trustFor(
  configured: { file: string; keys: TrustedKeys; revoked: readonly string[] } | null,
  demoFolder: boolean
): Trust {
  const revoked = new Set(configured?.revoked ?? [])
  const keys: Record<string, string> = {}
  for (const [keyId, pem] of Object.entries(configured?.keys ?? {}))
    if (!revoked.has(keyId)) keys[keyId] = pem
  const demoKeyTrusted = demoFolder && !revoked.has(DEMO_KEY_ID)
  if (demoKeyTrusted) keys[DEMO_KEY_ID] = DEMO_PUBLIC_KEY_PEM
  return { keys, revoked: [...revoked], file: configured?.file ?? null, demoKeyTrusted }
}
