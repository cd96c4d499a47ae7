import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHub, type HubProcess } from '../support/hub-process'
import { OUTPUT_DIR, ROOT, signIn, useBrowserSession } from './harness'
import { call, sellThroughApi } from './seed'

/**
 * An agent out of reach of the centre, in the app: the queue saved from 设置 → 文件交换 (the
 * browser's download), and the centre's package taken in by upload, imported with the CLI's checks.
 */
const session = useBrowserSession()
let page: Page
let hub: HubProcess
let terminalId = ''

beforeAll(async () => {
  page = session.page
  hub = await startHub(await mkdtemp(join(tmpdir(), 'counter-e2e-hub-')))
  const supervisor = await call<{ token: string }>(session.web.url, 'auth.signIn', {
    operatorCode: '9001',
    pin: '999999'
  })
  const registered = await call<{ terminalId: string }>(
    session.web.url,
    'sync.register',
    { centreUrl: hub.url, enrolmentCode: 'DEMO-ALL', territory: '上门服务 3 组' },
    supervisor.token
  )
  terminalId = registered.terminalId
  // Out of reach from here on: the sale waits in the queue.
  await hub.stop()
  await sellThroughApi(session.web.url, { code: '2001', pin: '222222' }, [
    { card: 'C33080001', line: { insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 } }
  ])
})

afterAll(async () => {
  await hub?.stop()
  if (hub) await rm(hub.dataDir, { recursive: true, force: true })
})

describe('files from the settings screen', () => {
  it('the agent saves the queue as a file for the centre', async () => {
    await signIn(page, '2001', '222222')
    await page.keyboard.press('Control+Comma')
    await page.locator('[data-test="file-exchange"]').waitFor()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-test="files-export"]').click()
    ])
    expect(download.suggestedFilename()).toMatch(new RegExp(`^待上传-${terminalId}-\\d{8}-\\d{4}\\.ndjson$`))
    const file = join(OUTPUT_DIR, 'queue.ndjson')
    await download.saveAs(file)
    const text = await readFile(file, 'utf8')
    expect(text).toContain('yibao-queue-export/2')
    expect(text).not.toContain('C33080001')
    await expect.poll(() => page.locator('[data-test="files-done"]').innerText()).toContain('已导出 1 笔')
    await expect.poll(() => page.locator('[data-test="sync-last"]').innerText()).toContain('文件交换')
  })

  it('takes the centre’s package by upload: the sale is settled and the queue is empty', async () => {
    // At the centre: the queue imported, a package made for this terminal.
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'hub/main.ts', 'import-queue', join(OUTPUT_DIR, 'queue.ndjson')],
      {
        cwd: ROOT,
        env: { ...process.env, HUB_DATA_DIR: hub.dataDir }
      }
    )
    const packageFile = join(OUTPUT_DIR, 'package.ndjson')
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'hub/main.ts', 'export-package', '--terminal', terminalId, packageFile],
      { cwd: ROOT, env: { ...process.env, HUB_DATA_DIR: hub.dataDir } }
    )
    await page.locator('input[data-test="files-input"]').setInputFiles(packageFile)
    // The outcome, success or refusal: a failure shows the page's reason.
    const outcome = async () =>
      (await page.locator('[data-test="files-done"], [data-test="files-error"]').allInnerTexts()).join(' | ')
    await expect.poll(outcome, { timeout: 30_000 }).toContain('结算结果 1 条')
    expect(await page.locator('[data-test="files-error"]').count()).toBe(0)
    await expect.poll(() => page.locator('[data-test="sync-queue"]').innerText()).toContain('待上传 0 笔')
    await page.screenshot({ path: join(OUTPUT_DIR, 'files-imported.png') })
  })
})
