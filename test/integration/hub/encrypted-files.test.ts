import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  CENTRE_FILE_KEY_FORMAT,
  centreFileKeyResponseSchema,
  type SignedFile
} from '../../../core/sync/protocol'
import { encryptQueueFile } from '../../../backend/services/sync/files/file-crypto'
import { readCentreFileKey } from '../../../backend/services/sync/files/signed-file'
import { DEMO_TRUSTED_KEYS } from '../../../backend/services/rules/keys'
import { FileRefused, importQueueFile } from '../../../hub/files'
import { createBundleCache } from '../../../hub/rules'
import {
  accountAtCentre,
  call,
  openTestHub,
  register,
  saleFor,
  type RegisteredTerminal
} from '../../support/hub'

/** The queue file an updated terminal writes: encrypted to a centre key, signed with the terminal's. */
function encryptedFile(
  terminal: RegisteredTerminal,
  recipient: { keyId: string; publicKeyPem: string },
  items: unknown[]
): string {
  const payload = JSON.stringify({
    terminalId: terminal.terminalId,
    exportedAt: '2026-11-22T02:30:00.000Z',
    items
  })
  const signingKeyPem = terminal.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return encryptQueueFile(payload, { terminalId: terminal.terminalId, recipient, signingKeyPem })
}

const x25519Pem = () =>
  generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()

describe('hub: queue files encrypted to the centre', () => {
  it('hands out one signed file key, at registration and on request, that the terminal checks against the keys it trusts for rules', async () => {
    const { url } = await openTestHub()
    const terminal = await register(url, 'T-AGENT001', 'DEMO-539900')
    expect(terminal.centreFileKey).toBeDefined()
    const key = readCentreFileKey(terminal.centreFileKey ?? '', DEMO_TRUSTED_KEYS)
    expect(key.publicKeyPem).toContain('BEGIN PUBLIC KEY')
    const fetched = centreFileKeyResponseSchema.parse((await call(url, '/v1/centre/file-key')).json())
    expect(readCentreFileKey(fetched.signedKey, DEMO_TRUSTED_KEYS)).toEqual(key)

    // Signed by a key the terminal does not trust, or not an X25519 key: refused, nothing kept.
    const untrusted = { 'OTHER-centre': DEMO_TRUSTED_KEYS[Object.keys(DEMO_TRUSTED_KEYS)[0]] }
    expect(() => readCentreFileKey(fetched.signedKey, untrusted)).toThrow(/不受信任/)
    const signed = JSON.parse(fetched.signedKey) as SignedFile
    const swapped: SignedFile = {
      ...signed,
      format: CENTRE_FILE_KEY_FORMAT,
      payload: JSON.stringify({ ...JSON.parse(signed.payload), publicKeyPem: x25519Pem() })
    }
    expect(() => readCentreFileKey(JSON.stringify(swapped), DEMO_TRUSTED_KEYS)).toThrow(/签名验证失败/)
  })

  it('settles an encrypted file once; refuses a changed one, one for a key it never made, and one for its key id but another key, settling nothing', async () => {
    const { url, db, clock } = await openTestHub()
    const terminal = await register(url, 'T-AGENT001', 'DEMO-539900')
    const centreKey = readCentreFileKey(terminal.centreFileKey ?? '', DEMO_TRUSTED_KEYS)
    const bundles = createBundleCache()
    const sale = saleFor('A53000001', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
      terminalId: 'T-AGENT001'
    })

    const text = encryptedFile(terminal, centreKey, [sale])
    const file = JSON.parse(text) as { ciphertext: string }
    const flipped = JSON.stringify({
      ...file,
      ciphertext:
        file.ciphertext.slice(0, 10) + (file.ciphertext[10] === 'A' ? 'B' : 'A') + file.ciphertext.slice(11)
    })
    await expect(importQueueFile(db, flipped, { clock, bundles })).rejects.toThrow(/签名验证失败/)
    await expect(
      importQueueFile(
        db,
        encryptedFile(terminal, { keyId: 'file-elsewhere', publicKeyPem: x25519Pem() }, [sale]),
        { clock, bundles }
      )
    ).rejects.toThrow(/另一个中心密钥/)
    const wrongKey = encryptedFile(terminal, { keyId: centreKey.keyId, publicKeyPem: x25519Pem() }, [sale])
    await expect(importQueueFile(db, wrongKey, { clock, bundles })).rejects.toThrow(FileRefused)
    await expect(importQueueFile(db, wrongKey, { clock, bundles })).rejects.toThrow(/无法解密/)
    expect((await accountAtCentre(url, terminal.token, 'A53000001')).balanceFen).toBe(180_000)

    expect((await importQueueFile(db, text, { clock, bundles })).summary).toEqual({ accepted: 1 })
    expect((await importQueueFile(db, text, { clock, bundles })).summary).toEqual({ alreadyAccepted: 1 })
    expect((await accountAtCentre(url, terminal.token, 'A53000001')).balanceFen).toBe(130_000)
  })
})
