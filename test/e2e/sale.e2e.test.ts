import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeEach, describe, expect, it } from 'vitest'
import { DATABASE_FILE_NAME } from '../../backend/runtime'
import { fileRows, OUTPUT_DIR, signOnPad, useBrowserSession } from './harness'
import { pinPad, pressKey, swipeCard } from '../../fixtures/keyboard'
import { call } from './seed'

const session = useBrowserSession({ code: '1001', pin: '111111' })
let page: Page
beforeEach(() => {
  page = session.page
})

const rows = (sql: string) => fileRows(join(session.web.dataDir, DATABASE_FILE_NAME), sql)
const press = (key: string) => pressKey(page, key)
const sign = () => signOnPad(page)

let saleId = ''

describe('a sale at the counter', () => {
  it('opens a shift, then takes a Quzhou card from the reader and starts the order for the cardholder', async () => {
    await page.locator('[data-test="open-shift"]').click()
    await expect.poll(() => page.locator('[data-test="shift"]').innerText()).toContain('开班')
    await swipeCard(page, 'C33080001')
    await expect.poll(() => page.locator('[data-test="cardholder-region"]').innerText()).toBe('衢州市')
    await press('F2')
    await expect.poll(() => page.url()).toContain('#/sale')
    await expect.poll(() => page.locator('[data-test="order-total"]').innerText()).toBe('¥100.00')
  })

  it('adds the bound spouse, confirms her local enrolment, and the total is checked against the balance', async () => {
    await page.locator('[data-test="add-member"]').click()
    await page.locator('[data-test^="member-"]').first().click()
    await expect.poll(() => page.locator('[data-test="decision-panel"]').innerText()).toContain('✓')
    await page.locator('[data-test="line-2"]').click()
    await page.locator('[data-test="enrolled-2"]').click()
    await expect.poll(() => page.locator('[data-test="order-total"]').innerText()).toBe('¥200.00')
    expect(await page.locator('[data-test="to-confirm"]').isEnabled()).toBe(true)
    await page.screenshot({ path: join(OUTPUT_DIR, 'sale-order.png') })
  })

  it('goes back with Esc without losing anything, then confirms terms and signature', async () => {
    await press('F2')
    await page.locator('[data-test="terms-ack"]').waitFor()
    await press('Escape')
    await expect.poll(() => page.locator('[data-test="order-total"]').innerText()).toBe('¥200.00')
    await press('F2')
    await page.locator('[data-test="terms-ack"]').click()
    expect(await page.locator('[data-test="to-pay"]').isEnabled()).toBe(false)
    await sign()
    await expect.poll(() => page.locator('[data-test="to-pay"]').isEnabled()).toBe(true)
    await page.screenshot({ path: join(OUTPUT_DIR, 'sale-confirm.png') })
    await press('F2')
    await expect.poll(() => page.locator('[data-test="pay-amount"]').innerText()).toBe('¥200.00')
  })

  it('refuses payment with another card, changing nothing', async () => {
    await swipeCard(page, 'C33080002')
    await page.locator('input[data-test="pay-pin"]').waitFor()
    await pinPad(page, '123456')
    await expect.poll(() => page.locator('[data-test="sale-error"]').innerText()).toContain('不是同一张卡')
    expect(await rows('select count(*) as n from sales')).toEqual([{ n: 0 }])
    await page.locator('[data-test="pay-again"]').click()
  })

  it('a typed card number is not taken without a supervisor’s code and PIN', async () => {
    await page.locator('[data-test="pay-keyed"]').click()
    await page.locator('input[data-test="keyed-card"]').fill('C33080001')
    await page.locator('[data-test="keyed-confirm"]').click()
    await expect.poll(() => page.locator('.el-dialog').innerText()).toContain('请填写卡号、主管工号和密码')
    await page.screenshot({ path: join(OUTPUT_DIR, 'pay-keyed.png') })
    await page.locator('.el-dialog__headerbtn').click()
    expect(await page.locator('input[data-test="pay-pin"]').count()).toBe(0)
  })

  it('takes the payer’s second swipe and password from a PIN pad, records the sale, and shows the receipt', async () => {
    await swipeCard(page, 'C33080001')
    await page.locator('input[data-test="pay-pin"]').waitFor()
    await page.screenshot({ path: join(OUTPUT_DIR, 'pay-pin.png') })
    // A PIN pad types as fast as a reader: the digits go into the password field, not to the reader.
    await pinPad(page, '123456')
    await expect
      .poll(() => page.locator('[data-test="receipt-total"]').innerText(), { timeout: 10_000 })
      .toBe('¥200.00')
    saleId = await page.locator('[data-test="receipt-id"]').innerText()
    expect(saleId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/)
    expect(await page.locator('[data-test="receipt-status"]').innerText()).toContain('待上传')
    expect(await page.locator('[data-test="receipt-proof"]').innerText()).toBe('刷卡并验证密码')
    await page.screenshot({ path: join(OUTPUT_DIR, 'sale-receipt.png') })

    expect(
      await rows(`select status, total_fen, rules_version, region_code from sales where id = '${saleId}'`)
    ).toEqual([{ status: 'queued', total_fen: 20_000, rules_version: 2, region_code: '330800' }])
    expect(
      await rows(
        `select insured_relation, product_code, premium_fen from sale_lines where sale_id = '${saleId}' order by line_no`
      )
    ).toEqual([
      { insured_relation: 'self', product_code: 'QZ-HQB-2027', premium_fen: 10_000 },
      { insured_relation: 'spouse', product_code: 'QZ-HQB-2027', premium_fen: 10_000 }
    ])
    expect(await rows(`select kind, amount_fen from ledger where sale_id = '${saleId}'`)).toEqual([
      { kind: 'reserve', amount_fen: -20_000 }
    ])
    expect(await rows(`select kind, state from outbox where sale_id = '${saleId}'`)).toEqual([
      { kind: 'sale', state: 'pending' }
    ])
  })

  it('prints the receipt on an 80 mm roll, one page as long as the receipt, with the id and the total', async () => {
    // The office keeps a stub of each receipt (a supervisor's setting, read at each print).
    const supervisor = await call<{ token: string }>(session.web.url, 'auth.signIn', {
      operatorCode: '9001',
      pin: '999999'
    })
    await call(
      session.web.url,
      'printer.saveSettings',
      { receiptPrinter: null, a4Printer: null, autoPrintReceipt: false, officeStub: true },
      supervisor.token
    )
    // The print dialog is the browser's: stubbed, so what the 80 mm button prepares is printed by Chromium here.
    await page.evaluate('window.print = () => undefined')
    await page.locator('[data-test="print-80"]').click()
    // The print reads the terminal's printer settings first: the copy is laid out once they are in.
    await page.locator('.receipt-print').waitFor({ state: 'attached' })
    await page.emulateMedia({ media: 'print' })
    const pdf = join(OUTPUT_DIR, 'sale-receipt-80mm.pdf')
    await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true })
    await page.emulateMedia({ media: 'screen' })
    await page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' })
    // One page, 80 mm (226.8 pt) wide: the roll's width, not a Letter page, and nothing cut.
    expect(info).toMatch(/Pages:\s+1\n/)
    const [width, height] = (/Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info) ?? []).slice(1).map(Number)
    expect(Math.abs(width - 226.8)).toBeLessThan(1)
    expect(height).toBeGreaterThan(200)
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' })
    expect(text).toContain(saleId.slice(0, 13))
    expect(text).toContain('¥200.00')
    expect(text).toContain('待上传')
    // The customer's copy, then the office's stub below a cut line, on the same strip.
    const squeezed = text.replace(/\s+/g, '')
    expect(squeezed).toContain('客户联')
    expect(squeezed).toContain('网点存根联')
    // Nothing of the app around it.
    expect(text).not.toContain('交易查询')
    execFileSync('pdftoppm', ['-png', '-r', '110', '-singlefile', pdf, join(OUTPUT_DIR, 'sale-receipt-80mm')])
    expect(await page.locator('.receipt-print').count()).toBe(0)
  })

  it('refuses a Tibet cardholder one fen below the threshold, saying why, and sells nothing', async () => {
    await press('F2') // next customer
    await expect.poll(() => page.url()).toContain('#/counter')
    await swipeCard(page, 'B54000002')
    await expect.poll(() => page.locator('[data-test="cardholder-region"]').innerText()).toBe('西藏自治区')
    // Said at the counter, before any order: the balance rule, and 办理 is not offered.
    await expect.poll(() => page.locator('[data-test="account-refused"]').innerText()).toContain('2,999.99')
    expect(await page.locator('[data-test="sell"]').isEnabled()).toBe(false)
    await page.screenshot({ path: join(OUTPUT_DIR, 'sale-refused.png') })
    await press('F2')
    await page.waitForTimeout(300)
    expect(page.url()).toContain('#/counter')
    expect(await rows('select count(*) as n from sales')).toEqual([{ n: 1 }])
  })

  it('shows the sale waiting for upload in the status bar, and 立即同步 (F4) says the terminal is not registered', async () => {
    const bar = page.locator('[data-test="sync-bar"]')
    await expect.poll(() => bar.innerText()).toContain('待上传 1 笔 ¥200.00')
    expect(await page.locator('[data-test="sync-connection"]').innerText()).toBe('未连接中心')
    await press('F4')
    await expect.poll(() => page.locator('.el-message--error').innerText()).toContain('本终端尚未向中心注册')
    await page.locator('footer').screenshot({ path: join(OUTPUT_DIR, 'sync-status-bar.png') })

    // The bar at its fullest: offline, a rejected sale, two limits near. Only the answer is dressed up.
    const deadline = new Date(Date.now() + (5 * 3600 + 12 * 60 + 9) * 1000).toISOString()
    await page.route('**/api/sync.status', async (route) => {
      const response = await route.fetch()
      const body = (await response.json()) as { ok: boolean; value: Record<string, unknown> }
      const near = (kind: string) => ({ kind, regionName: '衢州市', level: 'near', deadline, text: '' })
      const lastSyncAt = new Date(Date.now() - 3 * 3600_000).toISOString()
      body.value = {
        ...body.value,
        registered: true,
        connection: 'offline',
        lastSyncAt,
        lastError: '上传交易：连接中心超时',
        rejectedCount: 1,
        limits: [near('rulesAge'), near('snapshotAge')]
      }
      await route.fulfill({ response, json: body })
    })
    await press('F4')
    await expect
      .poll(() => page.locator('[data-test="sync-limit"]').innerText())
      .toMatch(/衢州市规则还可离线使用 05:1\d:\d\d/)
    expect(await page.locator('[data-test="sync-rejected"]').innerText()).toBe('被拒 1 笔')
    const footer = await page.locator('footer').boundingBox()
    expect(footer?.height).toBeLessThan(40)
    await page.locator('footer').screenshot({ path: join(OUTPUT_DIR, 'sync-status-bar-warning.png') })
    await page.screenshot({ path: join(OUTPUT_DIR, 'sync-counter.png') })
    await page.unroute('**/api/sync.status')
  })

  it('finds the sale in the shift’s history and voids it with a supervisor’s PIN', async () => {
    await page.locator('[data-test="nav-history"]').click()
    await expect.poll(() => page.locator('[data-test="history-table"]').innerText()).toContain(saleId)
    await page.locator(`[data-test="void-${saleId}"]`).click()
    // The dialog says what is voided, and the reason field has the keys.
    await expect.poll(() => page.locator('[data-test="void-what"]').innerText()).toContain(saleId)
    expect(await page.locator('[data-test="void-what"]').innerText()).toContain('¥200.00')
    await expect
      .poll(() => page.evaluate('document.activeElement?.getAttribute("data-test")'))
      .toBe('void-reason')
    await page.screenshot({ path: join(OUTPUT_DIR, 'history-void.png') })
    await page.locator('input[data-test="void-reason"]').fill('客户改日再办')
    await page.locator('input[data-test="void-supervisor"]').fill('9001')
    await page.locator('input[data-test="void-pin"]').fill('999999')
    await page.locator('input[data-test="void-pin"]').press('Enter')
    await expect.poll(() => page.locator('[data-test="history-table"]').innerText()).toContain('已作废')
    expect(await rows(`select status from sales where id = '${saleId}'`)).toEqual([{ status: 'voided' }])
    // Voided before upload: it leaves the queue, and the status bar says so at once.
    await expect.poll(() => page.locator('[data-test="sync-queue"]').innerText()).toBe('待上传 0 笔 ¥0.00')
    await page.screenshot({ path: join(OUTPUT_DIR, 'history.png') })
  })

  it('shows the centre connection in settings, registration left to a supervisor', async () => {
    await page.locator('[data-test="nav-settings"]').click()
    await expect.poll(() => page.locator('[data-test="centre-current"]').innerText()).toContain('未注册')
    expect(await page.locator('[data-test="centre-register-submit"]').isDisabled()).toBe(true)
    await page.screenshot({ path: join(OUTPUT_DIR, 'settings-centre.png') })
  })
})

describe('what the cover pays: the agent’s illustration', () => {
  it('shows what each of 惠衢保’s three responsibilities pays for a sample bill, with the disclaimer, and prints it', async () => {
    await page.locator('[data-test="nav-benefits"]').click()
    await page.locator('[data-test="benefits-table"]').waitFor()
    // The first product with responsibilities is Quzhou's 惠衢保 2021, from seed 002.
    const fill = async (testId: string, yuan: string) => {
      const input = page.locator(`[data-test="${testId}"] input`)
      await input.fill(yuan)
      await input.press('Tab')
    }
    await fill('bill-selfPay-local', '80000')
    await fill('bill-selfFunded-local', '30000')
    await fill('bill-selfFunded-away', '20000')
    await fill('bill-specialDrugs-local', '25000')
    const payout = (key: string) => page.locator(`[data-test="payout-${key}"]`).innerText()
    await expect.poll(() => payout('total')).toBe('¥65,000.00')
    expect([await payout('selfPay'), await payout('selfFunded'), await payout('specialDrugs')]).toEqual([
      '¥40,000.00',
      '¥15,000.00',
      '¥10,000.00'
    ])
    expect(await page.locator('[data-test="benefits-disclaimer"]').innerText()).toContain('以保险合同条款')
    await page.screenshot({ path: join(OUTPUT_DIR, 'benefits-quzhou.png') })

    await page.evaluate('window.print = () => undefined')
    await page.locator('[data-test="benefits-print"]').click()
    await page.emulateMedia({ media: 'print' })
    const pdf = join(OUTPUT_DIR, 'benefits-quzhou.pdf')
    await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true })
    await page.emulateMedia({ media: 'screen' })
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).replace(
      /[ \t]+/g,
      ' '
    )
    for (const figure of ['40,000.00', '15,000.00', '10,000.00', '65,000.00']) expect(text).toContain(figure)
    expect(text.replace(/\s+/g, '')).toContain('实际赔付以保险合同条款及保险公司核定为准')
    expect(text).not.toContain('交易查询')
    execFileSync('pdftoppm', ['-png', '-r', '60', '-singlefile', pdf, join(OUTPUT_DIR, 'benefits-quzhou-a4')])

    // Yunnan's maturity return: 2 units of 吉瑞安康 over the bundle's 10 years, marked 示例.
    await page.locator('[data-test="benefits-product"]').click()
    await page.getByRole('option', { name: /吉瑞安康/ }).click()
    await page.locator('[data-test="maturity-units"] input').fill('2')
    await page.locator('[data-test="maturity-units"] input').press('Tab')
    await expect.poll(() => page.locator('[data-test="maturity-return"]').innerText()).toBe('¥11,000.00')
    expect(await page.locator('[data-test="benefits-illustrative"]').innerText()).toBe('示例')
    expect(await page.locator('[data-test="benefits-notes"]').innerText()).toContain('缴费年期 10 年')
    await page.screenshot({ path: join(OUTPUT_DIR, 'benefits-yunnan.png') })
  })
})
