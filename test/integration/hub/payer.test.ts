import { describe, expect, it } from 'vitest'
import { openPinBlock, sealPinBlock } from '../../../backend/services/payment/pin-block'
import { DEMO_CENTRE_FILE_KEY } from '../../../db/seeds/demo-centre-file-key'
import { addFileKey } from '../../../hub/file-key'
import { INITIAL_PIN, issueVoucher } from '../../../hub/payer'
import { accountAtCentre, call, openTestHub, register, saleFor, upload } from '../../support/hub'

/** Yunnan, 1,800.00: one YN-JRAK unit (500.00) at a time. */
const YUNNAN = 'A53000001'
const line = [{ productCode: 'YN-JRAK', premiumFen: 50_000 }]

describe('hub: the payer’s proof', () => {
  it('refuses a sale without proof, and one whose PIN block was copied from another sale, taking nothing', async () => {
    const { url } = await openTestHub()
    const { token, terminalId } = await register(url)
    const before = await accountAtCentre(url, token, YUNNAN)
    const bare = saleFor(YUNNAN, line, { terminalId, payment: null })
    const paid = saleFor(YUNNAN, line, { terminalId })
    // The right password, sealed for `paid`, replayed on a sale of the same amount.
    const replay = { ...saleFor(YUNNAN, line, { terminalId }), payment: paid.payment }
    const results = await upload(url, token, terminalId, [bare, replay])
    expect(results.map((r) => (r.outcome === 'rejected' ? r.code : r.outcome))).toEqual([
      'PAYER_UNVERIFIED',
      'PAYER_UNVERIFIED'
    ])
    expect((await accountAtCentre(url, token, YUNNAN)).balanceFen).toBe(before.balanceFen)
    const [ok] = await upload(url, token, terminalId, [paid])
    expect(ok.outcome).toBe('accepted')
  })

  it('counts wrong passwords one after another within one upload, locks the card at the fifth, and takes nothing', async () => {
    const { url } = await openTestHub()
    const { token, terminalId } = await register(url)
    const before = await accountAtCentre(url, token, YUNNAN)
    const wrong = Array.from({ length: 5 }, () => saleFor(YUNNAN, line, { terminalId, pin: '654321' }))
    const right = saleFor(YUNNAN, line, { terminalId })
    const results = await upload(url, token, terminalId, [...wrong, right])
    expect(results.map((r) => (r.outcome === 'rejected' ? r.code : r.outcome))).toEqual([
      'WRONG_PIN',
      'WRONG_PIN',
      'WRONG_PIN',
      'WRONG_PIN',
      'PIN_LOCKED',
      'PIN_LOCKED'
    ])
    expect(results[3].outcome === 'rejected' && results[3].message).toContain('还可尝试 1 次')
    // Locked for good, not only for the rest of that upload.
    const [later] = await upload(url, token, terminalId, [saleFor(YUNNAN, line, { terminalId })])
    expect(later).toMatchObject({ outcome: 'rejected', code: 'PIN_LOCKED' })
    expect((await accountAtCentre(url, token, YUNNAN)).balanceFen).toBe(before.balanceFen)
  })

  it('opens blocks sealed to an older file key after a new one is issued; a changed block never opens', async () => {
    const { url, db, clock } = await openTestHub()
    const { token, terminalId } = await register(url)
    const sealedBefore = saleFor(YUNNAN, line, { terminalId })
    await addFileKey(db, clock)
    const [result] = await upload(url, token, terminalId, [sealedBefore])
    expect(result.outcome).toBe('accepted')

    const block = sealPinBlock(INITIAL_PIN, 'sale-a', DEMO_CENTRE_FILE_KEY)
    const privateKey = (await db('file_keys').where({ key_id: DEMO_CENTRE_FILE_KEY.keyId }).first())
      .private_key_pem as string
    expect(openPinBlock(block, 'sale-a', privateKey)).toBe(INITIAL_PIN)
    expect(openPinBlock(block, 'sale-b', privateKey)).toBeNull()
    const flipped = Buffer.from(block.sealed, 'base64')
    flipped[0] ^= 1
    expect(openPinBlock({ ...block, sealed: flipped.toString('base64') }, 'sale-a', privateKey)).toBeNull()
  })

  it('an e-voucher past its validity is refused; the test hook issues one only with HUB_TEST_HOOKS', async () => {
    const { url, db, clock } = await openTestHub()
    const { token, terminalId } = await register(url)
    const account = await db('accounts').where({ card_number: YUNNAN }).first<{ id: number }>('id')
    const voucher = await issueVoucher(db, account.id, clock)
    clock.advance(10 * 60_000)
    const late = saleFor(YUNNAN, line, {
      terminalId,
      at: clock.now().toISOString(),
      payment: { method: 'voucher', voucherCode: voucher.code }
    })
    const [result] = await upload(url, token, terminalId, [late])
    expect(result).toMatchObject({ outcome: 'rejected', code: 'VOUCHER_INVALID' })
    expect(result.outcome === 'rejected' && result.message).toContain('已过期')
    const hook = await call(url, '/v1/_test/voucher', { body: { accountNo: 'X' } })
    expect(hook.status).toBe(404)
  })
})
