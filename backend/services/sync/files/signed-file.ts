import { createPublicKey, verify } from 'node:crypto'
import { AppError } from '../../../../core/errors'
import {
  CENTRE_FILE_KEY_FORMAT,
  centreFileKeyPayloadSchema,
  signedFileSchema,
  type SignedFile
} from '../../../../core/sync/protocol'
import type { TrustedKeys } from '../../rules/keys'
import { isX25519PublicKey } from './file-crypto'

/**
 * Files the centre signs (docs/sync-protocol.md, "Signed files"): a sync package, the centre's
 * file-encryption key. Checked against the centre keys this terminal trusts for rules before a
 * byte of the payload is used. Used by registration and sync (the file key) and by the file
 * transport (packages).
 */

/** Checks a signed file's shape and signature; the payload text, or a refusal with the reason. */
export function openSignedFile(text: string, format: SignedFile['format'], keys: TrustedKeys): string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new AppError('FILE_REFUSED', '文件不是有效的签名文件（无法解析）')
  }
  const parsed = signedFileSchema.safeParse(value)
  if (!parsed.success || parsed.data.format !== format)
    throw new AppError('FILE_REFUSED', `文件格式不正确：应为 ${format}`)
  const { keyId, payload, signature } = parsed.data
  if (!Object.hasOwn(keys, keyId))
    throw new AppError('FILE_REFUSED', `文件的签名密钥 ${keyId.slice(0, 64)} 不受信任`)
  let valid: boolean
  try {
    valid = verify(
      null,
      Buffer.from(payload, 'utf8'),
      createPublicKey(keys[keyId]),
      Buffer.from(signature, 'base64')
    )
  } catch {
    valid = false
  }
  if (!valid) throw new AppError('FILE_REFUSED', '文件签名验证失败：内容可能被改动')
  return payload
}

/**
 * The centre's file-encryption key, checked: signed by a centre key trusted for rules, and an
 * X25519 public key. Throws FILE_REFUSED otherwise (then nothing is kept).
 */
export function readCentreFileKey(
  signedText: string,
  keys: TrustedKeys
): { keyId: string; publicKeyPem: string } {
  const parsed = centreFileKeyPayloadSchema.safeParse(
    parseJson(openSignedFile(signedText, CENTRE_FILE_KEY_FORMAT, keys))
  )
  if (!parsed.success || !isX25519PublicKey(parsed.data.publicKeyPem))
    throw new AppError('FILE_REFUSED', '中心的文件加密密钥不符合协议')
  return { keyId: parsed.data.keyId, publicKeyPem: parsed.data.publicKeyPem }
}

/** JSON text as a value, or null when it is not JSON (the schema check that follows says why). */
export function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '')
  } catch {
    return null
  }
}
