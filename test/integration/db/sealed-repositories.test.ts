import { describe, expect, it } from 'vitest'
import type { DecisionView } from '../../../core/eligibility'
import type { CatalogueView, ReceiptView } from '../../../core/sale'
import { createAccountsRepository } from '../../../db/repositories/accounts'
import { createSalesRepository } from '../../../db/repositories/sales'
import { sealAccount } from '../../../db/sealed-records'
import { DEMO_ACCOUNTS, DEMO_OPERATORS, demoAccountNo } from '../../../db/seeds/demo-population'
import type { CounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, recordingLogger, TEST_NOW } from '../../support/helpers'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

const payer = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001') ?? DEMO_ACCOUNTS[0]
const spouse = payer.family[0]
const HQB = 'QZ-HQB-2027'

function repositories(runtime: CounterRuntime) {
  return {
    accounts: createAccountsRepository(runtime.db, runtime.personalData),
    sales: createSalesRepository(runtime.db, runtime.personalData)
  }
}

describe('accounts and sales with personal data sealed', () => {
  it('finds an account by card and by ID through their hashes, and unseals what the services read', async () => {
    const runtime = await openTestRuntime()
    const { accounts } = repositories(runtime)
    const byCard = await accounts.findByCardNumber(payer.cardNumber)
    expect(byCard).toMatchObject({
      accountNo: demoAccountNo(payer),
      cardNumber: payer.cardNumber,
      idNumber: payer.idNumber,
      name: payer.name,
      regionCode: '330800',
      spentThisSettlementYearFen: 0,
      boundFamilyMemberCount: 3,
      removedAt: null
    })
    expect(await accounts.findByIdNumber(payer.idNumber)).toEqual(byCard)
    expect(await accounts.findById(byCard?.id ?? 0)).toEqual(byCard)
    expect(
      (await accounts.boundMembers(byCard?.id ?? 0)).map(({ idNumber, name, relation }) => ({
        idNumber,
        name,
        relation
      }))
    ).toEqual(payer.family)
    expect(await accounts.findByCardNumber('C33089999')).toBeNull()
    // The demo rule the reference centre relies on: region code, then the card without its letter.
    expect(demoAccountNo(payer)).toBe('33080033080001')
  })

  it('skips an account that left the snapshot at a swipe, yet still prints its receipts', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, payer.cardNumber)
    const sold = (await commit(
      runtime,
      clerk,
      { accountId, lines: [{ insured: { relation: 'self' }, productCode: HQB, units: 1 }] },
      payer.cardNumber
    )) as { ok: true; value: ReceiptView }
    expect(sold.ok).toBe(true)
    await runtime.db('accounts').where({ id: accountId }).update({ removed_at: TEST_NOW })

    const { accounts } = repositories(runtime)
    expect(await accounts.findByCardNumber(payer.cardNumber)).toBeNull()
    expect(await accounts.findByIdNumber(payer.idNumber)).toBeNull()
    expect(await accounts.findById(accountId)).toMatchObject({ name: payer.name, removedAt: TEST_NOW })
    expect(await runtime.dispatch('cardholder.lookup', { input: payer.cardNumber }, clerk)).toMatchObject({
      ok: false,
      error: { code: 'CARD_NOT_FOUND' }
    })
    expect(await runtime.dispatch('sale.receipt', { saleId: sold.value.saleId }, clerk)).toMatchObject({
      ok: true,
      value: { payer: { nameMasked: '徐**' } }
    })

    // The same card and person may arrive again under another account; two live accounts may not share them.
    const again = {
      ...sealAccount(runtime.personalData, payer),
      region_code: payer.regionCode,
      insurance_type: payer.insuranceType,
      status: payer.status,
      balance_fen: 1_000,
      historical_balance_fen: 0,
      balance_as_of: TEST_NOW,
      updated_at: TEST_NOW
    }
    await runtime.db('accounts').insert({ ...again, account_no: '330800NEW0001' })
    expect(await accounts.findByCardNumber(payer.cardNumber)).toMatchObject({
      accountNo: '330800NEW0001',
      balanceFen: 1_000
    })
    await expect(runtime.db('accounts').insert({ ...again, account_no: '330800NEW0002' })).rejects.toThrow(
      /UNIQUE/
    )
  })

  it('counts what the centre says a person holds as held, until the cover ends or the account leaves', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, payer.cardNumber)
    const { accounts, sales } = repositories(runtime)
    expect(await sales.holds(spouse.idNumber, HQB, TEST_NOW)).toBe(false)

    await runtime.db('holdings').insert({
      account_id: accountId,
      id_hash: runtime.personalData.lookupHash(spouse.idNumber),
      product_code: HQB,
      cover_from: '2026-12-31T16:00:00.000Z',
      cover_to: '2027-12-31T16:00:00.000Z'
    })
    expect(await accounts.holdsPerSnapshot(spouse.idNumber, HQB, TEST_NOW)).toBe(true)
    expect(await sales.holds(spouse.idNumber, HQB, TEST_NOW)).toBe(true)
    expect(await sales.holds(spouse.idNumber, 'QZ-HQB-2021', TEST_NOW)).toBe(false)
    expect(await sales.holds(payer.idNumber, HQB, TEST_NOW)).toBe(false)
    expect(await accounts.holdsPerSnapshot(spouse.idNumber, HQB, '2028-01-01T00:00:00.000Z')).toBe(false)

    // 惠衢保 is one per person per cover: the rules refuse a second one.
    const check = (await runtime.dispatch(
      'eligibility.check',
      {
        payer: { accountId },
        insured: { relation: 'spouse', idNumber: spouse.idNumber },
        productCode: HQB,
        units: 1
      },
      clerk
    )) as { ok: true; value: DecisionView }
    expect(check.value.eligible).toBe(false)

    await runtime.db('accounts').where({ id: accountId }).update({ removed_at: TEST_NOW })
    expect(await sales.holds(spouse.idNumber, HQB, TEST_NOW)).toBe(false)
  })

  it('refuses negative spending this year, and keeps snapshot_state to one row', async () => {
    const runtime = await openTestRuntime()
    await expect(runtime.db('accounts').where({ id: 1 }).update({ spent_this_year_fen: -1 })).rejects.toThrow(
      /CHECK/
    )
    await expect(
      runtime.db('accounts').where({ id: 1 }).update({ spent_this_year_fen: 1.5 })
    ).rejects.toThrow(/CHECK/)
    await expect(runtime.db('snapshot_state').insert({ id: 2, version: 1 })).rejects.toThrow(/CHECK/)
  })

  it('logs no card number, ID number or name through a whole sale: lookup, quote, sale, receipt, history, void', async () => {
    const log = recordingLogger()
    const runtime = await openTestRuntime({ log })
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, payer.cardNumber)
    await runtime.dispatch('cardholder.lookup', { input: payer.idNumber }, clerk)
    await runtime.dispatch('cardholder.lookup', { input: 'C33089999' }, clerk)
    const catalogue = (await runtime.dispatch('sale.catalogue', { accountId }, clerk)) as {
      ok: true
      value: CatalogueView
    }
    const memberId = catalogue.value.family.find((member) => member.relation === 'spouse')?.memberId
    const order = {
      accountId,
      lines: [
        { insured: { relation: 'self' as const }, productCode: HQB, units: 1 },
        {
          insured: { relation: 'spouse' as const, memberId, enrolmentConfirmed: true },
          productCode: HQB,
          units: 1
        }
      ]
    }
    await runtime.dispatch('sale.quote', order, clerk)
    await commit(runtime, clerk, order, 'D32050001')
    const sold = (await commit(runtime, clerk, order, payer.cardNumber)) as { ok: true; value: ReceiptView }
    expect(sold).toMatchObject({ ok: true })
    await runtime.dispatch('sale.receipt', { saleId: sold.value.saleId }, clerk)
    await runtime.dispatch('sale.search', { query: payer.idNumber, scope: 'all' }, clerk)
    const supervisor = DEMO_OPERATORS.find((o) => o.role === 'supervisor')
    await runtime.dispatch(
      'sale.void',
      {
        saleId: sold.value.saleId,
        reason: '测试',
        supervisorCode: supervisor?.code ?? '',
        supervisorPin: supervisor?.pin ?? ''
      },
      clerk
    )

    const logged = log.lines.join('\n')
    expect(log.lines.length).toBeGreaterThan(3)
    for (const account of DEMO_ACCOUNTS) {
      for (const value of [
        account.cardNumber,
        account.idNumber,
        account.name,
        ...account.family.flatMap((m) => [m.idNumber, m.name])
      ]) {
        expect(logged, value).not.toContain(value)
      }
    }
  })
})
