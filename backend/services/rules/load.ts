import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseRuleBundleText } from '../../../core/rules/bundle'
import { admitBundle, type BundleRefusal, type HeldBundle } from '../../../core/rules/registry'
import { openEnvelope } from './envelope'
import type { TrustedKeys } from './keys'

/**
 * Loading rule bundles on the terminal: signature first, then schema, then whether the bundle may
 * replace what is held. Every refusal is a typed result with a Chinese message; nothing throws to
 * the caller, and a refused bundle leaves the held ones as they were.
 */

export type Verified = { readonly ok: true; readonly value: HeldBundle } | BundleRefusal
export type Received =
  { readonly ok: true; readonly value: HeldBundle; readonly status: 'new' | 'unchanged' } | BundleRefusal

export interface ReceiveOptions {
  readonly trustedKeys: TrustedKeys
  /** What the terminal already holds (all regions). */
  readonly held: readonly HeldBundle[]
  /** Regions this terminal serves; absent: any. */
  readonly regionCodes?: readonly string[]
}

/** Envelope text -> a verified, schema-checked bundle. */
export function verifyBundle(envelopeText: string, trustedKeys: TrustedKeys): Verified {
  const opened = openEnvelope(envelopeText, trustedKeys)
  if (!opened.ok) return opened
  const parsed = parseRuleBundleText(opened.payloadText)
  if (!parsed.ok) return parsed
  return { ok: true, value: { bundle: parsed.bundle, payloadText: opened.payloadText, keyId: opened.keyId } }
}

/** Verify, then decide whether it may join what is held (region, version). */
export function receiveBundle(envelopeText: string, options: ReceiveOptions): Received {
  const verified = verifyBundle(envelopeText, options.trustedKeys)
  if (!verified.ok) return verified
  const admitted = admitBundle(verified.value, options.held, options.regionCodes)
  if (!admitted.ok) return admitted
  return { ok: true, value: verified.value, status: admitted.status }
}

async function readText(path: string): Promise<{ ok: true; text: string } | BundleRefusal> {
  try {
    return { ok: true, text: await readFile(path, 'utf8') }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '未知错误'
    return { ok: false, code: 'UNREADABLE', message: `无法读取规则包文件（${code}）` }
  }
}

export async function readBundleFile(path: string, trustedKeys: TrustedKeys): Promise<Verified> {
  const read = await readText(path)
  return read.ok ? verifyBundle(read.text, trustedKeys) : read
}

/** File name of a held bundle in a store folder: one file per region and version. */
export function bundleFileName(bundle: HeldBundle['bundle']): string {
  return `${bundle.region.code}-v${bundle.version}.bundle.json`
}

export interface FolderLoad {
  readonly held: HeldBundle[]
  readonly refused: ReadonlyArray<{
    readonly file: string
    readonly code: BundleRefusal['code']
    readonly message: string
  }>
}

/**
 * Every `*.json` in a folder (the demo bundles, or a terminal's store), verified and admitted in
 * version order. A missing folder holds nothing.
 */
export async function loadBundleFolder(
  dir: string,
  options: Omit<ReceiveOptions, 'held'> & { held?: readonly HeldBundle[] }
): Promise<FolderLoad> {
  let files: string[]
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()
  } catch {
    return { held: [...(options.held ?? [])], refused: [] }
  }
  const refused: { file: string; code: BundleRefusal['code']; message: string }[] = []
  const verified: { file: string; bundle: HeldBundle }[] = []
  for (const file of files) {
    const result = await readBundleFile(join(dir, file), options.trustedKeys)
    if (result.ok) verified.push({ file, bundle: result.value })
    else refused.push({ file, code: result.code, message: result.message })
  }
  const held = [...(options.held ?? [])]
  // Oldest first, so a folder holding versions 1 and 2 of a region keeps both.
  for (const { file, bundle } of verified.sort((a, b) => a.bundle.bundle.version - b.bundle.bundle.version)) {
    const admitted = admitBundle(bundle, held, options.regionCodes)
    if (!admitted.ok) refused.push({ file, code: admitted.code, message: admitted.message })
    else if (admitted.status === 'new') held.push(bundle)
  }
  return { held, refused }
}

/**
 * Receives a bundle and, when it is new, writes its envelope into the store folder (written to a
 * temporary name first, then renamed, so a crash never leaves half a file).
 */
export async function storeReceivedBundle(
  dir: string,
  envelopeText: string,
  options: ReceiveOptions
): Promise<Received> {
  const received = receiveBundle(envelopeText, options)
  if (!received.ok || received.status === 'unchanged') return received
  const target = join(dir, bundleFileName(received.value.bundle))
  try {
    await mkdir(dir, { recursive: true })
    await writeFile(`${target}.tmp`, envelopeText, 'utf8')
    await rename(`${target}.tmp`, target)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '未知错误'
    return { ok: false, code: 'STORE_FAILED', message: `规则包无法保存到本机（${code}）` }
  }
  return received
}
