import { generateKeyPairSync } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import type { AppInfo, CallContext } from '../../../core/api/contract'
import type { EligibilityView } from '../../../core/eligibility'
import type { SessionView } from '../../../core/operators'
import { openCounterRuntime, type CounterRuntime } from '../../../backend/runtime'
import { signPayload } from '../../../backend/services/rules/envelope'
import { DEMO_KEY_ID } from '../../../backend/services/rules/keys'
import { TRUST_FILE_FORMAT } from '../../../backend/services/rules/trust'
import { fixedClock } from '../../../core/time'
import { openTestRuntime, recordingLogger, signedIn, TEST_NOW, tempDir } from '../../support/helpers'
import { BUNDLES_DIR, sourceFileOf } from '../../support/rule-fixtures'
import { ok } from '../../support/sync'
import { openTestHub } from '../../support/hub'
import { addRuleBundle } from '../../../hub/rules'

/**
 * Keys a real centre can use (#15): the installation's own trusted keys from a file (several, so
 * one can be rotated; any revoked), the public demo key only in a folder created as a demo, and
 * every bundle through the product's own import call.
 */

function centreKey(keyId: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    keyId,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
}
type CentreKey = ReturnType<typeof centreKey>

async function trustFile(keys: CentreKey[], revoked: string[] = []): Promise<string> {
  const file = join(await tempDir('trust-'), 'trusted-keys.json')
  await writeFile(
    file,
    JSON.stringify({
      format: TRUST_FILE_FORMAT,
      keys: keys.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicPem, note: '测试中心' })),
      revoked
    })
  )
  return file
}

/** 衢州's rules as the centre would sign them, with another version number. */
async function quzhouBundle(key: { privatePem: string; keyId: string }, version: number): Promise<string> {
  const text = (await readFile(sourceFileOf('330800'), 'utf8')).replace(
    /"version": \d+,/,
    `"version": ${version},`
  )
  return signPayload(text, key.privatePem, key.keyId)
}

const demoQuzhou = () => readFile(join(BUNDLES_DIR, 'signed', '330800-v1.bundle.json'), 'utf8')
const demoPrivate = () => readFile(join(BUNDLES_DIR, 'keys', `${DEMO_KEY_ID}.private.pem`), 'utf8')

function open(dataDir: string, trustFiles: string[]): Promise<CounterRuntime> {
  return openCounterRuntime({
    dataDir,
    clock: fixedClock(TEST_NOW),
    log: recordingLogger(),
    appVersion: '0.0.0-test',
    trustFiles
  })
}

const info = (runtime: CounterRuntime) => ok<AppInfo>(runtime.dispatch('app.info', {}, { transport: 'test' }))

async function offersVersion(runtime: CounterRuntime, as: CallContext): Promise<number | null> {
  const found = await ok<{ accountId: number }>(
    runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, as)
  )
  const view = await ok<EligibilityView>(
    runtime.dispatch('eligibility.offers', { accountId: found.accountId }, as)
  )
  return view.rules?.version ?? null
}

describe('an installation that configured its own centre keys', () => {
  it('starts a new folder empty and not a demo: the demo key is not trusted, its own key is, and the first supervisor is set up once', async () => {
    const own = centreKey('QZ-centre-2026')
    const runtime = await open(await tempDir(), [await trustFile([own])])
    try {
      expect(await info(runtime)).toMatchObject({
        demoData: false,
        needsSetUp: true,
        trust: { keyIds: ['QZ-centre-2026'], demoKey: false, revoked: [] }
      })
      // No demo people, no demo operators: the demo PINs sign nobody in.
      expect(
        await runtime.dispatch('auth.signIn', { operatorCode: '9001', pin: '999999' }, { transport: 'test' })
      ).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } })
      // Two set-ups sent at once: exactly one supervisor is created.
      const attempts = await Promise.all(
        ['9100', '9200'].map((operatorCode) =>
          runtime.dispatch('auth.setUp', { operatorCode, name: '周敏', pin: '258147' }, { transport: 'test' })
        )
      )
      expect(attempts.filter((a) => a.ok)).toHaveLength(1)
      expect(attempts.find((a) => !a.ok)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
      expect(await runtime.db('operators').count({ n: '*' })).toEqual([{ n: 1 }])
      expect((await info(runtime)).needsSetUp).toBe(false)
      const session = attempts.find((a) => a.ok)?.value as SessionView
      const supervisor: CallContext = { transport: 'test', sessionToken: session.token }

      // The centre's snapshot brings the region (here written as the snapshot import would).
      await runtime.db('regions').insert({ code: '330800', name: '衢州市' })
      expect(
        await runtime.dispatch('rules.import', { envelope: await demoQuzhou() }, supervisor)
      ).toMatchObject({
        ok: false,
        error: { code: 'RULES_REFUSED', message: expect.stringContaining('不在本终端信任的中心密钥中') }
      })
      // A crafted bundle signed with the public demo key, under any key id: refused too.
      const forged = signPayload(
        (await readFile(sourceFileOf('330800'), 'utf8')).replace(/"version": \d+,/, '"version": 9,'),
        await demoPrivate(),
        'QZ-centre-2026'
      )
      expect(await runtime.dispatch('rules.import', { envelope: forged }, supervisor)).toMatchObject({
        ok: false,
        error: { code: 'RULES_REFUSED' }
      })
      expect(
        await runtime.dispatch('rules.import', { envelope: await quzhouBundle(own, 1) }, supervisor)
      ).toMatchObject({ ok: true, value: { regionCode: '330800', version: 1, status: 'new' } })
    } finally {
      await runtime.close()
    }
  })

  it('a broken or missing trust file stops the start with a clear message, and the folder does not become a demo', async () => {
    const dir = await tempDir()
    const broken = join(await tempDir('trust-'), 'trusted-keys.json')
    await writeFile(
      broken,
      JSON.stringify({ format: TRUST_FILE_FORMAT, keys: [{ keyId: 'x', publicKeyPem: 'nope' }] })
    )
    await expect(open(dir, [broken])).rejects.toMatchObject({ code: 'TRUST_FILE_INVALID' })
    await writeFile(broken, '{"format":')
    await expect(open(dir, [broken])).rejects.toMatchObject({
      code: 'TRUST_FILE_INVALID',
      message: expect.stringContaining('不是有效的 JSON')
    })
    process.env.COUNTER_TRUSTED_KEYS = join(dir, 'no-such-file.json')
    try {
      await expect(open(dir, [])).rejects.toMatchObject({
        code: 'TRUST_FILE_INVALID',
        message: expect.stringContaining('找不到')
      })
    } finally {
      delete process.env.COUNTER_TRUSTED_KEYS
    }
    // Once the file is right, the folder starts as the centre's, not as a demo.
    const runtime = await open(dir, [await trustFile([centreKey('QZ-centre-2026')])])
    expect((await info(runtime)).demoData).toBe(false)
    await runtime.close()
  })
})

describe('rotating and revoking keys', () => {
  it('several keys at once; a revoked key is refused for new bundles and for those already held', async () => {
    const dataDir = await tempDir()
    // A demo folder (created with no trust file) that later gets the installation's keys.
    const demo = await openTestRuntime({ dataDir })
    await demo.close()
    const old = centreKey('QZ-centre-2026')
    const next = centreKey('QZ-centre-2027')

    let runtime = await open(dataDir, [await trustFile([old, next])])
    let supervisor = await signedIn(runtime, 'supervisor')
    expect((await info(runtime)).trust).toEqual({
      keyIds: ['QZ-centre-2026', 'QZ-centre-2027', DEMO_KEY_ID],
      demoKey: true,
      revoked: []
    })
    await ok(runtime.dispatch('rules.import', { envelope: await quzhouBundle(old, 12) }, supervisor))
    await ok(runtime.dispatch('rules.import', { envelope: await quzhouBundle(next, 13) }, supervisor))
    expect(await offersVersion(runtime, supervisor)).toBe(13)
    await runtime.close()

    // The 2027 key leaked: the administrator revokes it. Version 13, signed with it, is no longer used.
    runtime = await open(dataDir, [await trustFile([old, next], ['QZ-centre-2027'])])
    supervisor = await signedIn(runtime, 'supervisor')
    expect((await info(runtime)).trust.revoked).toEqual(['QZ-centre-2027'])
    expect(await offersVersion(runtime, supervisor)).toBe(12)
    expect(
      await runtime.dispatch('rules.import', { envelope: await quzhouBundle(next, 14) }, supervisor)
    ).toMatchObject({ ok: false, error: { code: 'RULES_REFUSED' } })
    await runtime.close()

    // Revoking the demo key leaves a demo folder with the installation's keys only.
    runtime = await open(dataDir, [await trustFile([old], [DEMO_KEY_ID])])
    supervisor = await signedIn(runtime, 'supervisor')
    expect((await info(runtime)).trust).toEqual({
      keyIds: ['QZ-centre-2026'],
      demoKey: false,
      revoked: [DEMO_KEY_ID]
    })
    expect(await offersVersion(runtime, supervisor)).toBe(12)
    expect(
      await runtime.dispatch('rules.import', { envelope: await demoQuzhou() }, supervisor)
    ).toMatchObject({
      ok: false,
      error: { code: 'RULES_REFUSED' }
    })
    await runtime.close()
  })
})

describe('a real deployment: the centre signs with its own key, the terminal trusts only that', () => {
  it('registers, takes the centre’s file key and rules, fills its accounts, and refuses the demo’s', async () => {
    const own = centreKey('QZ-centre-2026')
    const keyFile = join(await tempDir('centre-key-'), 'centre.private.pem')
    await writeFile(keyFile, own.privatePem)
    vi.stubEnv('HUB_SIGNING_KEY', keyFile)
    vi.stubEnv('HUB_SIGNING_KEY_ID', own.keyId)
    try {
      const centre = await openTestHub()
      // The centre's 衢州 rules, signed with its own key (a newer version than the demo's it also holds).
      await addRuleBundle(centre.db, await quzhouBundle(own, 3), centre.clock)
      const runtime = await open(await tempDir(), [await trustFile([own])])
      try {
        const setUp = await ok<SessionView>(
          runtime.dispatch(
            'auth.setUp',
            { operatorCode: '9100', name: '周敏', pin: '258147' },
            { transport: 'test' }
          )
        )
        const supervisor: CallContext = { transport: 'test', sessionToken: setUp.token }
        await ok(
          runtime.dispatch(
            'sync.register',
            { centreUrl: centre.url, enrolmentCode: 'DEMO-330800', territory: '柯城区医保服务大厅' },
            supervisor
          )
        )
        // The centre's file key, signed with its own key, was checked and kept.
        expect(
          await runtime.db('settings').where({ key: 'sync.centre_file_key' }).first('value')
        ).toBeTruthy()
        await ok(runtime.dispatch('sync.now', {}, supervisor))
        expect(await runtime.db('rule_bundles').orderBy('version').pluck('version')).toEqual([3])
        expect(await offersVersion(runtime, supervisor)).toBe(3)
        // The demo's bundle, still at that centre, is not taken by this terminal.
        expect(
          await runtime.dispatch('rules.import', { envelope: await demoQuzhou() }, supervisor)
        ).toMatchObject({
          ok: false,
          error: { code: 'RULES_REFUSED' }
        })
      } finally {
        await runtime.close()
      }
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
