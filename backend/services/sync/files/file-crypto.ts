import {
  createCipheriv,
  createHash,
  type CipherGCM,
  type DecipherGCM,
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
  ENCRYPTED_PACKAGE_FORMAT,
  encryptedPackageAad,
  type EncryptedPackageHeader,
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
const PACKAGE_INFO = Buffer.from(`${ENCRYPTED_PACKAGE_FORMAT} AES-256-GCM`, 'utf8')

function fileKey(shared: Buffer, ephemeralKeyDer: Buffer, info: Buffer = INFO): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, ephemeralKeyDer, info, 32))
}

/** A terminal's file key as the package names it: the first 8 bytes of its SPKI DER's SHA-256. */
export function terminalFileKeyId(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' })
  return `TFK-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`
}

/** A new X25519 key pair for the terminal's packages (PEM). */
export function newTerminalFileKey(): { privateKeyPem: string; publicKeyPem: string } {
  const pair = generateKeyPairSync('x25519')
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
}

/**
 * The centre's side: a streaming cipher for a package to the terminal's file key. Write the
 * version-1 package's bytes through `cipher`; after `final()`, `header()` gives what the signed
 * first line carries (the tag exists only then).
 */
export function packageEncryptor(terminalId: string, terminalFileKeyPem: string, createdAt: string) {
  const ephemeral = generateKeyPairSync('x25519')
  const ephemeralKeyDer = ephemeral.publicKey.export({ type: 'spki', format: 'der' })
  const shared = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: createPublicKey(terminalFileKeyPem)
  })
  const recipientKeyId = terminalFileKeyId(terminalFileKeyPem)
  const nonce = randomBytes(12)
  const cipher: CipherGCM = createCipheriv(
    'aes-256-gcm',
    fileKey(shared, ephemeralKeyDer, PACKAGE_INFO),
    nonce
  )
  cipher.setAAD(Buffer.from(encryptedPackageAad({ terminalId, recipientKeyId }), 'utf8'))
  return {
    cipher,
    header: (ciphertext: { sha256: string; bytes: number }): EncryptedPackageHeader => ({
      terminalId,
      recipientKeyId,
      createdAt,
      ephemeralKey: ephemeralKeyDer.toString('base64'),
      nonce: nonce.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertextSha256: ciphertext.sha256,
      ciphertextBytes: ciphertext.bytes
    })
  }
}

/** The terminal's side: a streaming decipher for a package whose header (signed, checked) names its key. */
export function packageDecryptor(
  header: EncryptedPackageHeader,
  terminalFilePrivateKeyPem: string
): DecipherGCM {
  const ephemeralKeyDer = Buffer.from(header.ephemeralKey, 'base64')
  const shared = diffieHellman({
    privateKey: createPrivateKey(terminalFilePrivateKeyPem),
    publicKey: createPublicKey({ key: ephemeralKeyDer, format: 'der', type: 'spki' })
  })
  const decipher = createDecipheriv(
    'aes-256-gcm',
    fileKey(shared, ephemeralKeyDer, PACKAGE_INFO),
    Buffer.from(header.nonce, 'base64')
  )
  decipher.setAAD(Buffer.from(encryptedPackageAad(header), 'utf8'))
  decipher.setAuthTag(Buffer.from(header.tag, 'base64'))
  return decipher
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
