import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { api } from '../../renderer/src/api/client'
import { useCounterStore } from '../../renderer/src/stores/counter'
import { useSaleStore } from '../../renderer/src/stores/sale'
import { installRealBridge } from './bridge'
import { until } from '../support/wait'

const SIGNATURE = { width: 400, height: 150, strokes: ['M10 100 L60 40 L110 120'] }

beforeEach(() => {
  setActivePinia(createPinia())
})

/** A Quzhou cardholder on the counter and a sale started for them, on real services. */
async function startedQuzhouSale() {
  await installRealBridge()
  await api.call('auth.openShift', {})
  const counter = useCounterStore()
  await counter.lookup('C33080001')
  const sale = useSaleStore()
  const holder = counter.cardholder
  if (!holder) throw new Error('the Quzhou card was not found')
  expect(await sale.start(holder, 'QZ-HQB-2027')).toBe(true)
  await until(() => expect(sale.quote).not.toBeNull())
  return sale
}

describe('sale store', () => {
  it('starts with the cardholder on the product chosen, and quotes it from the rules', async () => {
    const sale = await startedQuzhouSale()
    expect(sale.people.map((p) => [p.relation, p.productCode, p.units])).toEqual([['self', 'QZ-HQB-2027', 1]])
    expect(sale.quote).toMatchObject({ ok: true, totalFen: 10_000 })
    expect(sale.catalogue?.family.map((m) => m.relation)).toEqual(['spouse', 'child', 'parent'])
  })

  it('adds a bound family member on the same product; the quote follows every change', async () => {
    const sale = await startedQuzhouSale()
    const spouse = sale.catalogue?.family.find((m) => m.relation === 'spouse')
    sale.addMember(spouse?.memberId ?? 0)
    await until(() => expect(sale.quote?.lines).toHaveLength(2))
    // Not in this terminal's snapshot as enrolled in Quzhou: the clerk must confirm it.
    expect(sale.quote?.ok).toBe(false)
    sale.change(sale.people[1].key, { enrolmentConfirmed: true })
    await until(() => expect(sale.quote).toMatchObject({ ok: true, totalFen: 20_000 }))
  })

  it('a relative added by ID shows masked like every other name; the full name goes to the sale', async () => {
    const sale = await startedQuzhouSale()
    sale.addRelative({
      relation: 'sibling',
      idNumber: '330802199001010011',
      name: '王小明',
      proofSeen: true,
      enrolmentConfirmed: true
    })
    const added = sale.people.at(-1)
    expect(added?.label).toBe('王**')
    expect(added?.name).toBe('王小明')
  })

  it('moves forward only when each step is complete, and back without losing anything', async () => {
    const sale = await startedQuzhouSale()
    expect(sale.next()).toBe(true)
    expect(sale.step).toBe('confirm')
    expect(sale.next()).toBe(false)
    sale.termsAcknowledged = true
    expect(sale.next()).toBe(false)
    sale.signature = SIGNATURE
    expect(sale.next()).toBe(true)
    expect(sale.step).toBe('pay')
    expect(sale.back()).toBe(true)
    expect(sale.back()).toBe(true)
    expect(sale.back()).toBe(false)
    expect(sale.people).toHaveLength(1)
    expect(sale.termsAcknowledged).toBe(true)
    expect(sale.signature).toEqual(SIGNATURE)
  })

  it('pays only with the same card, then holds the receipt', async () => {
    const sale = await startedQuzhouSale()
    sale.next()
    sale.termsAcknowledged = true
    sale.signature = SIGNATURE
    sale.next()
    sale.present({ kind: 'swiped', card: 'C33080002' })
    expect(await sale.pay('123456')).toBe('failed')
    expect(sale.error?.code).toBe('PAYMENT_CARD_MISMATCH')
    expect(sale.step).toBe('pay')
    // No password, or not six digits: nothing is sent.
    sale.present({ kind: 'swiped', card: 'C33080001' })
    expect(await sale.pay('12345')).toBe('failed')
    expect(sale.error?.message).toContain('6 位社保卡密码')
    expect(await sale.pay('123456')).toBe('paid')
    expect(sale.step).toBe('done')
    expect(sale.receipt).toMatchObject({ status: 'queued', totalFen: 10_000, payerProof: 'swiped' })
  })
})
