import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ExportedQueueView, ImportedPackageView } from '../../../core/api/contract'
import type { ReceiptView } from '../../../core/sale'
import { packageReceiver, startWebServer } from '../../../backend/web/server'
import { importQueueFile } from '../../../hub/files'
import { createBundleCache } from '../../../hub/rules'
import { ok, syncStatus } from '../../support/sync'
import { openTestRuntime, recordingLogger, signedIn, tempDir } from '../../support/helpers'
import { exportDemoPackage, openTestHub } from '../../support/hub'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'

/** What waits in the data folder's `incoming/` for an import. */
const incomingFiles = (dataDir: string) => readdir(join(dataDir, 'incoming')).catch(() => [] as string[])

/**
 * The agent's files from the app (#17): the queue exported through the API (what the settings
 * screen saves), and a package uploaded to browser mode and imported by the API, with the same
 * checks as the CLI's. The status says when the last file exchange happened.
 */
describe('files from the app: the queue out, a package in', () => {
  it('exports the queue for the centre and imports the centre’s package by upload; clerks and strangers are refused', async () => {
    const centre = await openTestHub()
    const dataDir = await tempDir()
    const runtime = await openTestRuntime({ dataDir, clock: centre.clock, syncTuning: { timeoutMs: 10_000 } })
    await ok(
      runtime.dispatch(
        'sync.register',
        { centreUrl: centre.url, enrolmentCode: 'DEMO-ALL', territory: '上门服务 3 组' },
        await signedIn(runtime, 'supervisor')
      )
    )
    const agent = await onShift(runtime, 'agent')
    await ok(runtime.dispatch('sync.now', {}, agent))
    const terminalId = (await syncStatus(runtime, agent)).terminalId
    centre.faults.unavailable = 1_000_000
    const accountId = await accountIdOf(runtime, agent, 'C33080001')
    const sold = await ok<ReceiptView>(
      commit(
        runtime,
        agent,
        { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }] },
        'C33080001'
      )
    )

    const clerk = await signedIn(runtime, 'clerk')
    expect(await runtime.dispatch('files.exportQueue', {}, clerk)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    const exported = await ok<ExportedQueueView>(runtime.dispatch('files.exportQueue', {}, agent))
    expect(exported).toMatchObject({ items: 1, totalFen: sold.totalFen, mimeType: 'application/x-ndjson' })
    expect(exported.fileName).toMatch(new RegExp(`^待上传-${terminalId}-\\d{8}-\\d{4}\\.ndjson$`))
    const queueText = Buffer.from(exported.base64, 'base64').toString('utf8')
    expect(queueText).not.toContain('C33080001')
    expect((await syncStatus(runtime, agent)).lastFileExchange).toMatchObject({ kind: 'export' })
    const bundles = createBundleCache()
    const settled = await importQueueFile(centre.db, queueText, { clock: centre.clock, bundles })
    expect(settled.results.map((r) => r.outcome)).toEqual(['accepted'])

    centre.clock.advance(60_000)
    const packageFile = join(dataDir, 'package.ndjson')
    await exportDemoPackage(centre.db, centre.clock, terminalId, packageFile, bundles)

    const web = await startWebServer({
      port: 0,
      staticDir: dataDir,
      dispatch: runtime.dispatch,
      log: recordingLogger(),
      receivePackage: packageReceiver(runtime)
    })
    try {
      const upload = (token: string | undefined, body: Buffer) =>
        fetch(new URL('files/package', web.url), {
          method: 'POST',
          headers: {
            'content-type': 'application/octet-stream',
            ...(token ? { 'x-counter-session': token } : {})
          },
          body
        }).then((response) => response.json() as Promise<{ ok: boolean; value?: { uploadId: string } }>)
      const api = (call: string, args: unknown, token: string | undefined) =>
        fetch(new URL(`api/${call}`, web.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { 'x-counter-session': token } : {}) },
          body: JSON.stringify(args)
        }).then(
          (response) => response.json() as Promise<{ ok: boolean; value?: unknown; error?: { code: string } }>
        )

      const bytes = await readFile(packageFile)
      // Nobody signed in, or a clerk: nothing is kept.
      expect(await upload(undefined, bytes)).toMatchObject({ ok: false })
      expect(await upload(clerk.sessionToken, bytes)).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN' }
      })
      expect(await incomingFiles(dataDir)).toEqual([])

      const uploaded = await upload(agent.sessionToken, bytes)
      const uploadId = uploaded.value?.uploadId ?? ''
      expect(await incomingFiles(dataDir)).toHaveLength(1)
      const imported = await api('files.importPackage', { uploadId }, agent.sessionToken)
      expect(imported).toMatchObject({ ok: true })
      expect((imported.value as ImportedPackageView).results).toBe(1)
      // Imported and gone; the same id again is refused in Chinese.
      expect(await incomingFiles(dataDir)).toEqual([])
      expect(await api('files.importPackage', { uploadId }, agent.sessionToken)).toMatchObject({
        ok: false,
        error: { code: 'FILE_REFUSED' }
      })
      // A file that is no package: refused by the same checks as the CLI's, and nothing changes.
      const junk = await upload(agent.sessionToken, Buffer.from('not a package\n'))
      expect(
        await api('files.importPackage', { uploadId: junk.value?.uploadId }, agent.sessionToken)
      ).toMatchObject({ ok: false, error: { code: 'FILE_REFUSED' } })
    } finally {
      await web.close()
    }

    const after = await syncStatus(runtime, agent)
    expect(after.queue.count).toBe(0)
    expect(after.lastFileExchange).toMatchObject({ kind: 'import' })
    const receipt = await ok<ReceiptView>(runtime.dispatch('sale.receipt', { saleId: sold.saleId }, agent))
    expect(receipt.status).toBe('accepted')
  }, 60_000)

  it('an upload cut off by a crash leaves nothing behind once the app starts again on the same folder', async () => {
    const dataDir = await tempDir()
    const first = await openTestRuntime({ dataDir })
    await first.close()
    // What a killed run left: half a package in incoming/.
    await mkdir(join(dataDir, 'incoming'), { recursive: true })
    await writeFile(
      join(dataDir, 'incoming', '3b1d0c52-0000-4000-8000-000000000000.package'),
      'yibao-sync-pa'
    )
    const again = await openTestRuntime({ dataDir })
    await expect.poll(() => incomingFiles(dataDir)).toEqual([])
    const agent = await signedIn(again, 'agent')
    expect(
      await again.dispatch('files.importPackage', { uploadId: '3b1d0c52-0000-4000-8000-000000000000' }, agent)
    ).toMatchObject({ ok: false, error: { code: 'FILE_REFUSED' } })
  })
})
