import type { Page } from 'playwright-core'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS } from '../../db/seeds/demo-population'
import { OUTPUT_DIR, useBrowserSession } from './harness'
import { settle, swipeCard, typeKeys } from '../../fixtures/keyboard'

// A supervisor: the last test changes the terminal's reader settings.
const session = useBrowserSession({ code: '9001', pin: '999999' })
let page: Page
beforeEach(() => {
  page = session.page
})

const field = () => page.locator('input[data-test="card-input"]')
const shownName = () => page.locator('[data-test="cardholder-name"]').innerText()
const shownRegion = () => page.locator('[data-test="cardholder-region"]').innerText()
const lastCue = () => page.evaluate('document.documentElement.dataset.lastCue ?? null')

describe('a card reader on the counter screen', () => {
  it('looks a swiped card up while the text field has focus, and the field stays empty', async () => {
    await swipeCard(page, 'E21010002')
    await expect.poll(shownRegion).toBe('沈阳市')
    expect(await shownName()).toBe('赵*')
    expect(await field().inputValue()).toBe('')
    await expect.poll(lastCue).toBe('ok')
  })

  it('reads the same with a Chinese input method on (keys arrive as "Process")', async () => {
    await swipeCard(page, 'C33080001', true)
    await expect.poll(shownRegion).toBe('衢州市')
    expect(await field().inputValue()).toBe('')
  })

  it('reads a resident ID ending in X, and magnetic track-2 data', async () => {
    const withX = DEMO_ACCOUNTS.find((account) => account.idNumber.endsWith('X'))
    await swipeCard(page, withX?.idNumber ?? '')
    await expect
      .poll(() => page.locator('[data-test="cardholder-panel"]').innerText())
      .toContain('按身份证号读取')
    await swipeCard(page, ';D32050002=4912?')
    await expect.poll(shownRegion).toBe('苏州市区')
    expect(await field().inputValue()).toBe('')
  })

  it('leaves slow typing in the field, and Enter then looks the typed number up', async () => {
    await field().focus()
    await typeKeys(page, 'B5400', { gapMs: 180 })
    expect(await field().inputValue()).toBe('B5400')
    expect(await shownRegion()).toBe('苏州市区')
    await typeKeys(page, '0001', { gapMs: 150, suffix: 'Enter' })
    await expect.poll(shownRegion).toBe('西藏自治区')
  })

  it('takes a fast typist (60 ms a key) for a person too', async () => {
    await field().focus()
    await typeKeys(page, 'F31000001', { gapMs: 60 })
    expect(await field().inputValue()).toBe('F31000001')
    await field().fill('')
  })

  it('cues a bad read (wrong check digit) visibly and audibly, and leaves nobody on screen to sell to', async () => {
    const id = DEMO_ACCOUNTS[0].idNumber
    await swipeCard(page, id.slice(0, 17) + (id[17] === '1' ? '2' : '1'))
    await expect
      .poll(() => page.locator('[data-test="lookup-error"]').innerText())
      .toContain('身份证号校验位不符')
    await expect.poll(lastCue).toBe('error')
    expect(await page.locator('[data-test="read-card"]').getAttribute('class')).toContain('is-bad-read')
    expect(await page.locator('[data-test="cardholder-region"]').count()).toBe(0)
    expect(await field().inputValue()).toBe('')
    await page.screenshot({ path: join(OUTPUT_DIR, 'reader-bad-read.png') })
  })

  it('calls a burst without its Enter an incomplete read', async () => {
    await typeKeys(page, 'A53000001', { gapMs: 8, suffix: null })
    await expect
      .poll(() => page.locator('[data-test="lookup-error"]').innerText())
      .toContain('读卡不完整：没有收到结束键（回车）')
    expect(await field().inputValue()).toBe('')
  })
})

describe('a card reader elsewhere', () => {
  it('drops a swipe on a screen that takes no card, with a notice, typing nothing', async () => {
    await page.locator('[data-test="nav-settings"]').click()
    const probe = page.locator('input[data-test="typing-probe"]')
    await probe.focus()
    await settle(page)
    await swipeCard(page, 'A53000001')
    await expect
      .poll(() => page.locator('.el-message').allInnerTexts())
      .toEqual(['此页面不需要刷卡，已忽略这次读卡'])
    expect(await probe.inputValue()).toBe('')
  })

  it('shows each read with its key gaps in the reader test panel', async () => {
    await page.locator('[data-test="reader-test-toggle"]').click()
    await settle(page)
    await swipeCard(page, 'A53000001')
    const probe = page.locator('input[data-test="typing-probe"]')
    await probe.focus()
    await typeKeys(page, 'abc', { gapMs: 120 })
    await expect
      .poll(() => page.locator('[data-test="reader-traces"] tbody tr').count())
      .toBeGreaterThanOrEqual(1)
    const table = await page.locator('[data-test="reader-traces"]').innerText()
    expect(table).toContain('读卡器')
    expect(table).toContain('A5*****01')
    expect(await probe.inputValue()).toBe('abc')
    await page.screenshot({ path: join(OUTPUT_DIR, 'reader-test-panel.png') })
  })
})

describe('tuning the reader for a slow scanner', () => {
  it('reads a scanner at 80 ms a key once a technician raises the typical-gap limit', async () => {
    await page.locator('[data-test="nav-counter"]').click()
    await page.locator('input[data-test="card-input"]').focus()
    await typeKeys(page, 'A53000002', { gapMs: 80 })
    expect(await field().inputValue()).toBe('A53000002')
    await field().fill('')

    await page.locator('[data-test="nav-settings"]').click()
    // With room to spare, as a technician would: the scanner's 80 ms is its average, not its worst.
    await page.locator('.el-input-number[data-test="max-typical-gap"] input').fill('130')
    await page.locator('.el-input-number[data-test="max-key-gap"] input').fill('300')
    await page.locator('[data-test="save-reader"]').click()
    await expect.poll(() => page.locator('.el-message').allInnerTexts()).toContain('读卡器设置已保存')

    await page.locator('[data-test="nav-counter"]').click()
    await page.locator('input[data-test="card-input"]').focus()
    await typeKeys(page, 'A53000002', { gapMs: 80, suffix: 'Enter' })
    await expect.poll(shownName).toBe('李**')
    expect(await field().inputValue()).toBe('')
  })
})
