import { describe, expect, it } from 'vitest'
import {
  demoAccount,
  accountAtCentre,
  openTestHub,
  register,
  saleFor,
  snapshot,
  upload
} from '../../support/hub'

const DAY = 86_400_000

/** 赵丽华 (Yunnan): 吉瑞安康 paid yearly; the first year's cover ends 2026-12-18 (Beijing), the second instalment then due. */
const INSTALMENTS = 'A53000004'

describe('hub: which holdings an account’s line shows', () => {
  it('a policy with an instalment to pay stays listed after its cover ends, in grace and lapsed for two years, then goes', async () => {
    const { url, clock } = await openTestHub()
    let terminals = 0
    // A new terminal each time: a token does not outlive the clock's jumps.
    const holdings = async () => {
      const { token } = await register(url, `T-HOLD${String(++terminals).padStart(4, '0')}`)
      return (await accountAtCentre(url, token, INSTALMENTS)).holdings
    }
    const inCover = await holdings()
    expect(inCover).toEqual([
      expect.objectContaining({
        productCode: 'YN-JRAK',
        coverTo: '2026-12-17T16:00:00.000Z',
        instalments: expect.objectContaining({ paid: 1, nextDueAt: '2026-12-17T16:00:00.000Z' })
      })
    ])
    clock.advance(40 * DAY) // the cover ended 14 days ago: in grace
    expect(await holdings()).toEqual(inCover)
    clock.advance(700 * DAY) // lapsed, and reinstatable
    expect(await holdings()).toEqual(inCover)
    clock.advance(100 * DAY) // lapsed more than two years ago
    expect(await holdings()).toEqual([])
  })

  it('a person bound to two accounts: a policy bought through one comes in the next delta on both', async () => {
    // The insurer answers in an hour: its numbers would stamp the accounts showing the person too.
    const { url, db } = await openTestHub({ policyDelayMs: 3_600_000 })
    // 徐浩, 徐卫东's son, bound to 郑丽's account too (a child on both parents' accounts).
    const son = demoAccount('C33080001').family.find((member) => member.relation === 'child')
    if (!son) throw new Error('no child')
    const [other] = await db('accounts').where({ card_number: 'C33080002' }).pluck<number[]>('id')
    await db('family_members').insert({
      account_id: other,
      id_number: son.idNumber,
      name: son.name,
      relation: 'child',
      bound_at: '2026-01-05T02:00:00.000Z'
    })
    const { token, terminalId } = await register(url)
    const before = await snapshot(url, token)
    const [result] = await upload(url, token, terminalId, [
      saleFor('C33080001', [{ relation: 'child', productCode: 'QZ-HQB-2027', premiumFen: 10_000 }], {
        terminalId
      })
    ])
    expect(result.outcome).toBe('accepted')
    const delta = await snapshot(url, token, before.header.snapshotVersion)
    const holdsOf = (cardNumber: string) =>
      delta.accounts.find((account) => account.cardNumber === cardNumber)?.holdings.map((h) => h.idNumber)
    expect(holdsOf('C33080001')).toContain(son.idNumber)
    expect(holdsOf('C33080002')).toContain(son.idNumber)
  })
})
