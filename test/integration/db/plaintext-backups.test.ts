import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { plaintextBackupTakenAt } from '../../../db/plaintext-backups'
import { openTestRuntime, recordingLogger, signedIn, tempDir, TEST_NOW } from '../../support/helpers'
import { openTestHub } from '../../support/hub'
import { ok, registerTerminal } from '../../support/sync'

describe('backups that still hold personal data in plain text', () => {
  it('are those taken before personal data was sealed (migration 0004), and no later ones', () => {
    expect(plaintextBackupTakenAt('counter-20261101T020000Z-before-0004_personal_data.sqlite3')).toEqual(
      new Date('2026-11-01T02:00:00Z')
    )
    expect(plaintextBackupTakenAt('counter-20261101T020000Z-before-0002_rule_bundles.sqlite3')).toEqual(
      new Date('2026-11-01T02:00:00Z')
    )
    expect(plaintextBackupTakenAt('counter-20261101T020000Z-before-0005_sync.sqlite3')).toBeNull()
    expect(plaintextBackupTakenAt('notes.txt')).toBeNull()
  })

  it('go after two weeks at start-up, or at once after a sync that went through; sealed backups stay', async () => {
    const dataDir = await tempDir()
    const backups = join(dataDir, 'backups')
    await mkdir(backups, { recursive: true })
    const old = 'counter-20261101T020000Z-before-0004_personal_data.sqlite3' // three weeks before TEST_NOW
    const recent = 'counter-20261120T020000Z-before-0004_personal_data.sqlite3' // two days before
    const sealed = 'counter-20261120T020000Z-before-0007_closes.sqlite3'
    for (const name of [old, recent, sealed]) await writeFile(join(backups, name), 'a copy')

    const centre = await openTestHub()
    const log = recordingLogger()
    // The network between terminal and centre, cut on demand (registration itself still goes through).
    let cut = false
    const network: typeof fetch = (input, init) =>
      cut && !String(input).endsWith('/v1/terminals')
        ? Promise.reject(new TypeError('fetch failed'))
        : fetch(input, init)
    const runtime = await openTestRuntime({
      dataDir,
      clock: centre.clock,
      log,
      syncTuning: { fetch: network }
    })
    expect(centre.clock.now().toISOString()).toBe(TEST_NOW)
    expect((await readdir(backups)).sort()).toEqual([recent, sealed].sort())
    expect(log.lines.join('\n')).toContain('"why":"age"')

    // A sync that fails (the network down, from the one registration starts on) proves nothing: the copy stays.
    cut = true
    await registerTerminal(runtime, centre.url)
    const supervisor = await signedIn(runtime, 'supervisor')
    await runtime.dispatch('sync.now', {}, supervisor)
    expect((await readdir(backups)).sort()).toEqual([recent, sealed].sort())

    cut = false
    await ok(runtime.dispatch('sync.now', {}, supervisor))
    expect(await readdir(backups)).toEqual([sealed])
    expect(log.lines.join('\n')).toContain('"why":"synced"')
  }, 60_000)
})
