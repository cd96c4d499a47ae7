import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { launchChromium, OUTPUT_DIR, signIn, startWebMode, type WebMode } from './harness'

/**
 * Browser mode on a demo clock (COUNTER_TIME): a date rule tried at its edge in the app itself,
 * Quzhou's 惠衢保 2027 enrolment window, open until 2027-01-31 24:00 Beijing time. The screens
 * follow the service's clock and say it is a demo clock.
 */
const started: WebMode[] = []
afterAll(async () => {
  await Promise.all(started.map((web) => web.stop()))
})

async function offersAt(time: string, shot: string): Promise<{ row: string; header: string }> {
  const web = await startWebMode({ COUNTER_TIME: time, COUNTER_TIME_MODE: 'fixed' })
  started.push(web)
  expect(web.output()).toContain('演示时钟：')
  const browser = await launchChromium()
  try {
    const page = await browser.context.newPage()
    await page.goto(web.url)
    await signIn(page, '1001', '111111')
    const input = page.locator('input[data-test="card-input"]')
    await input.fill('C33080001')
    await input.press('Enter')
    const row = page.locator('[data-test="offers-table"] tbody tr', { hasText: '惠衢保（2027年度' })
    await row.waitFor()
    await page.screenshot({ path: join(OUTPUT_DIR, shot) })
    return { row: await row.innerText(), header: await page.locator('header').innerText() }
  } finally {
    await browser.close()
  }
}

describe('browser mode on a demo clock', () => {
  it('sells 惠衢保 2027 on the window’s last evening and refuses it ten minutes after midnight', async () => {
    const lastEvening = await offersAt('2027-01-31T23:50:00+08:00', 'demo-clock-last-day.png')
    expect(lastEvening.row).toContain('可购买')
    expect(lastEvening.row).not.toContain('不可购买')
    expect(lastEvening.header).toContain('演示时钟')
    expect(lastEvening.header).toContain('2027-01-31 23:50')

    const dayAfter = await offersAt('2027-02-01T00:10:00+08:00', 'demo-clock-day-after.png')
    expect(dayAfter.row).toContain('不可购买')
    expect(dayAfter.row).toContain('2027-02-01 00:00')
  })

  it('keeps the header’s warnings clear of the screens’ links at 1366 × 768, their whole text on hover', async () => {
    const web = await startWebMode({ COUNTER_TIME: '2027-01-31T23:50:00+08:00', COUNTER_TIME_MODE: 'fixed' })
    started.push(web)
    const browser = await launchChromium()
    try {
      const page = await browser.context.newPage()
      await page.goto(web.url)
      // A supervisor: the most links; a demo folder on a demo clock in browser mode: three warnings.
      await signIn(page, '9001', '999999')
      await page.screenshot({ path: join(OUTPUT_DIR, 'header-warnings.png') })
      const right = (box: { x: number; width: number } | null) => (box ? box.x + box.width : Infinity)
      const title = await page.locator('.header__title').boundingBox()
      const nav = await page.locator('.header__nav').boundingBox()
      const tags = await page.locator('.header__title .el-tag').all()
      const layout = {
        titleRight: right(title),
        navLeft: nav?.x ?? 0,
        tags: await Promise.all(
          tags.map(async (tag) => {
            const box = await tag.boundingBox()
            return {
              right: right(box),
              width: box?.width ?? 0,
              hover: (await tag.getAttribute('title')) ?? ''
            }
          })
        )
      }
      expect(layout.tags).toHaveLength(3)
      expect(layout.titleRight).toBeLessThanOrEqual(layout.navLeft)
      for (const tag of layout.tags) {
        expect(tag.right).toBeLessThanOrEqual(layout.titleRight)
        expect(tag.width).toBeGreaterThanOrEqual(32)
      }
      expect(layout.tags.map((tag) => tag.hover.split('：')[0])).toEqual([
        '演示数据 · 演示密钥',
        '演示时钟',
        '个人信息密钥未受系统保护'
      ])
    } finally {
      await browser.close()
    }
  })

  it('refuses a time without its zone, in Chinese, and does not start', async () => {
    await expect(startWebMode({ COUNTER_TIME: '2027-01-31 23:50' })).rejects.toThrow(
      /COUNTER_TIME 应为带时区的时间/
    )
  })
})
