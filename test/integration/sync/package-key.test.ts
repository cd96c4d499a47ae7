import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openTestRuntime, signedIn, tempDir } from '../../support/helpers'
import { exportDemoPackage, openTestHub } from '../../support/hub'
import { ok, registerTerminal } from '../../support/sync'

/**
 * The sync package is encrypted to the terminal (#15): the terminal's X25519 key goes to the centre
 * at registration, or at the next sync for a terminal registered before; without it the centre
 * writes no package, so personal data never travels in the clear.
 */
describe('the key sync packages are encrypted to', () => {
  it('is sent at registration, or by the next sync for an older registration; no key, no package', async () => {
    const centre = await openTestHub()
    const runtime = await openTestRuntime({ clock: centre.clock, syncTuning: { random: () => 0.5 } })
    await registerTerminal(runtime, centre.url)
    const terminalId = (
      await runtime.db('settings').where({ key: 'terminal_id' }).first<{ value: string }>('value')
    ).value
    const keyAtCentre = () =>
      centre
        .db('terminals')
        .where({ id: terminalId })
        .first<{ file_public_key_pem: string | null }>('file_public_key_pem')
    expect((await keyAtCentre()).file_public_key_pem).toMatch(/BEGIN PUBLIC KEY/)
    // The private half is sealed in the terminal's database, never in the clear.
    const stored = await runtime
      .db('settings')
      .where({ key: 'sync.file_key' })
      .first<{ value: string }>('value')
    expect(stored.value).not.toContain('PRIVATE KEY')

    // A terminal registered before #15: neither side has a key yet.
    await centre.db('terminals').where({ id: terminalId }).update({ file_public_key_pem: null })
    await runtime.db('settings').whereIn('key', ['sync.file_key', 'sync.file_key_sent']).delete()
    const file = join(await tempDir(), 'agent.package')
    const makePackage = async () => exportDemoPackage(centre.db, centre.clock, terminalId, file)
    await expect(makePackage()).rejects.toThrow(/还没有登记文件加密公钥/)

    await ok(runtime.dispatch('sync.now', {}, await signedIn(runtime)))
    expect((await keyAtCentre()).file_public_key_pem).toMatch(/BEGIN PUBLIC KEY/)
    await makePackage()
    expect(await runtime.sync.importPackage(file)).toMatchObject({ snapshot: 'unchanged' })

    // Another terminal's package (or one for a key this terminal no longer has) does not open.
    await runtime.db('settings').whereIn('key', ['sync.file_key', 'sync.file_key_sent']).delete()
    await expect(runtime.sync.importPackage(file)).rejects.toMatchObject({ code: 'NOT_REGISTERED' })
    await ok(runtime.dispatch('sync.now', {}, await signedIn(runtime)))
    await expect(runtime.sync.importPackage(file)).rejects.toMatchObject({
      code: 'FILE_REFUSED',
      message: expect.stringContaining('不是加密给本终端现用密钥的')
    })
  })
})
