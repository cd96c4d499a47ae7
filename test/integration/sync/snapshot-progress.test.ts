import { describe, expect, it } from 'vitest'
import type { SnapshotProgressView, SyncStatusView } from '../../../core/sync/status'
import { importSnapshot } from '../../../backend/services/sync/snapshot/import'
import { chunked, snapshotText, syntheticAccounts } from '../../../fixtures/snapshot-writer'
import { openTestRuntime, recordingLogger, signedIn, TEST_NOW } from '../../support/helpers'
import { call, openTestHub, register, snapshot } from '../../support/hub'
import { ok, syncStatus } from '../../support/sync'

/**
 * A first snapshot takes a while: the terminal says how far it got, of how many, and how long is
 * left, from the centre's count (`x-snapshot-lines`) and the lines staged so far.
 */
describe('snapshot download progress', () => {
  it('the import reports the lines staged after each batch, then the switch-over', async () => {
    const runtime = await openTestRuntime()
    const text = snapshotText(
      { snapshotVersion: 1, full: true, regionCodes: ['330800'], balancesAsOf: TEST_NOW },
      syntheticAccounts(0, 5_000, ['330800'])
    )
    const seen: Array<{ phase: string; lines: number }> = []
    await importSnapshot(
      {
        db: runtime.db,
        cipher: runtime.personalData,
        clock: { now: () => new Date(TEST_NOW) },
        log: recordingLogger()
      },
      chunked(text),
      { onProgress: (progress) => seen.push({ ...progress }) }
    )
    expect(seen.map((p) => p.lines)).toEqual([2_000, 4_000, 5_000, 5_000])
    expect(seen.map((p) => p.phase)).toEqual(['receiving', 'receiving', 'receiving', 'applying'])
  })

  it('the centre says how many lines a full and a delta snapshot carry, as the end line counts them', async () => {
    const centre = await openTestHub()
    const terminal = await register(centre.url)
    const lines = async (since?: number) => {
      const answer = await call(centre.url, `/v1/snapshot${since === undefined ? '' : `?since=${since}`}`, {
        token: terminal.token
      })
      const header = answer.headers.get('x-snapshot-lines')
      const end = JSON.parse(answer.text.trimEnd().split('\n').at(-1) ?? '{}') as { count: number }
      return { header: header === null ? null : Number(header), count: end.count }
    }
    const whole = await lines()
    expect(whole.count).toBeGreaterThan(0)
    expect(whole.header).toBe(whole.count)
    const { header } = await snapshot(centre.url, terminal.token)
    const delta = await lines(header.snapshotVersion)
    expect(delta).toEqual({ header: 0, count: 0 })
  })

  it('the status shows the download under way (lines, of how many, percent) and nothing once it is in', async () => {
    const centre = await openTestHub()
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    let stalled = false
    // The snapshot's last bytes wait: the download is under way for as long as the test looks.
    const slowTail: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (!String(input).includes('/v1/snapshot') || !response.body) return response
      const bytes = new Uint8Array(await response.arrayBuffer())
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(bytes.subarray(0, bytes.length - 10))
          stalled = true
          await held
          controller.enqueue(bytes.subarray(bytes.length - 10))
          controller.close()
        }
      })
      return new Response(body, { status: response.status, headers: response.headers })
    }
    const runtime = await openTestRuntime({
      clock: centre.clock,
      syncTuning: { timeoutMs: 15_000, random: () => 0.5, fetch: slowTail }
    })
    const supervisor = await signedIn(runtime, 'supervisor')
    const registering = ok(
      runtime.dispatch(
        'sync.register',
        { centreUrl: centre.url, enrolmentCode: 'DEMO-ALL', territory: '柯城区医保服务大厅 2 号窗口' },
        supervisor
      )
    )
    await expect.poll(() => stalled, { timeout: 15_000 }).toBe(true)
    await registering
    const during = await ok<SyncStatusView>(runtime.dispatch('sync.status', {}, supervisor))
    const progress = during.snapshotProgress as SnapshotProgressView
    expect(progress).toMatchObject({ phase: 'receiving', lines: 0, percent: 0 })
    expect(progress.expectedLines).toBeGreaterThan(0)
    release()
    await expect
      .poll(async () => (await syncStatus(runtime, supervisor)).snapshotProgress, { timeout: 15_000 })
      .toBeNull()
    expect((await syncStatus(runtime, supervisor)).snapshot.version).toBeGreaterThan(0)
  })
})
