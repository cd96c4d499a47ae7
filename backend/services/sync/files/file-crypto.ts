import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify
} from 'node:crypto'
import {
  ENCRYPTED_QUEUE_FILE_FORMAT,
  encryptedQueueAad,
  encryptedQueueFileSchema,
  encryptedQueueSigningText,
  type EncryptedQueueFile
} from '../../../../core/sync/protocol'

/**
 * Encrypting the queue file to the centre, and opening it there (the reference centre uses the
 * same functions). See ENCRYPTED_QUEUE_FILE_FORMAT in core/sync/protocol.ts for the construction.
 * Node's own crypto only: X25519, HKDF-SHA256, AES-256-GCM, Ed25519.
 */

const INFO = Buffer.from(`${ENCRYPTED_QUEUE_FILE_FORMAT} AES-256-GCM`, 'utf8')

function fileKey(shared: Buffer, ephemeralKeyDer: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, ephemeralKeyDer, INFO, 32))
}

/** Whether a PEM is an X25519 public key: what the centre's file key must be. */
export function isX25519PublicKey(pem: string): boolean {
  try {
    return createPublicKey(pem).asymmetricKeyType === 'x25519'
  } catch {
    return false
  }
}

/** The payload text sealed to the centre's file key and signed with the terminal's key: the file's text. */
export function encryptQueueFile(
  payloadText: string,
  options: { terminalId: string; recipient: { keyId: string; publicKeyPem: string }; signingKeyPem: string }
): string {
  const ephemeral = generateKeyPairSync('x25519')
  const ephemeralKeyDer = ephemeral.publicKey.export({ type: 'spki', format: 'der' })
  const shared = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: createPublicKey(options.recipient.publicKeyPem)
  })
  const header = {
    format: ENCRYPTED_QUEUE_FILE_FORMAT,
    terminalId: options.terminalId,
    recipientKeyId: options.recipient.keyId
  } as const
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', fileKey(shared, ephemeralKeyDer), nonce)
  cipher.setAAD(Buffer.from(encryptedQueueAad(header), 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(payloadText, 'utf8'), cipher.final()])
  const unsigned = {
    ...header,
    ephemeralKey: ephemeralKeyDer.toString('base64'),
    nonce: nonce.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64')
  }
  const signature = sign(
    null,
    Buffer.from(encryptedQueueSigningText(unsigned), 'utf8'),
    createPrivateKey(options.signingKeyPem)
  ).toString('base64')
  const file: EncryptedQueueFile = { ...unsigned, signature }
  return JSON.stringify(file)
}

/** Why an encrypted queue file was not opened: each a sentence for the centre's operator. */
export class QueueFileUnreadable extends Error {
  override readonly name = 'QueueFileUnreadable'
}

/** The parsed envelope of an encrypted queue file, or null when the text is not one (another format). */
export function parseEncryptedQueueFile(value: unknown): EncryptedQueueFile | null {
  const parsed = encryptedQueueFileSchema.safeParse(value)
  return parsed.success ? parsed.data : null
}

/**
 * Checks the terminal's signature first (nothing is decrypted from a changed or foreign file), then
 * decrypts with the centre's file key; the payload text. Throws QueueFileUnreadable with the reason.
 */
export function decryptQueueFile(
  file: EncryptedQueueFile,
  keys: { terminalPublicKeyPem: string; recipientPrivateKeyPem: string }
): string {
  let signed: boolean
  try {
    const signature = Buffer.from(file.signature, 'base64')
    signed = verify(
      null,
      Buffer.from(encryptedQueueSigningText(file), 'utf8'),
      createPublicKey(keys.terminalPublicKeyPem),
      signature
    )
  } catch {
    signed = false
  }
  if (!signed) throw new QueueFileUnreadable('待上传文件签名验证失败：内容可能被改动，或不是该终端签名的')
  try {
    const ephemeralKeyDer = Buffer.from(file.ephemeralKey, 'base64')
    const shared = diffieHellman({
      privateKey: createPrivateKey(keys.recipientPrivateKeyPem),
      publicKey: createPublicKey({ key: ephemeralKeyDer, format: 'der', type: 'spki' })
    })
    const decipher = createDecipheriv(
      'aes-256-gcm',
      fileKey(shared, ephemeralKeyDer),
      Buffer.from(file.nonce, 'base64')
    )
    decipher.setAAD(Buffer.from(encryptedQueueAad(file), 'utf8'))
    decipher.setAuthTag(Buffer.from(file.tag, 'base64'))
    return Buffer.concat([
      decipher.update(Buffer.from(file.ciphertext, 'base64')),
      decipher.final()
    ]).toString('utf8')
  } catch {
    throw new QueueFileUnreadable('待上传文件无法解密：它不是加密给本中心的，或已损坏')
  }
}
