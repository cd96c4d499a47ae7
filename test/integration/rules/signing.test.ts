import { generateKeyPairSync } from 'node:crypto'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { selectActiveBundle, type HeldBundle } from '../../../core/rules/registry'
import {
  ENVELOPE_FORMAT,
  openEnvelope,
  publicKeyPemOf,
  signPayload
} from '../../../backend/services/rules/envelope'
import { DEMO_KEY_ID, DEMO_TRUSTED_KEYS } from '../../../backend/services/rules/keys'
import {
  loadBundleFolder,
  readBundleFile,
  receiveBundle,
  storeReceivedBundle,
  verifyBundle
} from '../../../backend/services/rules/load'
import { tempDir } from '../../support/helpers'
import { BUNDLES_DIR, NOW, sourceFileOf } from '../../support/rule-fixtures'

const DEMO_PRIVATE = join(BUNDLES_DIR, 'keys', `${DEMO_KEY_ID}.private.pem`)
const demoKey = () => readFile(DEMO_PRIVATE, 'utf8')
// Tibet's first version (format 1): these tests number versions from it.
const tibetSource = () => readFile(sourceFileOf('540000', 1), 'utf8')

/** Tibet's source with its version / effective time changed, signed with the demo key. */
async function signedTibet(
  changes: { version?: number; effectiveFrom?: string; edit?: (text: string) => string } = {}
): Promise<string> {
  let text = await tibetSource()
  if (changes.version) text = text.replace('"version": 1,', `"version": ${changes.version},`)
  if (changes.effectiveFrom)
    text = text.replace(
      '"effectiveFrom": "2025-12-31T16:00:00.000Z"',
      `"effectiveFrom": "${changes.effectiveFrom}"`
    )
  if (changes.edit) text = changes.edit(text)
  return signPayload(text, await demoKey(), DEMO_KEY_ID)
}

function held(text: string): HeldBundle {
  const verified = verifyBundle(text, DEMO_TRUSTED_KEYS)
  if (!verified.ok) throw new Error(verified.message)
  return verified.value
}

describe('the demo key and the signed demo bundles', () => {
  it('the terminal trusts the public half of the DEMO key in bundles/keys', async () => {
    const publicPem = await readFile(join(BUNDLES_DIR, 'keys', `${DEMO_KEY_ID}.public.pem`), 'utf8')
    expect(DEMO_TRUSTED_KEYS[DEMO_KEY_ID]).toBe(publicPem)
    expect(publicKeyPemOf(await demoKey())).toBe(publicPem)
    expect(DEMO_KEY_ID).toMatch(/DEMO.*NOT-FOR-PRODUCTION/)
  })

  it('every signed demo bundle verifies and carries exactly its source text (re-sign after editing a source)', async () => {
    const files = (await readdir(join(BUNDLES_DIR, 'signed'))).sort()
    expect(files).toEqual([
      '210100-v1.bundle.json',
      '210100-v2.bundle.json',
      '310000-v1.bundle.json',
      '310000-v2.bundle.json',
      '320500-v1.bundle.json',
      '320500-v2.bundle.json',
      '330800-v1.bundle.json',
      '330800-v2.bundle.json',
      '539900-v1.bundle.json',
      '539900-v2.bundle.json',
      '540000-v1.bundle.json',
      '540000-v2.bundle.json'
    ])
    for (const file of files) {
      const result = await readBundleFile(join(BUNDLES_DIR, 'signed', file), DEMO_TRUSTED_KEYS)
      expect(result.ok, file).toBe(true)
      if (!result.ok) continue
      expect(result.value.keyId).toBe(DEMO_KEY_ID)
      const { region, version } = result.value.bundle
      expect(result.value.payloadText).toBe(
        await readFile(sourceFileOf(region.code, version === 1 ? 1 : 'current'), 'utf8')
      )
    }
  })
})

describe('verifying a bundle file', () => {
  it('accepts a good signature', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'b.json'), await signedTibet())
    const result = await readBundleFile(join(dir, 'b.json'), DEMO_TRUSTED_KEYS)
    expect(result.ok && result.value.bundle.region.code).toBe('540000')
  })

  it('refuses the file with one byte of the payload altered', async () => {
    const dir = await tempDir()
    const good = await signedTibet()
    // 1500 yuan -> 1501 yuan: a one-character change inside the signed text.
    const altered = good.replace('"amountFen\\": 150000', '"amountFen\\": 150001')
    expect(altered).not.toBe(good)
    expect(altered.length).toBe(good.length)
    await writeFile(join(dir, 'b.json'), altered)
    const result = await readBundleFile(join(dir, 'b.json'), DEMO_TRUSTED_KEYS)
    expect(result).toEqual({
      ok: false,
      code: 'BAD_SIGNATURE',
      message: '规则包签名验证失败：内容可能被改动，或不是用该密钥签名的'
    })
  })

  it('refuses an altered signature', async () => {
    const envelope = JSON.parse(await signedTibet())
    const flipped = envelope.signature[0] === 'A' ? 'B' : 'A'
    const result = verifyBundle(
      JSON.stringify({ ...envelope, signature: flipped + envelope.signature.slice(1) }),
      DEMO_TRUSTED_KEYS
    )
    expect(!result.ok && result.code).toBe('BAD_SIGNATURE')
  })

  it('refuses a bundle signed with another key, under the demo key id or its own', async () => {
    const other = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const text = await tibetSource()
    const asDemo = verifyBundle(signPayload(text, other, DEMO_KEY_ID), DEMO_TRUSTED_KEYS)
    expect(!asDemo.ok && asDemo.code).toBe('BAD_SIGNATURE')
    const asOther = verifyBundle(signPayload(text, other, 'someone-else'), DEMO_TRUSTED_KEYS)
    expect(!asOther.ok && asOther.code).toBe('UNKNOWN_KEY')
    expect(!asOther.ok && asOther.message).toContain('someone-else')
  })

  it('refuses an unsigned bundle and things that are not envelopes', async () => {
    const dir = await tempDir()
    const unsigned = verifyBundle(await tibetSource(), DEMO_TRUSTED_KEYS)
    expect(unsigned).toEqual({ ok: false, code: 'UNSIGNED', message: '规则包未签名：只接受中心签名的规则包' })
    const noSignature = JSON.stringify({
      format: ENVELOPE_FORMAT,
      keyId: DEMO_KEY_ID,
      payload: await tibetSource(),
      signature: ''
    })
    expect(verifyBundle(noSignature, DEMO_TRUSTED_KEYS)).toMatchObject({ ok: false, code: 'UNSIGNED' })
    expect(verifyBundle('not json', DEMO_TRUSTED_KEYS)).toMatchObject({ ok: false, code: 'NOT_ENVELOPE' })
    expect(verifyBundle('[]', DEMO_TRUSTED_KEYS)).toMatchObject({ ok: false, code: 'NOT_ENVELOPE' })
    expect(await readBundleFile(join(dir, 'missing.json'), DEMO_TRUSTED_KEYS)).toMatchObject({
      ok: false,
      code: 'UNREADABLE'
    })
  })

  it('refuses a correctly signed bundle that breaks the schema, naming the field', async () => {
    const text = await signedTibet({
      edit: (t) => t.replace('"unitPriceFen": 12000', '"unitPriceFen": 120.5')
    })
    expect(openEnvelope(text, DEMO_TRUSTED_KEYS).ok).toBe(true) // the signature itself is fine
    const result = verifyBundle(text, DEMO_TRUSTED_KEYS)
    expect(result).toMatchObject({ ok: false, code: 'INVALID_BUNDLE' })
    expect(!result.ok && result.message).toBe(
      '规则包字段 products[2].pricing.bands[0].unitPriceFen 不正确：金额应为以分为单位的整数'
    )
  })
})

describe('receiving bundles: region, version, effective time', () => {
  it('refuses a bundle for a region the terminal does not serve', async () => {
    const result = receiveBundle(await signedTibet(), {
      trustedKeys: DEMO_TRUSTED_KEYS,
      held: [],
      regionCodes: ['539900', '330800']
    })
    expect(result).toMatchObject({ ok: false, code: 'WRONG_REGION' })
    expect(!result.ok && result.message).toContain('西藏自治区（540000）')
  })

  it('refuses an older version, and the same version with different content; the same bundle is unchanged', async () => {
    const v2 = held(await signedTibet({ version: 2 }))
    const options = { trustedKeys: DEMO_TRUSTED_KEYS, held: [v2] }
    expect(receiveBundle(await signedTibet({ version: 1 }), options)).toMatchObject({
      ok: false,
      code: 'OLDER_VERSION'
    })
    const changed = await signedTibet({
      version: 2,
      edit: (t) => t.replace('"amountFen": 150000', '"amountFen": 160000')
    })
    expect(receiveBundle(changed, options)).toMatchObject({ ok: false, code: 'VERSION_CONFLICT' })
    expect(receiveBundle(await signedTibet({ version: 2 }), options)).toMatchObject({
      ok: true,
      status: 'unchanged'
    })
    expect(receiveBundle(await signedTibet({ version: 3 }), options)).toMatchObject({
      ok: true,
      status: 'new'
    })
  })

  it('a newer bundle not yet in force waits; the newest one in force is used', async () => {
    const v1 = held(await signedTibet())
    const v2 = held(await signedTibet({ version: 2, effectiveFrom: '2026-11-30T16:00:00.000Z' })) // 2026-12-01 00:00 Shanghai
    expect(selectActiveBundle([v2, v1], '540000', NOW)).toMatchObject({
      ok: true,
      value: { bundle: { version: 1 } }
    })
    expect(selectActiveBundle([v2, v1], '540000', '2026-11-30T15:59:59.999Z')).toMatchObject({
      ok: true,
      value: { bundle: { version: 1 } }
    })
    expect(selectActiveBundle([v2, v1], '540000', '2026-11-30T16:00:00.000Z')).toMatchObject({
      ok: true,
      value: { bundle: { version: 2 } }
    })
    const none = selectActiveBundle([v2], '540000', NOW)
    expect(none).toMatchObject({ ok: false, code: 'NO_EFFECTIVE_BUNDLE' })
    expect(!none.ok && none.message).toContain('2026-12-01 00:00')
    expect(selectActiveBundle([v1], '539900', NOW)).toMatchObject({ ok: false, code: 'NO_EFFECTIVE_BUNDLE' })
  })

  it('keeps the last good bundle on disk when a tampered one arrives', async () => {
    const dir = await tempDir()
    const options = { trustedKeys: DEMO_TRUSTED_KEYS }
    const first = await storeReceivedBundle(dir, await signedTibet(), { ...options, held: [] })
    expect(first).toMatchObject({ ok: true, status: 'new' })
    const tampered = (await signedTibet({ version: 2 })).replace(
      '"amountFen\\": 150000',
      '"amountFen\\": 950000'
    )
    let loaded = await loadBundleFolder(dir, options)
    expect(await storeReceivedBundle(dir, tampered, { ...options, held: loaded.held })).toMatchObject({
      ok: false,
      code: 'BAD_SIGNATURE'
    })
    loaded = await loadBundleFolder(dir, options)
    expect(await readdir(dir)).toEqual(['540000-v1.bundle.json'])
    expect(loaded.held.map((h) => h.bundle.version)).toEqual([1])
    expect(selectActiveBundle(loaded.held, '540000', NOW)).toMatchObject({
      ok: true,
      value: { bundle: { version: 1 } }
    })

    expect(
      await storeReceivedBundle(dir, await signedTibet({ version: 2 }), { ...options, held: loaded.held })
    ).toMatchObject({ ok: true, status: 'new' })
    loaded = await loadBundleFolder(dir, options)
    expect(loaded.held.map((h) => h.bundle.version)).toEqual([1, 2])
    expect(loaded.refused).toEqual([])
  })

  it('loads a folder, reporting each refused file by name', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'good.json'), await signedTibet())
    await writeFile(join(dir, 'unsigned.json'), await tibetSource())
    await writeFile(
      join(dir, 'yunnan.json'),
      await readFile(join(BUNDLES_DIR, 'signed', '539900-v1.bundle.json'), 'utf8')
    )
    const loaded = await loadBundleFolder(dir, { trustedKeys: DEMO_TRUSTED_KEYS, regionCodes: ['540000'] })
    expect(loaded.held.map((h) => h.bundle.region.code)).toEqual(['540000'])
    expect(loaded.refused).toEqual([
      { file: 'unsigned.json', code: 'UNSIGNED', message: '规则包未签名：只接受中心签名的规则包' },
      expect.objectContaining({ file: 'yunnan.json', code: 'WRONG_REGION' })
    ])
    expect(await loadBundleFolder(join(dir, 'nope'), { trustedKeys: DEMO_TRUSTED_KEYS })).toEqual({
      held: [],
      refused: []
    })
  })
})
