import { execFile } from 'node:child_process'
import { cp, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEMO_KEY_ID, DEMO_TRUSTED_KEYS } from '../../../backend/services/rules/keys'
import { readBundleFile } from '../../../backend/services/rules/load'
import { main, signDemoBundles } from '../../../scripts/sign-bundle'
import { tempDir } from '../../support/helpers'
import { BUNDLES_DIR, sourceFileOf } from '../../support/rule-fixtures'

const DEMO_PRIVATE = join(BUNDLES_DIR, 'keys', `${DEMO_KEY_ID}.private.pem`)

function quiet() {
  const errors: string[] = []
  vi.spyOn(console, 'log').mockImplementation(() => {})
  vi.spyOn(console, 'error').mockImplementation((line: string) => errors.push(line))
  return errors
}

describe('scripts/sign-bundle.ts', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('signs a source file into an envelope the terminal accepts', async () => {
    quiet()
    const out = join(await tempDir(), 'nested', 'tibet.bundle.json')
    expect(await main([sourceFileOf('540000'), '--key', DEMO_PRIVATE, '--out', out])).toBe(0)
    const result = await readBundleFile(out, DEMO_TRUSTED_KEYS)
    expect(result.ok && result.value.keyId).toBe(DEMO_KEY_ID) // key id taken from the key file's name
  })

  it('refuses to sign a source that breaks the schema, and writes nothing', async () => {
    const errors = quiet()
    const dir = await tempDir()
    const source = join(dir, 'bad.json')
    await writeFile(
      source,
      (await readFile(sourceFileOf('540000'), 'utf8')).replace('"version": 2', '"version": 0')
    )
    expect(await main([source, '--key', DEMO_PRIVATE, '--out', join(dir, 'out.json')])).toBe(1)
    expect(errors.join('\n')).toContain('规则包字段 version 不正确')
    expect(await readdir(dir)).toEqual(['bad.json'])
  })

  it('explains missing arguments', async () => {
    const errors = quiet()
    expect(await main([sourceFileOf('540000'), '--out', '/tmp/x.json'])).toBe(2)
    expect(errors.join('\n')).toContain('缺少 --key')
  })

  it('re-signs every demo source, byte for byte what is committed', async () => {
    const dir = await tempDir()
    await cp(join(BUNDLES_DIR, 'sources'), join(dir, 'sources'), { recursive: true })
    await cp(join(BUNDLES_DIR, 'keys'), join(dir, 'keys'), { recursive: true })
    const written = await signDemoBundles(dir)
    // The current versions and the format-1 ones (sources/v1/) still given to older terminals.
    expect(written).toHaveLength(12)
    for (const file of written) {
      const name = file.slice(file.lastIndexOf('/') + 1)
      expect(await readFile(file, 'utf8'), name).toBe(
        await readFile(join(BUNDLES_DIR, 'signed', name), 'utf8')
      )
    }
  })

  it('runs as a command', async () => {
    const out = join(await tempDir(), 'quzhou.bundle.json')
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'scripts/sign-bundle.ts',
      sourceFileOf('330800'),
      '--key',
      DEMO_PRIVATE,
      '--out',
      out
    ])
    expect(stdout).toContain('已签名 衢州市（330800） 第 2 版')
    expect((await readBundleFile(out, DEMO_TRUSTED_KEYS)).ok).toBe(true)
  }, 30_000)
})
