import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import type { BundleRefusal } from '../../../core/rules/registry'
import type { TrustedKeys } from './keys'

/**
 * A signed bundle is an envelope around the exact bundle text: the signature covers the UTF-8 bytes
 * of `payload` as they are, so no canonical JSON form is needed and any changed byte fails.
 */
export const ENVELOPE_FORMAT = 'yibao-rule-bundle-envelope/1'

export interface BundleEnvelope {
  readonly format: typeof ENVELOPE_FORMAT
  readonly keyId: string
  readonly payload: string
  /** Ed25519 signature of the payload's UTF-8 bytes, base64. */
  readonly signature: string
}

export type OpenedEnvelope =
  { readonly ok: true; readonly keyId: string; readonly payloadText: string } | BundleRefusal

/** Signs `payloadText` with an Ed25519 private key (PEM); returns the envelope as JSON text. */
export function signPayload(payloadText: string, privateKeyPem: string, keyId: string): string {
  const key = createPrivateKey(privateKeyPem)
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`签名私钥应为 Ed25519，读到 ${key.asymmetricKeyType ?? '未知类型'}`)
  const signature = sign(null, Buffer.from(payloadText, 'utf8'), key).toString('base64')
  const envelope: BundleEnvelope = { format: ENVELOPE_FORMAT, keyId, payload: payloadText, signature }
  return `${JSON.stringify(envelope, null, 2)}\n`
}

/** The public key (PEM) that belongs to a private key: lets the signing command check its own output. */
export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString()
}

const refuse = (code: BundleRefusal['code'], message: string): BundleRefusal => ({ ok: false, code, message })

/** Checks the envelope's shape and its signature against the trusted keys. Never throws. */
export function openEnvelope(text: string, trustedKeys: TrustedKeys): OpenedEnvelope {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return refuse('NOT_ENVELOPE', '规则包文件不是有效的 JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return refuse('NOT_ENVELOPE', '规则包文件格式不正确：应为签名信封')
  }
  const record = value as Record<string, unknown>
  // A bare bundle (the centre's source file) is recognisable: say "unsigned", not "malformed".
  if (record.format !== ENVELOPE_FORMAT) {
    return 'region' in record && 'products' in record
      ? refuse('UNSIGNED', '规则包未签名：只接受中心签名的规则包')
      : refuse('NOT_ENVELOPE', `规则包文件格式不正确：format 应为 ${ENVELOPE_FORMAT}`)
  }
  const { keyId, payload, signature } = record
  if (typeof payload !== 'string' || payload.length === 0)
    return refuse('NOT_ENVELOPE', '规则包缺少内容（payload）')
  if (typeof signature !== 'string' || signature.length === 0)
    return refuse('UNSIGNED', '规则包未签名：缺少签名（signature）')
  if (typeof keyId !== 'string' || !Object.hasOwn(trustedKeys, keyId)) {
    return refuse('UNKNOWN_KEY', `规则包的签名密钥 ${String(keyId).slice(0, 64)} 不在本终端信任的中心密钥中`)
  }
  const bytes = Buffer.from(signature, 'base64')
  // Buffer.from ignores bad base64 characters; re-encoding catches an altered signature text.
  let valid = bytes.toString('base64') === signature
  if (valid) {
    try {
      valid = verify(null, Buffer.from(payload, 'utf8'), createPublicKey(trustedKeys[keyId]), bytes)
    } catch {
      valid = false
    }
  }
  if (!valid) return refuse('BAD_SIGNATURE', '规则包签名验证失败：内容可能被改动，或不是用该密钥签名的')
  return { ok: true, keyId, payloadText: payload }
}
