import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pinBlockSchema } from '../../core/sync/protocol'
import { openPinBlock, rawKeyOfPem } from '../../backend/services/payment/pin-block'
import { DEMO_CENTRE_FILE_KEY } from '../../db/seeds/demo-centre-file-key'
import { sealPin } from '../../renderer/src/payment/seal-pin'

const privateKeyPem = () =>
  readFile(join(process.cwd(), 'bundles/keys/DEMO-file-key-NOT-FOR-PRODUCTION.private.pem'), 'utf8')

describe('the password sealed in the page (WebCrypto), opened by the centre (Node)', () => {
  it('opens to the digits for its own sale only, and carries nothing readable', async () => {
    const key = {
      keyId: DEMO_CENTRE_FILE_KEY.keyId,
      publicKey: rawKeyOfPem(DEMO_CENTRE_FILE_KEY.publicKeyPem)
    }
    const block = await sealPin('802417', '01a20116-c840-7000-8000-000000000001', key)
    expect(pinBlockSchema.parse(block)).toEqual(block)
    expect(JSON.stringify(block)).not.toContain('802417')
    const pem = await privateKeyPem()
    expect(openPinBlock(block, '01a20116-c840-7000-8000-000000000001', pem)).toBe('802417')
    expect(openPinBlock(block, '01a20116-c840-7000-8000-000000000002', pem)).toBeNull()
    // A fresh key and nonce each time: the same digits never seal to the same block.
    const again = await sealPin('802417', '01a20116-c840-7000-8000-000000000001', key)
    expect(again.sealed).not.toBe(block.sealed)
    expect(again.ephemeralKey).not.toBe(block.ephemeralKey)
  })
})
