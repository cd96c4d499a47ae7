/**
 * Centre side: signs a rule bundle from its source file.
 *
 *   npx tsx scripts/sign-bundle.ts <source.json> --key <private.pem> [--key-id <id>] --out <file>
 *   npx tsx scripts/sign-bundle.ts --demo-all     re-sign bundles/sources/*.json with the DEMO key
 *
 * The source is checked against the bundle schema first (an invalid bundle is never signed), the
 * exact bytes of the file are signed, and the result is verified with the key's public half before
 * it is written. The key id defaults to the key file's name without ".private.pem".
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseRuleBundleText } from '../core/rules/bundle'
import { openEnvelope, publicKeyPemOf, signPayload } from '../backend/services/rules/envelope'
import { DEMO_KEY_ID } from '../backend/services/rules/keys'
import { bundleFileName } from '../backend/services/rules/load'

const BUNDLES_DIR = fileURLToPath(new URL('../bundles/', import.meta.url))

export interface SignOptions {
  readonly source: string
  readonly key: string
  readonly out: string
  readonly keyId?: string
}

/** Signs one source file; throws with a Chinese message when the source or key is not usable. */
export async function signBundleFile(
  options: SignOptions
): Promise<{ out: string; region: string; version: number }> {
  // A BOM is not part of the JSON text; everything else is signed as it is.
  const payload = (await readFile(options.source, 'utf8')).replace(/^\uFEFF/, '')
  const parsed = parseRuleBundleText(payload)
  if (!parsed.ok) throw new Error(`${options.source}：${parsed.message}`)
  const privateKeyPem = await readFile(options.key, 'utf8')
  const keyId = options.keyId ?? basename(options.key).replace(/(\.private)?\.pem$/, '')
  const envelope = signPayload(payload, privateKeyPem, keyId)
  const check = openEnvelope(envelope, { [keyId]: publicKeyPemOf(privateKeyPem) })
  if (!check.ok) throw new Error(`签名后自检失败：${check.message}`)
  await mkdir(dirname(resolve(options.out)), { recursive: true })
  await writeFile(options.out, envelope, 'utf8')
  return {
    out: options.out,
    region: `${parsed.bundle.region.name}（${parsed.bundle.region.code}）`,
    version: parsed.bundle.version
  }
}

/** Re-signs every demo source (current and format 1) into bundles/signed/ with the DEMO key. */
export async function signDemoBundles(bundlesDir = BUNDLES_DIR): Promise<string[]> {
  // sources/: the current bundles; sources/v1/: the format-1 versions a centre still gives old terminals.
  const sources: string[] = []
  for (const dir of [join(bundlesDir, 'sources'), join(bundlesDir, 'sources', 'v1')])
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort())
      sources.push(join(dir, file))
  const written: string[] = []
  for (const source of sources) {
    const parsed = parseRuleBundleText((await readFile(source, 'utf8')).replace(/^\uFEFF/, ''))
    if (!parsed.ok) throw new Error(`${source}：${parsed.message}`)
    const out = join(bundlesDir, 'signed', bundleFileName(parsed.bundle))
    await signBundleFile({
      source,
      key: join(bundlesDir, 'keys', `${DEMO_KEY_ID}.private.pem`),
      keyId: DEMO_KEY_ID,
      out
    })
    written.push(out)
  }
  return written
}

function parseArgs(argv: readonly string[]): SignOptions | 'demo-all' | string {
  if (argv.length === 1 && argv[0] === '--demo-all') return 'demo-all'
  const values: Record<string, string> = {}
  const positional: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--key' || arg === '--out' || arg === '--key-id') {
      const value = argv[++i]
      if (value === undefined) return `${arg} 后缺少值`
      values[arg.slice(2)] = value
    } else if (arg.startsWith('--')) {
      return `不认识的选项 ${arg}`
    } else {
      positional.push(arg)
    }
  }
  if (positional.length !== 1) return '需要且只需要一个规则包源文件'
  if (!values.key) return '缺少 --key <私钥.pem>'
  if (!values.out) return '缺少 --out <输出文件>'
  return { source: positional[0], key: values.key, out: values.out, keyId: values['key-id'] }
}

const USAGE = `用法：
  npx tsx scripts/sign-bundle.ts <源文件.json> --key <私钥.pem> [--key-id <密钥编号>] --out <输出文件>
  npx tsx scripts/sign-bundle.ts --demo-all`

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv)
  if (typeof args === 'string' && args !== 'demo-all') {
    console.error(`${args}\n${USAGE}`)
    return 2
  }
  try {
    if (args === 'demo-all') {
      for (const out of await signDemoBundles()) console.log(`已用演示密钥（${DEMO_KEY_ID}）签名：${out}`)
    } else {
      const signed = await signBundleFile(args)
      console.log(`已签名 ${signed.region} 第 ${signed.version} 版：${signed.out}`)
    }
    return 0
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    return 1
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2))
}
