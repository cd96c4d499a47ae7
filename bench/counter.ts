/**
 * `npm run bench:counter`: the counter as a clerk feels it, in Debian's Chromium against browser
 * mode, with a terminal holding a large population (default 1,000,000 accounts; `--accounts N`).
 *
 * - swipe: `--swipes` (default 200) reader bursts of different cards, each typed by the DevTools
 *   protocol at a reader's pace; the time from the burst's Enter key event (its own time stamp) to
 *   the first frame after the cardholder and their decision are on screen.
 * - pay: `--sales` (default 20) sales through the screens; the app's own time from the payment
 *   swipe's Enter to the password field, plus from the password's Enter to the receipt on screen
 *   (the customer typing the password is not the app's time).
 *
 * Needs `npm run build` first (out/main/web.js). Prints figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { chromium, type Page } from 'playwright-core'
import { systemClock } from '../core/time'
import { maskCardNumber } from '../core/masking'
import { DEMO_REGIONS } from '../db/seeds/demo-population'
import { openCounterRuntime } from '../backend/runtime'
import { silentLogger } from '../backend/services/log'
import { FILE_KEY_FILE } from '../backend/services/personal-data-key'
import { importSnapshot } from '../backend/services/sync/snapshot/import'
import { syntheticAccounts, syntheticCardNumber, writeSnapshotFile } from '../fixtures/snapshot-writer'
import { typeKeys } from '../fixtures/keyboard'
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../fixtures/chromium'

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    swipes: { type: 'string', default: '200' },
    sales: { type: 'string', default: '20' }
  }
})
const ACCOUNTS = Number(args.accounts)
const SWIPES = Number(args.swipes)
const SALES = Number(args.sales)
const ROOT = resolve(import.meta.dirname, '..')
const WEB = join(ROOT, 'out', 'main', 'web.js')

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
const ms = (value: number) => `${value.toFixed(1)} ms`

function summary(name: string, values: readonly number[]): string {
  if (values.length === 0) return `${name}: none`
  const sorted = [...values].sort((a, b) => a - b)
  return `${name}: n=${sorted.length} p50 ${ms(percentile(sorted, 50))} · p95 ${ms(percentile(sorted, 95))} · max ${ms(sorted[sorted.length - 1])}`
}

/** A terminal data folder holding the population, imported as a full snapshot from the centre would be. */
async function preparedFolder(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'counter-bench-'))
  const runtime = await openCounterRuntime({
    dataDir,
    clock: systemClock,
    log: silentLogger,
    appVersion: 'bench'
  })
  try {
    const file = join(dataDir, 'snapshot.ndjson')
    const regionCodes = DEMO_REGIONS.map((region) => region.code)
    const started = performance.now()
    await writeSnapshotFile(
      file,
      { snapshotVersion: 1, full: true, regionCodes, balancesAsOf: systemClock.now().toISOString() },
      syntheticAccounts(0, ACCOUNTS, regionCodes)
    )
    const key = Buffer.from((await readFile(join(dataDir, FILE_KEY_FILE), 'utf8')).trim(), 'base64')
    const result = await importSnapshot(
      {
        db: runtime.db,
        cipher: runtime.personalData,
        clock: systemClock,
        log: silentLogger,
        personalDataKey: key
      },
      createReadStream(file, { highWaterMark: 256 * 1024 })
    )
    await rm(file)
    console.log(
      `population: ${result.accounts.toLocaleString('en')} accounts written and imported in ${((performance.now() - started) / 1000).toFixed(1)} s`
    )
  } finally {
    await runtime.close()
  }
  return dataDir
}

async function startBrowserMode(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [WEB], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', COUNTER_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  for (let waited = 0; waited < 60_000; waited += 50) {
    const match = /已启动：(http:\/\/\S+)/.exec(output)
    if (match) return { url: match[1], child }
    if (child.exitCode !== null) break
    await new Promise((resolveWait) => setTimeout(resolveWait, 50))
  }
  throw new Error(`bench: browser mode did not start:\n${output}`)
}

/**
 * In the page: when `masked` (a masked card number) and a decision for it are on screen, the time
 * of the next frame, minus the last Enter key event's own time stamp.
 */
const RENDERED = `(masked) => new Promise((resolveRendered) => {
  const done = () => {
    const panel = document.querySelector('[data-test="cardholder-panel"]')
    const decided = document.querySelector('[data-test="offers-table"], [data-test="account-refused"], [data-test="rules-unavailable"]')
    return panel && panel.textContent.includes(masked) && decided
  }
  const finish = () => requestAnimationFrame(() => resolveRendered(performance.now() - window.__lastEnter))
  if (done()) return finish()
  const observer = new MutationObserver(() => {
    if (!done()) return
    observer.disconnect()
    finish()
  })
  observer.observe(document.body, { childList: true, subtree: true, characterData: true })
})`

async function waitRendered(page: Page, masked: string): Promise<number> {
  return page.evaluate(`(${RENDERED})(${JSON.stringify(masked)})`) as Promise<number>
}

/** From the last Enter's time stamp to the next frame after `selector` is in the page. */
async function waitFor(page: Page, selector: string): Promise<number> {
  return page.evaluate(`new Promise((resolveFound) => {
    const finish = () => requestAnimationFrame(() => resolveFound(performance.now() - window.__lastEnter))
    if (document.querySelector(${JSON.stringify(selector)})) return finish()
    const observer = new MutationObserver(() => {
      if (!document.querySelector(${JSON.stringify(selector)})) return
      observer.disconnect()
      finish()
    })
    observer.observe(document.body, { childList: true, subtree: true })
  })`) as Promise<number>
}

const quiet = (page: Page) =>
  page.evaluate(
    'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50))))'
  )

async function main(): Promise<void> {
  if (!existsSync(WEB)) throw new Error('bench: out/main/web.js is missing: run `npm run build` first')
  const dataDir = await preparedFolder()
  const { url, child } = await startBrowserMode(dataDir)
  const profile = await mkdtemp(join(tmpdir(), 'counter-bench-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: [...CHROMIUM_FLAGS]
  })
  try {
    const page = await context.newPage()
    // Every Enter's own time stamp (the clock performance.now() reads), registered before the app's
    // own listeners: the card reader's stops a burst's keys from going further.
    await page.addInitScript(`window.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') window.__lastEnter = event.timeStamp
    }, { capture: true })`)
    await page.goto(url)
    await page.locator('input[data-test="operator-code"]').fill('1001')
    await page.locator('input[data-test="operator-pin"]').fill('111111')
    await page.keyboard.press('Enter')
    await page.locator('[data-test="open-shift"]').click()
    await page.locator('[data-test="shift"]').waitFor()

    const swipe = (card: string) => typeKeys(page, card, { gapMs: 8, suffix: 'Enter' })
    // A spread of cards across the population, each different from the one before.
    const step = Math.max(1, Math.floor(ACCOUNTS / (SWIPES + 1)))
    const decided: number[] = []
    for (let i = 1; i <= SWIPES; i++) {
      const card = syntheticCardNumber((i * step + 7) % ACCOUNTS)
      await quiet(page)
      const rendered = waitRendered(page, maskCardNumber(card))
      await swipe(card)
      decided.push(await rendered)
    }
    console.log(summary('swipe → decision on screen', decided))

    const paid: number[] = []
    for (let i = 0, tried = 0; paid.length < SALES && tried < SALES * 20; i++, tried++) {
      const card = syntheticCardNumber((i * 7919 + 13) % ACCOUNTS)
      await quiet(page)
      const shown = waitRendered(page, maskCardNumber(card))
      await swipe(card)
      await shown
      // A cardholder with nothing open to themselves is not a sale: the next card.
      if ((await page.locator('[data-test="offer-available"]').count()) === 0) continue
      await page.keyboard.press('F2')
      await page.locator('[data-test="to-confirm"]:not([disabled])').waitFor()
      await page.keyboard.press('F2')
      await page.locator('[data-test="terms-ack"]').click()
      const pad = await page.locator('[data-test="signature-pad"]').boundingBox()
      if (!pad) throw new Error('bench: no signature pad')
      await page.mouse.move(pad.x + 40, pad.y + 60)
      await page.mouse.down()
      await page.mouse.move(pad.x + 160, pad.y + 100, { steps: 5 })
      await page.mouse.up()
      await page.locator('[data-test="to-pay"]:not([disabled])').waitFor()
      await page.keyboard.press('F2')
      await page.locator('[data-test="pay-amount"]').waitFor()
      await quiet(page)
      const pinReady = waitFor(page, 'input[data-test="pay-pin"]')
      await swipe(card)
      const toPin = await pinReady
      await quiet(page)
      const receipt = waitFor(page, '[data-test="receipt-total"]')
      await typeKeys(page, '123456', { gapMs: 8, suffix: 'Enter' })
      paid.push(toPin + (await receipt))
      await page.keyboard.press('F2')
      await page.locator('input[data-test="card-input"]').waitFor()
    }
    console.log(summary('payment swipe → receipt (app time, the password typing left out)', paid))
  } finally {
    await context.close()
    child.kill('SIGTERM')
    await once(child, 'exit')
    await rm(profile, { recursive: true, force: true })
    await rm(dataDir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
