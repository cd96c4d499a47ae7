import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../../fixtures/chromium'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { openDatabase } from '../../db/connection'
import { freePort } from '../support/ports'

/**
 * Runs the built app in browser mode (`node out/main/web.js`, what `npm run web` starts after its
 * build) on a fresh data folder, and drives Debian's Chromium against it. No browser is downloaded.
 */

export const ROOT = resolve(import.meta.dirname, '../..')
export const OUTPUT_DIR = join(ROOT, 'test-output', 'e2e')
const CHROMIUM = CHROMIUM_PATH

export interface WebMode {
  readonly url: string
  readonly port: number
  readonly dataDir: string
  readonly output: () => string
  /** Sends Ctrl-C (SIGINT) and resolves with the exit code. */
  stop(): Promise<number | null>
}

/** `env`: more of browser mode's settings (COUNTER_TIME for a date rule, say). */
export async function startWebMode(env: Record<string, string> = {}): Promise<WebMode> {
  const entry = join(ROOT, 'out', 'main', 'web.js')
  if (!existsSync(entry))
    throw new Error('out/main/web.js is missing: run `npm run build` first (npm test does)')
  const dataDir = await mkdtemp(join(tmpdir(), 'counter-e2e-'))
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), COUNTER_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`browser mode did not start:\n${output}`)), 30_000)
    const poll = setInterval(() => {
      const match = /已启动：(http:\/\/\S+)/.exec(output)
      if (match) {
        clearInterval(poll)
        clearTimeout(timer)
        resolveUrl(match[1])
      }
    }, 50)
    void exited.then((code) => {
      clearInterval(poll)
      clearTimeout(timer)
      reject(new Error(`browser mode exited with ${code}:\n${output}`))
    })
  })

  return {
    url,
    port,
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT')
      const code = await exited
      await rm(dataDir, { recursive: true, force: true })
      return code
    }
  }
}

export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`)
  const profile = await mkdtemp(join(tmpdir(), 'counter-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1366, height: 768 },
    args: [...CHROMIUM_FLAGS]
  })
  await mkdir(OUTPUT_DIR, { recursive: true })
  return {
    context,
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}

/** Signs a demo operator in through the sign-in screen and waits for the counter. */
export async function signIn(page: Page, operatorCode: string, pin: string): Promise<void> {
  await page.locator('input[data-test="operator-code"]').fill(operatorCode)
  await page.locator('input[data-test="operator-pin"]').fill(pin)
  await page.locator('input[data-test="operator-pin"]').press('Enter')
  await page.locator('input[data-test="card-input"]:focus').waitFor()
}

export interface BrowserSession {
  readonly web: WebMode
  readonly page: Page
}

/**
 * One browser-mode server and one Chromium page for a test file, signed in as `operator` when
 * given; stopped after the file. The returned object is filled in before the first test runs.
 */
export function useBrowserSession(operator?: { code: string; pin: string }): BrowserSession {
  const session = {} as { web: WebMode; page: Page }
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined
  beforeAll(async () => {
    session.web = await startWebMode()
    browser = await launchChromium()
    session.page = await browser.context.newPage()
    await session.page.goto(session.web.url)
    if (operator) await signIn(session.page, operator.code, operator.pin)
  })
  afterAll(async () => {
    await browser?.close()
    await session.web?.stop()
  })
  return session
}

/** Rows of a query on a SQLite file another process writes (WAL: a consistent read), then closed. */
export async function fileRows(file: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const db = openDatabase(file)
  try {
    return (await db.raw(sql)) as Array<Record<string, unknown>>
  } finally {
    await db.destroy()
  }
}

/** The customer signs in the box with the mouse: a few strokes. */
export async function signOnPad(page: Page): Promise<void> {
  const box = await page.locator('[data-test="signature-pad"]').boundingBox()
  if (!box) throw new Error('no signature pad')
  await page.mouse.move(box.x + 40, box.y + 100)
  await page.mouse.down()
  for (const [x, y] of [
    [90, 40],
    [140, 120],
    [190, 50],
    [240, 110]
  ])
    await page.mouse.move(box.x + x, box.y + y, { steps: 4 })
  await page.mouse.up()
}
