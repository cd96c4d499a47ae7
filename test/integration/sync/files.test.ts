import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ReceiptView } from '../../../core/sale'
import { DEMO_KEY_ID } from '../../../backend/services/rules/keys'
import { DEMO_CENTRE_PRIVATE_KEY_FILE, exportPackage, importQueueFile } from '../../../hub/files'
import { addRuleBundle, createBundleCache } from '../../../hub/rules'
import { signPayload } from '../../../backend/shared'
import { openDatabase } from '../../../db/connection'
import { DATABASE_FILE_NAME } from '../../../backend/runtime'
import { sourceFileOf } from '../../support/rule-fixtures'
import { ok, registerTerminal, syncStatus } from '../../support/sync'
import { openTestRuntime, signedIn, tempDir } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

const root = join(import.meta.dirname, '../../..')

/** The Quzhou rule versions the terminal in `dataDir` holds, read from its file. */
async function quzhouVersions(dataDir: string): Promise<number[]> {
  const db = openDatabase(join(dataDir, DATABASE_FILE_NAME))
  try {
    return await db('rule_bundles').where({ region_code: '330800' }).orderBy('version').pluck('version')
  } finally {
    await db.destroy()
  }
}

/** `npm run cli -- …` on the terminal's data folder, as an agent (or support) runs it. */
function cli(dataDir: string, ...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'backend/cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, COUNTER_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000
  })
  return {
    status: run.status,
    json: () =>
      JSON.parse(run.stdout) as {
        ok: boolean
        value?: Record<string, unknown>
        error?: { code: string; message: string }
      },
    stderr: run.stderr
  }
}

describe('the file transport, for an agent out of reach for days', () => {
  it('queue out by file, package back by file: every sale settles once, the queue empties, and both are safe to repeat', async () => {
    const centre = await openTestHub()
    const dataDir = await tempDir()
    let runtime = await openTestRuntime({ dataDir, clock: centre.clock, syncTuning: { timeoutMs: 10_000 } })
    await ok(
      runtime.dispatch(
        'sync.register',
        { centreUrl: centre.url, enrolmentCode: 'DEMO-ALL', territory: '上门服务 3 组' },
        await signedIn(runtime, 'supervisor')
      )
    )
    let agent = await onShift(runtime, 'agent')
    await ok(runtime.dispatch('sync.now', {}, agent))
    const terminalId = (await syncStatus(runtime, agent)).terminalId

    // Out of reach: the centre cannot be called.
    centre.faults.unavailable = 1_000_000
    const sold: ReceiptView[] = []
    for (const [card, productCode] of [
      ['C33080001', 'QZ-HQB-2027'],
      ['E21010002', 'SY-HEALTH-DEMO']
    ] as const) {
      const accountId = await accountIdOf(runtime, agent, card)
      sold.push(
        await ok<ReceiptView>(
          commit(
            runtime,
            agent,
            { accountId, lines: [{ insured: { relation: 'self' }, productCode, units: 1 }] },
            card
          )
        )
      )
    }
    await runtime.sync.uploadNow().catch(() => undefined)
    await runtime.close()

    const queueFile = join(dataDir, 'queue.json')
    const exported = cli(dataDir, 'export-queue', queueFile)
    expect(exported.status, exported.stderr).toBe(0)
    expect(exported.json()).toMatchObject({
      ok: true,
      value: { items: 2, totalFen: sold[0].totalFen + sold[1].totalFen }
    })
    const queueText = await readFile(queueFile, 'utf8')
    // Encrypted to the centre: nothing of the customers can be read off the USB stick.
    expect(JSON.parse(queueText)).toMatchObject({ format: 'yibao-queue-export/2', terminalId })
    for (const secret of ['C33080001', 'E21010002', '徐卫东', '赵婷', 'QZ-HQB-2027', 'totalFen'])
      expect(queueText).not.toContain(secret)

    // At the centre: imported twice (a second copy carried in by mistake), settled once.
    const bundles = createBundleCache()
    const first = await importQueueFile(centre.db, queueText, { clock: centre.clock, bundles })
    expect(first.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted'])
    const again = await importQueueFile(centre.db, queueText, { clock: centre.clock, bundles })
    expect(again.results.map((r) => r.outcome)).toEqual(['alreadyAccepted', 'alreadyAccepted'])
    const file = JSON.parse(queueText) as { ciphertext: string }
    const flipped =
      file.ciphertext.slice(0, 40) + (file.ciphertext[40] === 'A' ? 'B' : 'A') + file.ciphertext.slice(41)
    const tampered = JSON.stringify({ ...file, ciphertext: flipped })
    await expect(importQueueFile(centre.db, tampered, { clock: centre.clock, bundles })).rejects.toThrow(
      /签名验证失败/
    )

    // The centre has newer Quzhou rules since: the package carries them.
    const source = JSON.parse(await readFile(sourceFileOf('330800'), 'utf8')) as Record<string, unknown>
    await addRuleBundle(
      centre.db,
      signPayload(
        JSON.stringify({ ...source, version: 3 }),
        await readFile(DEMO_CENTRE_PRIVATE_KEY_FILE, 'utf8'),
        DEMO_KEY_ID
      ),
      centre.clock
    )
    centre.clock.advance(60_000)
    const packageFile = join(dataDir, 'package.ndjson')
    await exportPackage(centre.db, {
      terminalId,
      file: packageFile,
      clock: centre.clock,
      bundles,
      privateKeyPem: await readFile(DEMO_CENTRE_PRIVATE_KEY_FILE, 'utf8'),
      keyId: DEMO_KEY_ID
    })

    // A package with one byte changed in its sealed part is refused before anything is decrypted.
    const packageBytes = await readFile(packageFile)
    const broken = join(dataDir, 'broken.ndjson')
    const at =
      packageBytes.indexOf(0x0a) + 1 + Math.floor((packageBytes.length - packageBytes.indexOf(0x0a)) / 2)
    const changed = Buffer.from(packageBytes)
    changed[at] ^= 0x01
    await writeFile(broken, changed)
    const refused = cli(dataDir, 'import-package', broken)
    expect(refused.status).toBe(1)
    expect(refused.json().error).toMatchObject({
      code: 'FILE_REFUSED',
      message: '同步包内容与中心的签名不符：文件可能被改动或不完整'
    })
    // Refused whole: the rules it carried were not taken either.
    expect(await quzhouVersions(dataDir)).toEqual([2])

    const imported = cli(dataDir, 'import-package', packageFile)
    expect(imported.status, imported.stderr).toBe(0)
    expect(imported.json()).toMatchObject({ ok: true, value: { results: 2 } })
    expect(imported.json().value?.snapshot).toMatchObject({ version: expect.any(Number) })
    expect(await quzhouVersions(dataDir)).toEqual([2, 3])
    const repeated = cli(dataDir, 'import-package', packageFile)
    expect(repeated.json()).toMatchObject({ ok: true, value: { snapshot: 'unchanged', results: 0 } })

    runtime = await openTestRuntime({ dataDir, clock: centre.clock })
    agent = await onShift(runtime, 'agent')
    expect(await syncStatus(runtime, agent)).toMatchObject({ queue: { count: 0 }, rejectedCount: 0 })
    for (const sale of sold)
      expect(
        (await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: sale.saleId }, agent))).status
      ).toBe('accepted')
  }, 120_000)

  it('refuses a file that is not a package, and an export before registration, with a Chinese reason', async () => {
    const dataDir = await tempDir()
    const notAPackage = join(dataDir, 'note.txt')
    await writeFile(notAPackage, '这不是同步包\n')
    const run = cli(dataDir, 'import-package', notAPackage)
    expect(run.status).toBe(1)
    expect(run.json().error).toMatchObject({
      code: 'FILE_REFUSED',
      message: expect.stringMatching(/[\u4e00-\u9fa5]/)
    })
    expect(cli(dataDir, 'export-queue', join(dataDir, 'q.json')).json().error?.code).toBe('NOT_REGISTERED')
  }, 60_000)

  it('without the centre’s file key (a terminal registered before there was one) refuses to export, then fetches it on the next sync', async () => {
    const centre = await openTestHub()
    const dataDir = await tempDir()
    const runtime = await openTestRuntime({ dataDir, clock: centre.clock, syncTuning: { timeoutMs: 10_000 } })
    const supervisor = await signedIn(runtime, 'supervisor')
    await registerTerminal(runtime, centre.url, '上门服务 3 组')
    await runtime.db('settings').where({ key: 'sync.centre_file_key' }).delete()
    const file = join(dataDir, 'queue.json')
    await expect(runtime.sync.exportQueue(file)).rejects.toThrow(/文件加密密钥/)
    await expect(readFile(file, 'utf8')).rejects.toThrow()

    await ok(runtime.dispatch('sync.now', {}, supervisor))
    expect(await runtime.sync.exportQueue(file)).toMatchObject({ items: 0 })
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ format: 'yibao-queue-export/2' })
  }, 60_000)
})
