import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import type { Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { formatYuan } from '../../core/money'
import { OUTPUT_DIR, signIn, useBrowserSession } from './harness'
import { DAY_OF_SALES, sellThroughApi } from './seed'

/**
 * The supervisor's day in browser mode: a clerk's sales (made through the API), the summary with
 * its chart, the day close printed to PDF by Chromium and read back page by page, the Excel and
 * CSV exports read back, a shift handed over; and a clerk kept out of all of it.
 */

const session = useBrowserSession()
let page: Page
const totals: number[] = []
const sum = () => totals.reduce((a, b) => a + b, 0)

beforeAll(async () => {
  totals.push(...(await sellThroughApi(session.web.url, { code: '1001', pin: '111111' })))
})
beforeEach(() => {
  page = session.page
})

async function confirmBox(): Promise<void> {
  await page.locator('.el-message-box__btns .el-button--primary').click()
}

/** The text of a PDF, page by page, with the spaces pdftotext puts between Chinese characters removed. */
function pdfPages(file: string): string[] {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' })
    .split('\f')
    .filter((text) => text.trim() !== '')
    .map((text) => text.replace(/[ \t]+/g, ' '))
}

describe('the supervisor', () => {
  it('keeps a clerk out: no link, and the screens send them back to the counter', async () => {
    await signIn(page, '1001', '111111')
    expect(await page.locator('[data-test="nav-supervisor"]').count()).toBe(0)
    await page.goto(`${session.web.url}#/supervisor/closes`)
    await expect.poll(() => page.url()).toContain('#/counter')
    await page.locator('[data-test="sign-out"]').click()
    await page.locator('input[data-test="operator-code"]').waitFor()
  })

  it('sees the day: totals fen for fen, and the chart of sales per hour', async () => {
    await signIn(page, '9001', '999999')
    await page.locator('[data-test="nav-supervisor"]').click()
    await expect.poll(() => page.url()).toContain('#/supervisor/reports')
    await expect
      .poll(() => page.locator('[data-test="tile-net"]').innerText())
      .toContain(`¥${formatYuan(sum())}`)
    expect(await page.locator('[data-test="tile-all"]').innerText()).toContain(`${DAY_OF_SALES.length} 笔`)
    // Nothing answered by a centre yet: all of them 待上传, and the status tiles add up to 全部.
    expect(await page.locator('[data-test="tile-pending"]').innerText()).toContain(
      `${DAY_OF_SALES.length} 笔`
    )
    await expect
      .poll(() => page.locator('[data-test="busiest-hour"]').innerText())
      .toContain(formatYuan(sum()))
    // The chart drew something: its canvas is not blank.
    // (A string: this file is type-checked without the DOM's types.)
    const inked = await page.evaluate(`(() => {
      const canvas = document.querySelector('[data-test="hourly-chart"] canvas')
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
      return pixels.some((value, index) => index % 4 === 3 && value !== 0)
    })()`)
    expect(inked).toBe(true)
    await page.screenshot({ path: join(OUTPUT_DIR, 'supervisor-summary.png') })
  })

  it('closes the day: the numbered report prints on A4 with the header and "第 n 页 / 共 N 页" on every page', async () => {
    await page.locator('[data-test="close-day"]').click()
    // The clerk's shift is still open and nothing went to a centre: both said before the close is made.
    const warning = page.locator('.el-message-box__message')
    await expect.poll(() => warning.innerText()).toContain('尚未交班')
    expect(await warning.innerText()).toContain(
      `${DAY_OF_SALES.length} 笔 ¥${formatYuan(sum())} 尚未得到医保中心答复`
    )
    // For the eye only: the box has finished fading in.
    await page.waitForTimeout(400)
    await page.screenshot({ path: join(OUTPUT_DIR, 'close-day-warnings.png') })
    await confirmBox()
    await expect.poll(() => page.url()).toContain('#/supervisor/closes/1')
    await expect
      .poll(() => page.locator('[data-test="report-sheet"]').first().innerText())
      .toContain('日结单 第 1 号')

    const pdf = join(OUTPUT_DIR, 'day-close.pdf')
    await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true })
    const pageCount = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }))?.[1])
    const pages = pdfPages(pdf)
    expect(pages).toHaveLength(pageCount)
    expect(pageCount).toBeGreaterThanOrEqual(2)
    pages.forEach((text, index) => {
      const squeezed = text.replace(/ /g, '')
      expect(squeezed).toContain(`第${index + 1}页/共${pageCount}页`)
      for (const label of [
        '网点：',
        '终端：',
        '操作员：全部',
        '统计区间：',
        '打印人：9001陈芳',
        '打印时间：'
      ])
        expect(squeezed).toContain(label)
    })
    const all = pages.join('\n')
    // Only the report prints: nothing of the app around it (menu, status bar, the toast saying it was written).
    expect(all).not.toContain('立即同步')
    expect(all).not.toContain('已生成')
    expect(all).toContain(formatYuan(sum()))
    expect(all.replace(/ /g, '')).toContain(`合计${DAY_OF_SALES.length}笔`)
    for (const total of totals) expect(all).toContain(formatYuan(total))
    execFileSync('pdftoppm', ['-png', '-r', '60', pdf, join(OUTPUT_DIR, 'day-close')])
  })

  it('exports the close to Excel and CSV, in Chinese, with the same totals', async () => {
    const [xlsxDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-test="report-xlsx"]').click()
    ])
    expect(xlsxDownload.suggestedFilename()).toMatch(/^日结单-.*第1号\.xlsx$/)
    const xlsxPath = join(OUTPUT_DIR, 'day-close.xlsx')
    await xlsxDownload.saveAs(xlsxPath)
    const workbook = new ExcelJS.Workbook()
    await workbook.xlsx.readFile(xlsxPath)
    const texts = workbook.worksheets.flatMap((sheet) => {
      const values: string[] = []
      sheet.eachRow((row) => row.eachCell((cell) => values.push(String(cell.value))))
      return values
    })
    expect(texts).toContain('打印人')
    expect(texts).toContain('9001 陈芳')
    expect(texts).toContain(String(sum() / 100))

    const [csvDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-test="report-csv"]').click()
    ])
    const csvPath = join(OUTPUT_DIR, 'day-close.csv')
    await csvDownload.saveAs(csvPath)
    const csv = await readFile(csvPath, 'utf8')
    expect(csv.charCodeAt(0)).toBe(0xfeff)
    expect(csv).toContain('网点,')
    // Plain yuan for spreadsheets (no thousands separator), from fen without a float.
    const plainYuan = `${Math.trunc(sum() / 100)}.${String(sum() % 100).padStart(2, '0')}`
    expect(csv).toContain(`合计,${DAY_OF_SALES.length} 笔,,,${DAY_OF_SALES.length},${plainYuan},`)
  })

  it('hands over the clerk’s shift: its own numbered report, and the shift ends', async () => {
    await page.locator('[data-test="closes-back"]').click()
    await page.locator('[data-test="close-shift-1"]').click()
    await confirmBox()
    await expect.poll(() => page.url()).toContain('#/supervisor/closes/2')
    await expect
      .poll(() => page.locator('[data-test="report-sheet"]').first().innerText())
      .toContain('交班单 第 2 号')
    expect(await page.locator('[data-test="report-sheet"]').first().innerText()).toContain(formatYuan(sum()))
    await page.locator('[data-test="closes-back"]').click()
    await expect.poll(() => page.locator('[data-test="closes-table"]').innerText()).toContain('交班单')
    expect(await page.locator('[data-test="close-shift-1"]').count()).toBe(0)
    await page.screenshot({ path: join(OUTPUT_DIR, 'supervisor-closes.png') })
  })

  it('lets a clerk ask for 交班 at the counter: the dialog takes the supervisor’s code and PIN by keyboard', async () => {
    await page.locator('[data-test="sign-out"]').click()
    await signIn(page, '1001', '111111')
    await page.locator('[data-test="open-shift"]').click()
    await page.locator('[data-test="hand-over"]').click()
    // The supervisor's code field has the focus; Enter moves to the PIN, Enter there asks.
    await page.locator('input[data-test="hand-over-supervisor"]:focus').waitFor()
    await page.keyboard.type('9001')
    await page.keyboard.press('Enter')
    await page.locator('input[data-test="hand-over-pin"]:focus').waitFor()
    await page.keyboard.type('000000')
    await page.keyboard.press('Enter')
    await expect
      .poll(() => page.locator('[data-test="hand-over-dialog"] .el-alert').innerText())
      .toContain('密码')
    expect(await page.locator('[data-test="shift"]').count()).toBe(1)
    await page.locator('input[data-test="hand-over-pin"]').fill('999999')
    await page.screenshot({ path: join(OUTPUT_DIR, 'hand-over.png') })
    await page.keyboard.press('Enter')
    await page.locator('.el-message--success', { hasText: '交班单已生成' }).waitFor()
    expect(await page.locator('[data-test="shift"]').count()).toBe(0)
    await page.locator('[data-test="open-shift"]').waitFor()
  })
})
