import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DATABASE_FILE_NAME } from '../../backend/runtime'
import { HUB_DB_FILE } from '../../hub/db/open'
import { DEMO_INSTALMENT } from '../../hub/db/seed'
import { startHub, type HubProcess } from '../support/hub-process'
import { fileRows, OUTPUT_DIR, signOnPad, useBrowserSession } from './harness'
import { pinPad, pressKey, swipeCard } from '../../fixtures/keyboard'
import { call } from './seed'

/**
 * The pay step against a real centre in its own process: online authorization, the password
 * verified there, keyed entry approved, the centre stopped and back. The passwords typed here are
 * then searched for in every file either side wrote, and in both processes' output.
 */

const session = useBrowserSession({ code: '1001', pin: '111111' })
let page: Page
let hub: HubProcess
let hubDir = ''
/** Typed into the PIN pad in this file: none may be found anywhere afterwards. */
const TYPED_PINS = ['135790', '482916', '730518']
/** What each centre process printed before it was killed. */
const hubOutputs: string[] = []
let supervisorToken = ''
/** The first sale accepted online: its policy number comes with a later sync. */
let acceptedSaleId = ''

beforeAll(async () => {
  hubDir = await mkdtemp(join(tmpdir(), 'hub-e2e-'))
  hub = await startHub(hubDir)
  const { token } = await call<{ token: string }>(session.web.url, 'auth.signIn', {
    operatorCode: '9001',
    pin: '999999'
  })
  await call(
    session.web.url,
    'sync.register',
    { centreUrl: hub.url, enrolmentCode: 'DEMO-ALL', territory: '柯城区医保服务大厅 2 号窗口' },
    token
  )
  await call(session.web.url, 'sync.now', {}, token)
  supervisorToken = token
}, 120_000)

afterAll(async () => {
  await hub?.stop()
  if (hubDir) await rm(hubDir, { recursive: true, force: true })
})

beforeEach(() => {
  page = session.page
})

const terminalRows = (sql: string) => fileRows(join(session.web.dataDir, DATABASE_FILE_NAME), sql)
const centreRows = (sql: string) => fileRows(join(hubDir, HUB_DB_FILE), sql)
const press = (key: string) => pressKey(page, key)
const sign = () => signOnPad(page)

const APPLICANT_MOBILE = '13912345678'

/** From the counter to the pay step for the cardholder's first product: swipe, F2, terms, signature, F2. */
async function toPayStep(card: string): Promise<void> {
  if (!page.url().includes('#/counter')) await page.locator('[data-test="nav-counter"]').click()
  await swipeCard(page, card)
  await expect.poll(() => page.locator('[data-test="cardholder-region"]').count()).toBe(1)
  await press('F2')
  // Yunnan's rules require the applicant's mobile.
  await page.locator('input[data-test="applicant-mobile"]').fill(APPLICANT_MOBILE)
  await expect.poll(() => page.locator('[data-test="to-confirm"]').isEnabled()).toBe(true)
  await press('F2')
  await page.locator('[data-test="terms-ack"]').click()
  await sign()
  await expect.poll(() => page.locator('[data-test="to-pay"]').isEnabled()).toBe(true)
  await press('F2')
  await page.locator('[data-test="pay-amount"]').waitFor()
}

/** The card again from the reader, then the password on the PIN pad. */
async function payWithCard(card: string, pin: string): Promise<void> {
  await swipeCard(page, card)
  await page.locator('input[data-test="pay-pin"]').waitFor()
  await pinPad(page, pin)
}

const receiptStatus = () => page.locator('[data-test="receipt-status"]').innerText()
const saleError = () => page.locator('[data-test="sale-error"]').innerText()

async function nextCustomer(): Promise<string> {
  const saleId = await page.locator('[data-test="receipt-id"]').innerText()
  await press('F2')
  await expect.poll(() => page.url()).toContain('#/counter')
  return saleId
}

describe('paying online: the centre answers before the receipt', () => {
  it('shows 已受理 with the centre’s number before the next customer, the card’s own password verified there', async () => {
    await page.locator('[data-test="open-shift"]').click()
    await expect.poll(() => page.locator('[data-test="shift"]').innerText()).toContain('开班')
    await swipeCard(page, 'D32050001')
    await expect
      .poll(() => page.locator('[data-test="authorization-mode"]').innerText())
      .toContain('联网授权')
    await page.screenshot({ path: join(OUTPUT_DIR, 'counter-online.png') })
    await toPayStep('D32050001')
    // Said once sale.begin has answered (empty before).
    await expect.poll(() => page.locator('[data-test="pay-mode"]').innerText()).toContain('联网授权')
    await payWithCard('D32050001', '135790')
    await expect.poll(receiptStatus, { timeout: 10_000 }).toContain('中心已受理')
    expect(await page.locator('[data-test="receipt-reference"]').innerText()).toMatch(/^ZX\d{16}$/)
    expect(await page.locator('[data-test="paid-alert"]').innerText()).toContain('医保中心已受理')
    await page.screenshot({ path: join(OUTPUT_DIR, 'pay-accepted.png') })
    // The applicant's mobile typed at the order step, masked on the paper.
    expect(await page.locator('[data-test="receipt-mobile"]').innerText()).toBe('139****5678')
    expect(await page.locator('[data-test="receipt-policy-1"]').count()).toBe(0)
    const saleId = await nextCustomer()
    acceptedSaleId = saleId
    expect(await centreRows(`select outcome from item_results where item_id = '${saleId}'`)).toEqual([
      { outcome: 'accepted' }
    ])
    expect(await centreRows(`select mobile from sale_applicants where sale_id = '${saleId}'`)).toEqual([
      { mobile: APPLICANT_MOBILE }
    ])
  })

  it('the insurer’s policy number, issued after the acceptance, comes with the next sync to the receipt', async () => {
    await call(session.web.url, 'sync.now', {}, supervisorToken)
    const [issued] = await centreRows(`select policy_no from policies where sale_id = '${acceptedSaleId}'`)
    expect(issued.policy_no).toMatch(/^BD320500\d{16}$/)
    await page.evaluate(`location.hash = '#/receipt/${acceptedSaleId}'`)
    await expect
      .poll(() => page.locator('[data-test="receipt-policy-1"]').innerText(), { timeout: 10_000 })
      .toBe(`保单号 ${issued.policy_no}`)
    expect(await page.locator('[data-test="receipt-mobile"]').innerText()).toBe('139****5678')
    await page.screenshot({ path: join(OUTPUT_DIR, 'receipt-policy.png') })
    await page.locator('[data-test="nav-counter"]').click()
    await expect.poll(() => page.url()).toContain('#/counter')
  })

  it('a wrong password is refused at the counter with the tries left; the right one then pays', async () => {
    await toPayStep('A53000001')
    await payWithCard('A53000001', '482916')
    await expect.poll(saleError, { timeout: 10_000 }).toContain('社保卡密码错误，还可尝试 4 次')
    expect(await page.locator('[data-test="pay-step"]').count()).toBe(1)
    expect(await page.locator('input[data-test="pay-pin"]').inputValue()).toBe('')
    await page.screenshot({ path: join(OUTPUT_DIR, 'pay-wrong-pin.png') })
    await pinPad(page, '123456')
    await expect.poll(receiptStatus, { timeout: 10_000 }).toContain('中心已受理')
    await nextCustomer()
    // The refused attempt is kept as refused; nothing was taken for it.
    expect(
      await terminalRows(`select status, result_code from sales where result_code = 'WRONG_PIN'`)
    ).toEqual([{ status: 'rejected', result_code: 'WRONG_PIN' }])
  })

  it('a refusal by the centre is shown at the counter with its reason', async () => {
    const [account] = await centreRows(`select account_no from accounts where card_number = 'E21010002'`)
    const suspended = await fetch(`${hub.url}/v1/_test/account-status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accountNo: account.account_no, status: 'suspended' })
    })
    expect(suspended.status).toBe(200)
    await toPayStep('E21010002')
    await payWithCard('E21010002', '123456')
    await expect.poll(saleError, { timeout: 10_000 }).toContain('医保中心拒绝本次付款')
    expect(await saleError()).toContain('暂停参保')
    await page.screenshot({ path: join(OUTPUT_DIR, 'pay-refused.png') })
    await press('Escape')
    await press('Escape')
    await press('Escape')
    // Back at the first step, Esc asks before the unpaid order is dropped.
    await page.locator('.el-message-box__btns .el-button--primary').click()
    await expect.poll(() => page.url()).toContain('#/counter')
  })

  it('a typed card number, approved by a supervisor, is marked keyed on the receipt, the sale and the audit', async () => {
    await toPayStep('D32050002')
    await page.locator('[data-test="pay-keyed"]').click()
    await page.locator('input[data-test="keyed-card"]').fill('D32050002')
    await page.locator('input[data-test="keyed-supervisor"]').fill('9001')
    await page.locator('input[data-test="keyed-supervisor-pin"]').fill('999999')
    await page.locator('[data-test="keyed-confirm"]').click()
    await expect.poll(() => page.locator('[data-test="pay-shown"]').innerText()).toContain('主管 9001 批准')
    await page.locator('input[data-test="pay-pin"]').waitFor()
    await pinPad(page, '123456')
    await expect.poll(receiptStatus, { timeout: 10_000 }).toContain('中心已受理')
    expect(await page.locator('[data-test="receipt-proof"]').innerText()).toContain('手工输入卡号')
    const saleId = await nextCustomer()
    expect(await terminalRows(`select payer_proof from sales where id = '${saleId}'`)).toEqual([
      { payer_proof: 'keyed' }
    ])
    const [audit] = await terminalRows(
      `select details_json from audit_log where action = 'sale' and subject = '${saleId}'`
    )
    expect(JSON.parse(String(audit.details_json))).toMatchObject({ payerProof: 'keyed' })
  })

  it('a policy cancelled within its cooling-off period is refunded, and the account may spend the amount again', async () => {
    /** Swiped at the counter: the most the account may spend now, as the screen says it. */
    const expectMaxSpend = async (shown: string) => {
      await swipeCard(page, 'B54000001')
      await expect
        .poll(() => page.locator('[data-test="max-spend"]').innerText(), { timeout: 10_000 })
        .toBe(shown)
    }
    await expectMaxSpend('¥1,500.00')
    await toPayStep('B54000001')
    await payWithCard('B54000001', '123456')
    await expect.poll(receiptStatus, { timeout: 10_000 }).toContain('中心已受理')
    const saleId = await nextCustomer()
    // 3,200.00 less the premium is under Tibet's 3,000 threshold: nothing more this year.
    await expectMaxSpend('¥0.00')

    // From the cardholder panel: the policy sold here is within its cooling-off period.
    await page.locator('[data-test="holding-cancel"]').click()
    await expect.poll(() => page.url()).toContain(`#/receipt/${saleId}`)
    // The dialog is open (its reason field focused) before anything is typed or swiped.
    await expect
      .poll(() => page.evaluate('document.activeElement?.getAttribute("data-test")'))
      .toBe('cancel-reason')
    await page.locator('input[data-test="cancel-reason"]').fill('客户犹豫期内改变主意')
    await expect.poll(() => page.locator('[data-test="cancel-card-hint"]').count()).toBe(1)
    await swipeCard(page, 'B54000001')
    await expect.poll(() => page.locator('[data-test="cancel-card"]').innerText()).toBe('B5*****01')
    await page.locator('input[data-test="cancel-supervisor"]').fill('9001')
    await page.locator('input[data-test="cancel-pin"]').fill('999999')
    expect(await page.locator('[data-test="cancel-refund"]').innerText()).toContain('¥598.00')
    await page.screenshot({ path: join(OUTPUT_DIR, 'cancel-dialog.png') })
    await page.locator('[data-test="cancel-confirm"]').click()
    await page.locator('[data-test="receipt-cancellations"]').waitFor()
    // Online it went up at once; the centre refunded.
    await call(session.web.url, 'sync.now', {}, supervisorToken)
    // The receipt again, as 交易查询 opens it.
    await page.locator('[data-test="nav-counter"]').click()
    await expect.poll(() => page.url()).toContain('#/counter')
    await page.evaluate(`location.hash = '#/receipt/${saleId}'`)
    await expect
      .poll(() => page.locator('[data-test="receipt-cancellation-accepted"]').count(), { timeout: 10_000 })
      .toBe(1)
    expect(await page.locator('[data-test="receipt-cancelled-1"]').count()).toBe(1)
    await page.screenshot({ path: join(OUTPUT_DIR, 'cancel-receipt.png') })
    expect(
      await centreRows(
        `select count(*) as n from policies where sale_id = '${saleId}' and cancelled_at is not null`
      )
    ).toEqual([{ n: 1 }])
    await page.locator('[data-test="nav-counter"]').click()
    await expectMaxSpend('¥1,500.00')
  })
})

describe('a yearly instalment from the cardholder panel', () => {
  it('shows the due instalment first, pays it as a line of the same policy, and the centre moves the policy on', async () => {
    await page.locator('[data-test="nav-counter"]').click()
    await swipeCard(page, DEMO_INSTALMENT.cardNumber)
    const due = page.locator('[data-test="due-instalment"]').first()
    await due.waitFor()
    expect(await page.locator('[data-test="instalment-status"]').first().innerText()).toBe('续期待缴')
    expect(await due.locator('[data-test="instalment-amount"]').innerText()).toBe('¥1,000.00')
    expect(await page.locator('[data-test="holding-policy"]').first().innerText()).toBe(
      DEMO_INSTALMENT.policyNo
    )
    await page.screenshot({ path: join(OUTPUT_DIR, 'instalment-panel.png') })

    await due.locator('[data-test="pay-instalment"]').click()
    await expect.poll(() => page.locator('[data-test="instalment-1"]').innerText()).toBe('续期 第 2/10 期')
    await page.locator('input[data-test="applicant-mobile"]').fill(APPLICANT_MOBILE)
    await expect.poll(() => page.locator('[data-test="order-total"]').innerText()).toBe('¥1,000.00')
    await page.screenshot({ path: join(OUTPUT_DIR, 'instalment-order.png') })
    await expect.poll(() => page.locator('[data-test="to-confirm"]').isEnabled()).toBe(true)
    await press('F2')
    await page.locator('[data-test="terms-ack"]').click()
    await sign()
    await expect.poll(() => page.locator('[data-test="to-pay"]').isEnabled()).toBe(true)
    await press('F2')
    await page.locator('[data-test="pay-amount"]').waitFor()
    await payWithCard(DEMO_INSTALMENT.cardNumber, '123456')
    await expect.poll(receiptStatus, { timeout: 10_000 }).toContain('中心已受理')
    expect(await page.locator('[data-test="receipt-instalment-1"]').innerText()).toContain(
      '续期缴费 第 2/10 期'
    )
    expect(await page.locator('[data-test="receipt-policy-1"]').innerText()).toContain(
      DEMO_INSTALMENT.policyNo
    )
    await page.screenshot({ path: join(OUTPUT_DIR, 'instalment-receipt.png') })
    const saleId = await nextCustomer()
    expect(
      await centreRows(
        `select instalments_paid from policies where policy_no = '${DEMO_INSTALMENT.policyNo}'`
      )
    ).toEqual([{ instalments_paid: 2 }])
    expect(
      await centreRows(`select instalment_no from received_sale_lines where sale_id = '${saleId}'`)
    ).toEqual([{ instalment_no: 2 }])
    // Next year's is not payable yet.
    await swipeCard(page, DEMO_INSTALMENT.cardNumber)
    await expect
      .poll(() => page.locator('[data-test="instalment-status"]').first().innerText())
      .toBe('未到缴费期')
    expect(await page.locator('[data-test="pay-instalment"]').count()).toBe(0)
  })
})

describe('the centre stopped, and back', () => {
  it('sales wait as 待上传; once it is back one is accepted once and the wrong password is refused', async () => {
    await hub.kill()
    hubOutputs.push(hub.output())
    await toPayStep('C33080001')
    await payWithCard('C33080001', '123456')
    await expect.poll(receiptStatus, { timeout: 15_000 }).toContain('待上传')
    const waiting = await nextCustomer()
    await toPayStep('A53000003')
    await payWithCard('A53000003', '730518')
    await expect.poll(receiptStatus, { timeout: 15_000 }).toContain('待上传')
    const wrong = await nextCustomer()

    hub = await startHub(hubDir, { port: hub.port })
    await press('F4')
    await expect
      .poll(() => page.locator('[data-test="sync-queue"]').innerText(), { timeout: 20_000 })
      .toBe('待上传 0 笔 ¥0.00')
    expect(
      await centreRows(
        `select item_id, outcome, code from item_results where item_id in ('${waiting}', '${wrong}') order by outcome`
      )
    ).toEqual([
      { item_id: waiting, outcome: 'accepted', code: null },
      { item_id: wrong, outcome: 'rejected', code: 'WRONG_PIN' }
    ])
    expect(await centreRows(`select count(*) as n from hub_sales where sale_id = '${waiting}'`)).toEqual([
      { n: 1 }
    ])
    await page.locator('[data-test="nav-history"]').click()
    await expect
      .poll(() => page.locator('[data-test="history-table"]').innerText())
      .toContain('社保卡密码错误')
    await page.screenshot({ path: join(OUTPUT_DIR, 'history-wrong-pin.png') })
  })
})

describe('the password leaves no trace', () => {
  it('is found in no file the terminal or the centre wrote, nor in either’s output', async () => {
    const files = [...(await filesUnder(session.web.dataDir)), ...(await filesUnder(hubDir))]
    expect(files.length).toBeGreaterThan(4)
    const found: string[] = []
    // The search finds what is there: the territory the terminal registered with, in the centre's files.
    let control = 0
    for (const file of files) {
      const bytes = await readFile(file)
      if (bytes.includes('柯城区医保服务大厅')) control += 1
      for (const pin of TYPED_PINS) if (bytes.includes(pin)) found.push(`${file}: ${pin}`)
    }
    expect(control).toBeGreaterThan(0)
    for (const [name, text] of [
      ['browser mode', session.web.output()],
      ...[...hubOutputs, hub.output()].map((output) => ['centre', output])
    ])
      for (const pin of TYPED_PINS) if (text.includes(pin)) found.push(`${name} output: ${pin}`)
    expect(found).toEqual([])
  })
})

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}
