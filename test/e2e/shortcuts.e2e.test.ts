import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DATABASE_FILE_NAME } from '../../backend/runtime'
import { openDatabase } from '../../db/connection'
import { DEMO_ACCOUNTS } from '../../db/seeds/demo-population'
import { OUTPUT_DIR, useBrowserSession } from './harness'
import { pressKey, settle, swipeCard } from '../../fixtures/keyboard'
import { DAY_OF_SALES, sellThroughApi } from './seed'

/**
 * The keyboard a clerk works by, in Chromium: F1 lists the screen's keys, the frame's keys reach
 * the screens a clerk goes to, every dialog takes the keyboard where its first field is and Enter
 * submits, Tab from 份数 goes on to the step's button, and the ID scanner fills a relative's ID.
 */
const session = useBrowserSession({ code: '9001', pin: '999999' })
let page: Page
beforeEach(() => {
  page = session.page
})

/** The data-test of the element that has the focus, or of its nearest marked ancestor. */
const focused = () =>
  page.evaluate(`document.activeElement?.closest('[data-test]')?.getAttribute('data-test') ?? null`)

const helpKeys = async () => {
  await pressKey(page, 'F1')
  const table = page.locator('[data-test="shortcut-table"]')
  await table.waitFor()
  const text = await table.innerText()
  await page.keyboard.press('Escape')
  await page.locator('[data-test="shortcut-help"]').waitFor({ state: 'hidden' })
  return text
}

let rejectedSaleId = ''
beforeAll(async () => {
  // A rejected sale for the follow-up dialog, sold by the clerk through the API.
  await sellThroughApi(session.web.url, { code: '1001', pin: '111111' }, DAY_OF_SALES.slice(0, 1))
  const db = openDatabase(join(session.web.dataDir, DATABASE_FILE_NAME))
  try {
    rejectedSaleId = String((await db('sales').first<{ id: string }>('id')).id)
    await db('sales').update({
      status: 'rejected',
      result_code: 'BALANCE_INSUFFICIENT',
      result_message: '余额不足'
    })
  } finally {
    await db.destroy()
  }
})

describe('the keyboard', () => {
  it('F1 lists what the counter offers now; F10 opens the shift and 补打 (F8) appears with it', async () => {
    const before = await helpKeys()
    for (const line of [
      'F2',
      '办理',
      'Esc',
      '清空',
      'F3',
      '交易查询',
      'F4',
      '立即同步',
      'F10',
      '开班',
      'Ctrl+,',
      '设置'
    ])
      expect(before).toContain(line)
    expect(before).not.toContain('F8')
    await pressKey(page, 'F10')
    await page.locator('[data-test="shift"]').waitFor()
    const after = await helpKeys()
    expect(after).toContain('补打本班次最近一笔凭条')
    expect(after).not.toContain('F10')
    // Nothing sold on this shift yet: 补打 says so.
    await pressKey(page, 'F8')
    await page.locator('.el-message', { hasText: '本班次还没有交易可补打' }).waitFor()
  })

  it('on the order step: Tab from the last 份数 goes to 去确认; F7’s dialog takes a scanned ID and Enter adds', async () => {
    await swipeCard(page, 'C33080001')
    await page.locator('[data-test="cardholder-name"]').waitFor()
    await pressKey(page, 'F2')
    await page.locator('[data-test="units-1"] input').waitFor()
    const keys = await helpKeys()
    for (const line of ['F5', 'F6', 'F7', '下一步']) expect(keys).toContain(line)

    await page.locator('[data-test="units-1"] input').focus()
    await expect.poll(() => page.locator('[data-test="to-confirm"]').isEnabled()).toBe(true)
    await page.keyboard.press('Tab')
    expect(await focused()).toBe('to-confirm')

    await pressKey(page, 'F7')
    await expect.poll(focused).toBe('relative-relation')
    // An ID card scanner types like a reader: the number lands in the ID field, the name is next.
    const id = DEMO_ACCOUNTS[3].idNumber
    await swipeCard(page, id)
    await expect.poll(() => page.locator('input[data-test="relative-id"]').inputValue()).toBe(id)
    await expect.poll(focused).toBe('relative-name')
    await page.keyboard.type('王小明')
    await page.screenshot({ path: join(OUTPUT_DIR, 'relative-scanned.png') })
    await page.keyboard.press('Enter')
    await page.locator('[data-test="relative-dialog"]').waitFor({ state: 'hidden' })
    await page.locator('[data-test="line-2"]').waitFor()
    // From line 1's quantity, Tab goes to line 2's, not to 删除 or line 2's checkboxes.
    await page.locator('[data-test="units-1"] input').focus()
    await page.keyboard.press('Tab')
    expect(await focused()).toMatch(/^(units|amount)-2$/)

    // A card swiped on the order step with no dialog open is not payment: said, not only beeped.
    await swipeCard(page, 'C33080001')
    await page.locator('.el-message', { hasText: '付款步骤才需要刷卡' }).waitFor()
  })

  it('F3 leaves the sale only once the clerk says so, then Ctrl+, opens 设置', async () => {
    await pressKey(page, 'F3')
    await page.locator('.el-message-box').waitFor()
    await page.locator('.el-message-box__btns .el-button--primary').click()
    await expect.poll(() => page.url()).toContain('#/history')
    // A box fading out has let go of the keyboard already.
    await pressKey(page, 'Control+Comma')
    await expect.poll(() => page.url()).toContain('#/settings')
  })

  it('in 交易查询 a swipe finds the cardholder’s sales (masked on screen) and a receipt’s QR code finds its sale', async () => {
    await pressKey(page, 'F3')
    await expect.poll(() => page.url()).toContain('#/history')
    await page.locator('input[data-test="history-query"]').focus()
    await swipeCard(page, 'E21010002')
    await expect.poll(() => page.locator('[data-test="history-scanned"]').innerText()).toContain('E2*****02')
    await expect.poll(() => page.locator('[data-test="history-table"]').innerText()).toContain('没有交易')
    await swipeCard(page, 'C33080001')
    await expect.poll(() => page.locator('[data-test="history-table"]').innerText()).toContain(rejectedSaleId)
    expect(await page.locator('input[data-test="history-query"]').inputValue()).toBe('')
    expect(await page.locator('body').innerText()).not.toContain('C33080001')
    // The receipt's QR code is the transaction number, typed by the scanner like a reader's burst.
    await swipeCard(page, rejectedSaleId)
    await expect
      .poll(() => page.locator('[data-test="history-scanned"]').innerText())
      .toContain(`交易 ${rejectedSaleId}`)
    await expect.poll(() => page.locator('[data-test="history-table"] tbody tr').count()).toBe(1)
    await page.screenshot({ path: join(OUTPUT_DIR, 'history-scanned.png') })
  })

  it('the supervisor’s dialogs start in their first field, and Enter saves', async () => {
    await page.locator('[data-test="nav-supervisor"]').click()
    await page.locator('[data-test="supervisor-operators"]').click()
    await page.locator('[data-test="operator-add"]').click()
    await expect.poll(focused).toBe('new-operator-code')
    await page.keyboard.type('2005')
    await page.keyboard.press('Tab')
    await page.keyboard.type('李雷')
    await page.locator('input[data-test="new-operator-pin"]').fill('246810')
    await page.locator('input[data-test="new-operator-pin-confirm"]').fill('246810')
    await page.keyboard.press('Enter')
    await page.locator('[data-test="operator-create-dialog"]').waitFor({ state: 'hidden' })
    await expect.poll(() => page.locator('[data-test="operators-table"]').innerText()).toContain('2005')

    await page.locator('[data-test="supervisor-rejections"]').click()
    await page.locator('[data-test^="follow-up-open-"]').first().click()
    await expect.poll(focused).toBe('follow-up-note')
    await page.keyboard.type('已电话联系客户，改日重新办理')
    await settle(page)
    await page.keyboard.press('Enter')
    await page.locator('[data-test="follow-up-dialog"]').waitFor({ state: 'hidden' })
  })
})
