import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ReceiptView } from '../../../core/sale'
import { systemClock } from '../../../core/time'
import { openDatabase } from '../../../db/connection'
import { silentLogger } from '../../../backend/services/log'
import { openCounterRuntime } from '../../../backend/runtime'
import { HUB_DB_FILE } from '../../../hub/db/open'
import { startHub } from '../../support/hub-process'
import { signedIn, tempDir } from '../../support/helpers'
import { ok } from '../../support/sync'

const root = join(import.meta.dirname, '../../..')

/** The terminal as its own process, selling one sale online; resolves each line it prints. */
function startSeller(dataDir: string, centreUrl: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/online-seller.ts', dataDir, centreUrl],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = []
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    for (const line of output.split('\n'))
      for (const waiter of [...waiters])
        if (line.startsWith(waiter.prefix)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    line: (prefix: string) =>
      new Promise<string>((resolve, reject) => {
        waiters.push({ prefix, resolve })
        void exited.then(() => reject(new Error(`seller exited before "${prefix}":\n${output}`)))
      }),
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
    exited
  }
}

async function centre(hubDir: string, saleId: string) {
  const db = openDatabase(join(hubDir, HUB_DB_FILE))
  try {
    const [{ n }] = await db('hub_sales').where({ sale_id: saleId }).count<Array<{ n: number }>>({ n: '*' })
    const result = await db('item_results')
      .where({ item_id: saleId })
      .first<{ outcome: string } | undefined>()
    return { sales: Number(n), outcome: result?.outcome ?? null }
  } finally {
    await db.destroy()
  }
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The terminal again on the same folder, as after a restart: one sync, then the sale as it stands. */
async function restartAndSync(dataDir: string, saleId: string): Promise<ReceiptView> {
  const runtime = await openCounterRuntime({
    dataDir,
    clock: systemClock,
    log: silentLogger,
    appVersion: 'fault-test',
    syncTuning: { timeoutMs: 10_000, random: () => 0.5 }
  })
  try {
    const supervisor = await signedIn(runtime, 'supervisor')
    await ok(runtime.dispatch('sync.now', {}, supervisor))
    return await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId }, supervisor))
  } finally {
    await runtime.close()
  }
}

const holdAnswers = (url: string, delayMs: number) =>
  fetch(`${url}/v1/_test/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ delayMs })
  })

describe('online authorization under faults: every sale settled exactly once', () => {
  it('the terminal killed while it waits for the centre’s answer: after its restart the sale is settled once', async () => {
    const hubDir = await tempDir('hub-auth-')
    const dataDir = await tempDir('terminal-auth-')
    const hub = await startHub(hubDir)
    try {
      await holdAnswers(hub.url, 60_000)
      const seller = startSeller(dataDir, hub.url)
      const saleId = (await seller.line('BEGUN ')).split(' ')[1]
      // The centre has settled it and holds the answer; the terminal dies waiting.
      await until(async () => (await centre(hubDir, saleId)).sales === 1, 'the centre to settle the sale')
      await seller.kill()
      await holdAnswers(hub.url, 0)
      const receipt = await restartAndSync(dataDir, saleId)
      expect(receipt.status).toBe('accepted')
      expect(await centre(hubDir, saleId)).toEqual({ sales: 1, outcome: 'accepted' })
    } finally {
      await hub.stop()
    }
  }, 120_000)

  it('the centre killed during the authorization: the sale waits, and after the centre’s restart it is settled once', async () => {
    const hubDir = await tempDir('hub-auth-')
    const dataDir = await tempDir('terminal-auth-')
    let hub = await startHub(hubDir)
    try {
      await holdAnswers(hub.url, 60_000)
      const seller = startSeller(dataDir, hub.url)
      const saleId = (await seller.line('BEGUN ')).split(' ')[1]
      const committed = seller.line('COMMITTED ')
      await until(async () => (await centre(hubDir, saleId)).sales === 1, 'the centre to settle the sale')
      await hub.kill()
      // The customer is told it waits for the upload: no answer came.
      expect(await committed).toBe(`COMMITTED ${saleId} uploaded`)
      await seller.exited
      hub = await startHub(hubDir, { port: hub.port })
      const receipt = await restartAndSync(dataDir, saleId)
      expect(receipt.status).toBe('accepted')
      expect(await centre(hubDir, saleId)).toEqual({ sales: 1, outcome: 'accepted' })
    } finally {
      await hub.stop()
    }
  }, 120_000)
})
