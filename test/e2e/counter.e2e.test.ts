import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../db/connection'
import { DEMO_ACCOUNTS } from '../../db/seeds/demo-population'
import { DATABASE_FILE_NAME } from '../../backend/runtime'
import { launchChromium, OUTPUT_DIR, signIn, startWebMode, type WebMode } from './harness'

let web: WebMode
let browser: Awaited<ReturnType<typeof launchChromium>>
let page: Page
const consoleErrors: string[] = []

beforeAll(async () => {
  web = await startWebMode()
  browser = await launchChromium()
  page = await browser.context.newPage()
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
  await page.goto(web.url)
})

afterAll(async () => {
  await browser?.close()
})

async function swipe(text: string): Promise<void> {
  const input = page.getByRole('textbox', { name: '社会保障卡号或身份证号' })
  await input.fill(text)
  await input.press('Enter')
}

const panel = () => page.locator('[data-test="cardholder-panel"]')
const alert = () => page.locator('[data-test="lookup-error"]')

async function databaseRows(): Promise<unknown> {
  const db = openDatabase(join(web.dataDir, DATABASE_FILE_NAME))
  try {
    return {
      accounts: await db('accounts').orderBy('id').select(),
      family: await db('family_members').orderBy('id').select(),
      settings: await db('settings').orderBy('key').select()
    }
  } finally {
    await db.destroy()
  }
}

describe('the counter screen in browser mode', () => {
  it('started on the given port with a fresh data folder, and asks an operator to sign in, in Chinese', async () => {
    expect(web.url).toBe(`http://127.0.0.1:${web.port}/`)
    expect(web.output()).toContain(`数据目录：${web.dataDir}`)
    await expect.poll(() => page.url()).toContain('#/sign-in')
    await page.locator('input[data-test="operator-code"]').fill('1001')
    await page.locator('input[data-test="operator-pin"]').fill('000000')
    await page.locator('[data-test="sign-in"]').click()
    await expect
      .poll(() => page.locator('[data-test="sign-in-error"]').innerText())
      .toContain('工号或密码不正确')
    await page.screenshot({ path: join(OUTPUT_DIR, 'sign-in.png') })
  })

  it('opens on the counter once the clerk has signed in', async () => {
    await signIn(page, '1001', '111111')
    expect(await page.locator('[data-test="operator"]').innerText()).toContain('张敏')
    expect(page.url()).toContain('#/counter')
    await expect.poll(() => page.locator('header').innerText()).toContain('医保个账购买商业健康保险柜台')
    expect(await page.locator('[data-test="demo-tag"]').innerText()).toBe('演示数据 · 演示密钥')
    // Browser mode has no OS key protection: the header says the personal-data key is a plain file.
    expect(await page.locator('[data-test="key-unprotected-tag"]').innerText()).toBe(
      '个人信息密钥未受系统保护'
    )
    expect(await panel().innerText()).toContain('请刷社会保障卡')
    // The card field has focus from the start: a clerk can swipe without touching the mouse.
    expect(await page.locator(':focus').getAttribute('data-test')).toBe('card-input')
  })

  it('shows a known card’s holder masked, with region, insurance type and balances', async () => {
    const before = await databaseRows()
    await swipe('A53000001')
    await expect.poll(() => page.locator('[data-test="cardholder-name"]').innerText()).toBe('张**')
    const shown = await panel().innerText()
    expect(shown).toContain('云南省省本级')
    expect(shown).toContain('职工基本医疗保险（在职）')
    expect(shown).toContain('正常参保')
    expect(await page.locator('[data-test="cardholder-balance"]').innerText()).toBe('¥1,800.00')
    expect(await page.locator('[data-test="cardholder-historical"]').innerText()).toBe('¥1,500.00')
    expect(await page.locator('[data-test="cardholder-id"]').innerText()).toMatch(/^5301\*{10}\d{3}[\dX]$/)
    expect(await page.locator('[data-test="cardholder-card"]').innerText()).toBe('A****0001')

    const account = DEMO_ACCOUNTS[0]
    const everything = await page.locator('body').innerText()
    expect(everything).not.toContain(account.name)
    expect(everything).not.toContain(account.idNumber)
    expect(await page.getByRole('textbox', { name: '社会保障卡号或身份证号' }).inputValue()).toBe('')
    expect(await databaseRows()).toEqual(before)
  })

  it('shows what the cardholder may buy for themselves, from the region’s signed rules', async () => {
    await expect.poll(() => page.locator('[data-test="max-spend"]').innerText()).toBe('¥800.00')
    expect(await page.locator('[data-test="rules-version"]').innerText()).toContain(
      '云南省省本级 规则包第 2 版'
    )
    const offers = await page.locator('[data-test="offers-table"]').innerText()
    expect(offers).toContain('吉瑞安康')
    expect(offers).toContain('每份 ¥500.00，可买 1 份')
    expect(await page.locator('[data-test="offer-available"]').count()).toBe(1)
    await page.waitForTimeout(400) // let the table's fade-in finish before the picture
    await page.screenshot({ path: join(OUTPUT_DIR, 'counter-cardholder.png') })
  })

  it('answers an unknown card in Chinese, changes nothing, and leaves no earlier cardholder to sell to', async () => {
    const before = await databaseRows()
    await swipe('Z99999999')
    await expect.poll(() => alert().innerText()).toContain('本机账户数据中没有这张社会保障卡的参保人')
    expect(await page.locator('[data-test="cardholder-name"]').count()).toBe(0)
    expect(await page.locator('[data-test="sell"]').count()).toBe(0)
    expect(await databaseRows()).toEqual(before)
  })

  it('answers malformed input saying what was read, keeping the text for the clerk to correct', async () => {
    await swipe('12345')
    await expect
      .poll(() => alert().innerText())
      .toContain('无法识别：应为 9 位社会保障卡号或 18 位身份证号，读到 5 位')
    expect(await page.getByRole('textbox', { name: '社会保障卡号或身份证号' }).inputValue()).toBe('12345')
    expect(await page.locator('[data-test="cardholder-name"]').count()).toBe(0)
    await page.screenshot({ path: join(OUTPUT_DIR, 'counter-malformed.png') })
  })

  it('reads a resident ID with a wrong check digit as malformed, and a good one as its holder', async () => {
    const tibet = DEMO_ACCOUNTS.find((account) => account.cardNumber === 'B54000001')
    const id = tibet?.idNumber ?? ''
    const wrongCheck = id.slice(0, 17) + (id[17] === '0' ? '1' : '0')
    await swipe(wrongCheck)
    await expect.poll(() => alert().innerText()).toContain('身份证号校验位不符')
    await swipe(id)
    await expect.poll(() => page.locator('[data-test="cardholder-region"]').innerText()).toBe('西藏自治区')
    expect(await alert().count()).toBe(0)
  })

  it('logged no page errors, and stops cleanly on Ctrl-C', async () => {
    expect(consoleErrors).toEqual([])
    await browser.close()
    expect(await web.stop()).toBe(0)
    expect(web.output()).toContain('已停止')
  })
})
