import { PIN_BLOCK_FORMAT, pinBlockAad, type PinBlock } from '@core/sync/protocol'

/**
 * Seals the customer's password the moment it is typed (PIN_BLOCK_FORMAT in core/sync/protocol.ts):
 * the digits leave this page only inside the block, bound to the sale's id, readable only by the
 * centre. WebCrypto, so the digits never cross to the backend or into a log; the centre opens the
 * block with Node (backend/services/payment/pin-block.ts), and a test checks they agree.
 */

const encoder = new TextEncoder()

function base64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let text = ''
  for (const byte of view) text += String.fromCharCode(byte)
  return btoa(text)
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export interface PinKey {
  readonly keyId: string
  /** The centre's X25519 public key, raw, base64. */
  readonly publicKey: string
}

export async function sealPin(pin: string, saleId: string, key: PinKey): Promise<PinBlock> {
  const subtle = globalThis.crypto.subtle
  const recipient = await subtle.importKey('raw', fromBase64(key.publicKey), { name: 'X25519' }, false, [])
  const ephemeral = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair
  const ephemeralRaw = new Uint8Array(await subtle.exportKey('raw', ephemeral.publicKey))
  const shared = await subtle.deriveBits({ name: 'X25519', public: recipient }, ephemeral.privateKey, 256)
  const hkdf = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey'])
  const aesKey = await subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: ephemeralRaw, info: encoder.encode(PIN_BLOCK_FORMAT) },
    hkdf,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt']
  )
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12))
  const sealed = await subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: encoder.encode(pinBlockAad(key.keyId, saleId)) },
    aesKey,
    encoder.encode(JSON.stringify({ saleId, pin }))
  )
  return {
    format: PIN_BLOCK_FORMAT,
    keyId: key.keyId,
    ephemeralKey: base64(ephemeralRaw),
    nonce: base64(nonce),
    sealed: base64(sealed)
  }
}
