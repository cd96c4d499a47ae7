import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import type { EligibilityView } from '../../../core/eligibility'
import type { DraftOrder, PaymentStart, QuoteView, ReceiptView } from '../../../core/sale'
import { DEMO_KEY_ID, signPayload } from '../../../backend/shared'
import { authorizationTimeoutFrom, type CounterRuntime } from '../../../backend/runtime'
import { demoAccountNo, DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import { setAccountStatus } from '../../../hub/db/accounts'
import { issueVoucher, MAX_PIN_TRIES, setKeyedSalesPolicy } from '../../../hub/payer'
import { openTestRuntime } from '../../support/helpers'
import { openTestHub, type TestHub } from '../../support/hub'
import { BUNDLES_DIR, sourceFileOf } from '../../support/rule-fixtures'
import { accountIdOf, beginPayment, commit, onShift, SIGNATURE } from '../../support/sale-fixtures'
import { ok, registerTerminal, syncStatus } from '../../support/sync'

const HQB = 'QZ-HQB-2027'
const SUPERVISOR = { supervisorCode: '9001', supervisorPin: '999999' }
const quzhouOrder = (accountId: number): DraftOrder => ({
  accountId,
  lines: [{ insured: { relation: 'self' }, productCode: HQB, units: 1 }]
})

/** A terminal registered with a fresh reference centre and synced: online, ready to sell. */
async function online(tuning: { authorizationTimeoutMs?: number } = {}) {
  const centre = await openTestHub()
  const runtime = await openTestRuntime({
    clock: centre.clock,
    syncTuning: { timeoutMs: 5_000, random: () => 0.5, ...tuning }
  })
  await registerTerminal(runtime, centre.url)
  const clerk = await onShift(runtime)
  await ok(runtime.dispatch('sync.now', {}, clerk))
  return { centre, runtime, clerk }
}

async function centreAccount(db: Knex, cardNumber: string) {
  return db('accounts')
    .where({ card_number: cardNumber })
    .first<{ id: number; balance_fen: number }>('id', 'balance_fen')
}

async function settledAtCentre(centre: TestHub, saleId: string) {
  const sales = await centre
    .db('hub_sales')
    .where({ sale_id: saleId })
    .count<Array<{ n: number }>>({ n: '*' })
  const result = await centre.db('item_results').where({ item_id: saleId }).first('outcome', 'code')
  return { sales: Number(sales[0].n), result: result as { outcome: string; code: string | null } | undefined }
}

const receiptOf = (runtime: CounterRuntime, clerk: CallContext, saleId: string) =>
  ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId }, clerk))

describe('online first: the centre authorizes the sale before the receipt', () => {
  it('an online sale is accepted at once, with the centre’s reference and time, and settled once', async () => {
    const { centre, runtime, clerk } = await online()
    const before = await centreAccount(centre.db, 'C33080001')
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const receipt = await ok<ReceiptView>(commit(runtime, clerk, quzhouOrder(accountId), 'C33080001'))
    expect(receipt).toMatchObject({
      status: 'accepted',
      centreResult: { rejection: null, reference: expect.stringMatching(/^ZX\d{16}$/) }
    })
    expect((await syncStatus(runtime, clerk)).queue.count).toBe(0)
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect(await settledAtCentre(centre, receipt.saleId)).toEqual({
      sales: 1,
      result: { outcome: 'accepted', code: null }
    })
    expect((await centreAccount(centre.db, 'C33080001')).balance_fen).toBe(
      before.balance_fen - receipt.totalFen
    )
  })

  it('a refusal at authorization is shown with the centre’s reason: nothing taken, the order may be paid again', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const holder = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')
    if (!holder) throw new Error('no demo account')
    await setAccountStatus(centre.db, demoAccountNo(holder), 'suspended', centre.clock)
    const before = await centreAccount(centre.db, 'C33080001')
    const refused = await ok<ReceiptView>(commit(runtime, clerk, quzhouOrder(accountId), 'C33080001'))
    expect(refused).toMatchObject({
      status: 'rejected',
      centreResult: { rejection: { code: 'ACCOUNT_SUSPENDED', message: expect.stringContaining('暂停参保') } }
    })
    expect((await centreAccount(centre.db, 'C33080001')).balance_fen).toBe(before.balance_fen)

    // Enrolment restored at the centre: the same order, a new sale, goes through; the refused one took nothing.
    await setAccountStatus(centre.db, demoAccountNo(holder), 'active', centre.clock)
    const again = await ok<ReceiptView>(commit(runtime, clerk, quzhouOrder(accountId), 'C33080001'))
    expect(again.status).toBe('accepted')
    expect(again.saleId).not.toBe(refused.saleId)
  })

  it('a wrong password is refused at the counter with the tries left; the card locks at the centre after five', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const before = await centreAccount(centre.db, 'C33080001')
    for (let left = MAX_PIN_TRIES - 1; left >= 1; left -= 1) {
      const refused = await ok<ReceiptView>(
        commit(runtime, clerk, quzhouOrder(accountId), 'C33080001', { pin: '000000' })
      )
      expect(refused.centreResult?.rejection).toEqual({
        code: 'WRONG_PIN',
        message: `社保卡密码错误，还可尝试 ${left} 次，未扣款`
      })
    }
    const locked = await ok<ReceiptView>(
      commit(runtime, clerk, quzhouOrder(accountId), 'C33080001', { pin: '000000' })
    )
    expect(locked.centreResult?.rejection?.code).toBe('PIN_LOCKED')
    // Locked: even the right password is refused until an office resets it.
    const right = await ok<ReceiptView>(commit(runtime, clerk, quzhouOrder(accountId), 'C33080001'))
    expect(right.centreResult?.rejection?.code).toBe('PIN_LOCKED')
    expect((await centreAccount(centre.db, 'C33080001')).balance_fen).toBe(before.balance_fen)
    // Told at the counter: kept as refused, not left for the supervisor to follow up.
    expect(
      await runtime.db('sales').where({ status: 'rejected' }).count<Array<{ n: number }>>({ n: '*' })
    ).toEqual([{ n: MAX_PIN_TRIES + 1 }])
    expect((await syncStatus(runtime, clerk)).rejectedCount).toBe(0)
  })

  it('a card’s own password: the initial one no longer opens it', async () => {
    const { runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'D32050001')
    const order: DraftOrder = {
      accountId,
      lines: [{ insured: { relation: 'self' }, productCode: 'SZ-HEALTH-DEMO', amountFen: 50_000 }]
    }
    const initial = await ok<ReceiptView>(commit(runtime, clerk, order, 'D32050001'))
    expect(initial.centreResult?.rejection?.code).toBe('WRONG_PIN')
    const own = await ok<ReceiptView>(commit(runtime, clerk, order, 'D32050001', { pin: '135790' }))
    expect(own.status).toBe('accepted')
  })

  it('older queued sales of the same account go first, in the authorization, each settled once', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    centre.faults.unavailable = 1_000
    const queued = await ok<ReceiptView>(commit(runtime, clerk, quzhouOrder(accountId), 'C33080001'))
    expect(queued.status).not.toBe('accepted')
    centre.faults.unavailable = 0
    // The spouse bound to the account, in a second sale: the first is still queued here.
    const catalogue = await ok<{ family: Array<{ memberId: number; relation: string }> }>(
      runtime.dispatch('sale.catalogue', { accountId }, clerk)
    )
    const spouse = catalogue.family.find((member) => member.relation === 'spouse')
    if (!spouse) throw new Error('no spouse bound to C33080001')
    const now = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId,
          lines: [
            {
              insured: { relation: 'spouse', memberId: spouse.memberId, enrolmentConfirmed: true },
              productCode: HQB,
              units: 1
            }
          ]
        },
        'C33080001'
      )
    )
    expect(now.status).toBe('accepted')
    expect((await receiptOf(runtime, clerk, queued.saleId)).status).toBe('accepted')
    const order = await centre
      .db('item_results')
      .whereIn('item_id', [queued.saleId, now.saleId])
      .orderBy('reference')
      .pluck('item_id')
    expect(order).toEqual([queued.saleId, now.saleId])
    await ok(runtime.dispatch('sync.now', {}, clerk))
    for (const id of [queued.saleId, now.saleId]) expect((await settledAtCentre(centre, id)).sales).toBe(1)
  })
})

describe('no answer in time: the sale waits, and is settled once', () => {
  it('the centre slower than the wait: 待上传 now, accepted once after the upload', async () => {
    const { centre, runtime, clerk } = await online({ authorizationTimeoutMs: 400 })
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    centre.faults.delayMs = 3_000
    const started = Date.now()
    const receipt = await ok<ReceiptView>(commit(runtime, clerk, quzhouOrder(accountId), 'C33080001'))
    expect(Date.now() - started).toBeLessThan(2_500)
    expect(['queued', 'uploaded']).toContain(receipt.status)
    expect(receipt.centreResult).toBeNull()
    centre.faults.delayMs = 0
    // The late answer and the upload are one settlement: the centre deduplicates on the sale's id.
    await expect
      .poll(async () => (await settledAtCentre(centre, receipt.saleId)).sales, { timeout: 10_000 })
      .toBe(1)
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect((await receiptOf(runtime, clerk, receipt.saleId)).status).toBe('accepted')
    expect(await settledAtCentre(centre, receipt.saleId)).toMatchObject({ sales: 1 })
  })

  it('waits as long as the installation configured (COUNTER_AUTHORIZATION_TIMEOUT_MS), within bounds', async () => {
    expect(authorizationTimeoutFrom({ COUNTER_AUTHORIZATION_TIMEOUT_MS: '1500' })).toBe(1_500)
    for (const odd of ['100', '60000', '2.5', 'abc', undefined])
      expect(authorizationTimeoutFrom({ COUNTER_AUTHORIZATION_TIMEOUT_MS: odd })).toBeUndefined()
    process.env.COUNTER_AUTHORIZATION_TIMEOUT_MS = '500'
    onTestFinished(() => {
      delete process.env.COUNTER_AUTHORIZATION_TIMEOUT_MS
    })
    const { centre, runtime, clerk } = await online()
    centre.faults.delayMs = 4_000
    const started = Date.now()
    const receipt = await ok<ReceiptView>(
      commit(runtime, clerk, quzhouOrder(await accountIdOf(runtime, clerk, 'C33080001')), 'C33080001')
    )
    expect(Date.now() - started).toBeLessThan(2_500)
    expect(receipt.status).toBe('uploaded')
    centre.faults.delayMs = 0
  })

  it('the answer lost after the centre committed: the upload is answered "already accepted", money taken once', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const before = await centreAccount(centre.db, 'C33080001')
    centre.faults.dropResponseAfterCommit = 1
    const receipt = await ok<ReceiptView>(commit(runtime, clerk, quzhouOrder(accountId), 'C33080001'))
    expect(receipt.status).toBe('uploaded')
    await ok(runtime.dispatch('sync.now', {}, clerk))
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect((await receiptOf(runtime, clerk, receipt.saleId)).status).toBe('accepted')
    expect(await settledAtCentre(centre, receipt.saleId)).toMatchObject({ sales: 1 })
    expect((await centreAccount(centre.db, 'C33080001')).balance_fen).toBe(
      before.balance_fen - receipt.totalFen
    )
  })

  it('a wrong password typed offline travels sealed and is refused at settlement: nothing taken, the supervisor sees why', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const before = await centreAccount(centre.db, 'C33080001')
    centre.faults.unavailable = 1_000
    const receipt = await ok<ReceiptView>(
      commit(runtime, clerk, quzhouOrder(accountId), 'C33080001', { pin: '654321' })
    )
    expect(['queued', 'uploaded']).toContain(receipt.status)
    centre.faults.unavailable = 0
    await ok(runtime.dispatch('sync.now', {}, clerk))
    expect((await receiptOf(runtime, clerk, receipt.saleId)).centreResult?.rejection).toMatchObject({
      code: 'WRONG_PIN'
    })
    expect((await centreAccount(centre.db, 'C33080001')).balance_fen).toBe(before.balance_fen)
    const supervisor = await onShift(runtime, 'supervisor')
    const rejections = await ok<Array<{ saleId: string; reason: { code: string; message: string } }>>(
      runtime.dispatch('rejections.list', { followedUp: false }, supervisor)
    )
    expect(JSON.stringify(rejections)).toContain('社保卡密码错误')
    // Found out after the customer left: the supervisor has it to follow up.
    expect((await syncStatus(runtime, clerk)).rejectedCount).toBe(1)
  })
})

describe('keyed entry and e-vouchers at the centre', () => {
  it('a keyed sale is marked keyed at the centre, which may refuse keyed sales by policy', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const accepted = await ok<ReceiptView>(
      commit(runtime, clerk, quzhouOrder(accountId), 'C33080001', { entry: 'keyed', approval: SUPERVISOR })
    )
    expect(accepted).toMatchObject({ status: 'accepted', payerProof: 'keyed' })
    await setKeyedSalesPolicy(centre.db, 'refuse')
    const shenyang = await accountIdOf(runtime, clerk, 'E21010002')
    const refused = await ok<ReceiptView>(
      commit(
        runtime,
        clerk,
        {
          accountId: shenyang,
          lines: [{ insured: { relation: 'self' }, productCode: 'SY-HEALTH-DEMO', units: 1 }]
        },
        'E21010002',
        { entry: 'keyed', approval: SUPERVISOR }
      )
    )
    expect(refused.centreResult?.rejection?.code).toBe('KEYED_REFUSED')
  })

  it('an e-voucher the centre issued to the account pays; another account’s is refused', async () => {
    const { centre, runtime, clerk } = await online()
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const mine = await issueVoucher(centre.db, (await centreAccount(centre.db, 'C33080001')).id, centre.clock)
    const theirs = await issueVoucher(
      centre.db,
      (await centreAccount(centre.db, 'A53000001')).id,
      centre.clock
    )
    const pay = async (voucherCode: string) => {
      const begun = await beginPayment(runtime, clerk, accountId)
      return ok<ReceiptView>(
        runtime.dispatch(
          'sale.commit',
          {
            saleId: begun.saleId,
            order: quzhouOrder(accountId),
            payment: { method: 'voucher', voucherCode },
            termsAcknowledged: true,
            signature: SIGNATURE
          },
          clerk
        )
      )
    }
    expect((await pay(theirs.code)).centreResult?.rejection?.code).toBe('VOUCHER_INVALID')
    expect(await pay(mine.code)).toMatchObject({ status: 'accepted', payerProof: 'voucher' })
  })
})

describe('rules that need the centre’s answer', () => {
  async function onlineOnlyQuzhou(runtime: CounterRuntime, offline: Record<string, unknown>) {
    const source = JSON.parse(await readFile(sourceFileOf('330800'), 'utf8')) as Record<string, unknown>
    const text = JSON.stringify({
      ...source,
      version: 3,
      offline: { ...(source.offline as object), ...offline }
    })
    const key = await readFile(join(BUNDLES_DIR, 'keys', `${DEMO_KEY_ID}.private.pem`), 'utf8')
    await ok(
      runtime.dispatch(
        'rules.import',
        { envelope: signPayload(text, key, DEMO_KEY_ID) },
        await onShift(runtime, 'supervisor')
      )
    )
  }

  it('a region that needs online authorization says so before the order, and sells nothing offline', async () => {
    const runtime = await openTestRuntime()
    await onlineOnlyQuzhou(runtime, { authorization: 'online' })
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const offers = await ok<EligibilityView>(runtime.dispatch('eligibility.offers', { accountId }, clerk))
    expect(offers.authorization).toEqual({
      regionOnlineOnly: true,
      onlineOnlyProducts: [],
      centreReachable: false
    })
    const quote = await ok<QuoteView>(runtime.dispatch('sale.quote', quzhouOrder(accountId), clerk))
    expect(quote.ok).toBe(false)
    expect(quote.blockers.join()).toContain('要求联网授权')
    expect(await commit(runtime, clerk, quzhouOrder(accountId), 'C33080001')).toMatchObject({
      ok: false,
      error: { code: 'SALE_REFUSED', message: expect.stringContaining('要求联网授权') }
    })
  })

  it('a product that needs it is marked, and only that product is held back offline', async () => {
    const runtime = await openTestRuntime()
    await onlineOnlyQuzhou(runtime, { onlineOnlyProducts: [HQB] })
    const clerk = await onShift(runtime)
    const accountId = await accountIdOf(runtime, clerk, 'C33080001')
    const offers = await ok<EligibilityView>(runtime.dispatch('eligibility.offers', { accountId }, clerk))
    expect(offers.authorization).toMatchObject({ regionOnlineOnly: false, onlineOnlyProducts: [HQB] })
    const quote = await ok<QuoteView>(runtime.dispatch('sale.quote', quzhouOrder(accountId), clerk))
    expect(quote.blockers.join()).toContain('须联网授权')
    const begun = await ok<PaymentStart>(runtime.dispatch('sale.begin', { accountId }, clerk))
    expect(begun.online).toBe(false)
  })
})

describe('the line to the centre', () => {
  it('is https, or http to this machine only: registration refuses another, and an old stored one is not used', async () => {
    const { runtime, clerk } = await online()
    const supervisor = await onShift(runtime, 'supervisor')
    expect(
      await runtime.dispatch(
        'sync.register',
        {
          centreUrl: 'http://yibao.example.gov.cn',
          enrolmentCode: 'DEMO-ALL',
          territory: '柯城区医保服务大厅'
        },
        supervisor
      )
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('https://') }
    })
    // Stored by an older version: refused before anything is sent.
    await runtime.db('settings').where({ key: 'sync.centre_url' }).update({ value: 'http://10.1.2.3:8790' })
    expect(await runtime.dispatch('sync.now', {}, clerk)).toMatchObject({
      ok: false,
      error: { code: 'SYNC_FAILED', message: expect.stringContaining('https://') }
    })
  })
})
