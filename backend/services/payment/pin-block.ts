import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject
} from 'node:crypto'
import {
  PIN_BLOCK_FORMAT,
  pinBlockAad,
  pinBlockContentSchema,
  type PinBlock
} from '../../../core/sync/protocol'

/**
 * The PIN block (PIN_BLOCK_FORMAT in core/sync/protocol.ts) with Node's crypto: the centre opens
 * it here; tests and benches seal with it. The counter's page seals the same format with WebCrypto
 * (renderer/src/payment/seal-pin.ts), and a test checks each opens the other's.
 */

const INFO = Buffer.from(PIN_BLOCK_FORMAT, 'utf8')

/** An X25519 public key's SPKI encoding is a fixed 12-byte header and the 32 raw bytes. */
const X25519_SPKI_HEADER = Buffer.from('302a300506032b656e032100', 'hex')

/**
 * The raw 32 bytes, read from the DER encoding: exporting a freshly generated key as JWK can
 * deadlock Node 20 when a garbage collection runs inside the export (seen sealing 100,000 blocks
 * in bench:centre: the main thread waited on a mutex for ever).
 */
function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' })
  if (der.length !== 44 || !der.subarray(0, 12).equals(X25519_SPKI_HEADER))
    throw new Error('not an X25519 public key')
  return der.subarray(12)
}

/**
 * The key of 32 raw bytes, as a JWK: importing its DER encoding instead took 19% of the centre's
 * CPU under bench:centre (OpenSSL's decoder lookup), the JWK 2%.
 */
function x25519FromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' })
}

function blockKey(shared: Buffer, ephemeralRaw: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, ephemeralRaw, INFO, 32))
}

/** Seals the six digits with the sale's id to the centre's key (PEM): what the page does at entry. */
export function sealPinBlock(
  pin: string,
  saleId: string,
  recipient: { keyId: string; publicKeyPem: string }
): PinBlock {
  const ephemeral = generateKeyPairSync('x25519')
  const ephemeralRaw = rawPublicKey(ephemeral.publicKey)
  const shared = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: createPublicKey(recipient.publicKeyPem)
  })
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', blockKey(shared, ephemeralRaw), nonce)
  cipher.setAAD(Buffer.from(pinBlockAad(recipient.keyId, saleId), 'utf8'))
  const body = Buffer.concat([cipher.update(JSON.stringify({ saleId, pin }), 'utf8'), cipher.final()])
  return {
    format: PIN_BLOCK_FORMAT,
    keyId: recipient.keyId,
    ephemeralKey: ephemeralRaw.toString('base64'),
    nonce: nonce.toString('base64'),
    sealed: Buffer.concat([body, cipher.getAuthTag()]).toString('base64')
  }
}

/**
 * The digits, when the block opens with the centre's private key (PEM, or parsed once by a caller
 * that opens many) for `saleId` and names that sale;
 * null otherwise (changed, sealed to another key, or copied from another sale).
 */
export function openPinBlock(block: PinBlock, saleId: string, privateKey: string | KeyObject): string | null {
  try {
    const ephemeralRaw = Buffer.from(block.ephemeralKey, 'base64')
    const shared = diffieHellman({
      privateKey: typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey,
      publicKey: x25519FromRaw(ephemeralRaw)
    })
    const sealed = Buffer.from(block.sealed, 'base64')
    const decipher = createDecipheriv(
      'aes-256-gcm',
      blockKey(shared, ephemeralRaw),
      Buffer.from(block.nonce, 'base64')
    )
    decipher.setAAD(Buffer.from(pinBlockAad(block.keyId, saleId), 'utf8'))
    decipher.setAuthTag(sealed.subarray(sealed.length - 16))
    const text = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - 16)),
      decipher.final()
    ]).toString('utf8')
    const content = pinBlockContentSchema.safeParse(JSON.parse(text))
    return content.success && content.data.saleId === saleId ? content.data.pin : null
  } catch {
    return null
  }
}

/** The centre's key as the page imports it: raw X25519 public key, base64. */
export function rawKeyOfPem(publicKeyPem: string): string {
  return rawPublicKey(createPublicKey(publicKeyPem)).toString('base64')
}

/** The PEM of a raw X25519 public key (base64), as sale.begin hands it to the page. */
export function pemOfRawKey(publicKey: string): string {
  return x25519FromRaw(Buffer.from(publicKey, 'base64')).export({ type: 'spki', format: 'pem' }).toString()
}
