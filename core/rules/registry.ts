import { formatShanghaiDateTime } from '../time'
import type { RuleBundle } from './bundle'

/**
 * Which bundles a terminal keeps and which one it uses. Pure: the Node side verifies signatures and
 * stores files; these functions only compare. A refused bundle changes nothing, so the last good
 * one stays in use.
 */

/** A bundle whose signature and schema have been checked, with the exact text that was signed. */
export interface HeldBundle {
  readonly bundle: RuleBundle
  readonly payloadText: string
  readonly keyId: string
}

export const BUNDLE_REFUSAL_CODES = [
  'UNREADABLE',
  'NOT_ENVELOPE',
  'UNSIGNED',
  'UNKNOWN_KEY',
  'BAD_SIGNATURE',
  'INVALID_BUNDLE',
  'WRONG_REGION',
  'OLDER_VERSION',
  'VERSION_CONFLICT',
  'NO_EFFECTIVE_BUNDLE',
  'STORE_FAILED'
] as const
export type BundleRefusalCode = (typeof BUNDLE_REFUSAL_CODES)[number]

export interface BundleRefusal {
  readonly ok: false
  readonly code: BundleRefusalCode
  /** Chinese, for the operator. */
  readonly message: string
}

export type AdmitResult = { readonly ok: true; readonly status: 'new' | 'unchanged' } | BundleRefusal

const refuse = (code: BundleRefusalCode, message: string): BundleRefusal => ({ ok: false, code, message })

/**
 * May `candidate` join `held`? Refused: a region this terminal does not serve, a version older than
 * the newest held for its region, or the same version with different content. The same bundle
 * again is "unchanged". `regionCodes` absent: any region.
 */
export function admitBundle(
  candidate: HeldBundle,
  held: readonly HeldBundle[],
  regionCodes?: readonly string[]
): AdmitResult {
  const { region, version } = candidate.bundle
  if (regionCodes && !regionCodes.includes(region.code)) {
    return refuse('WRONG_REGION', `规则包适用于 ${region.name}（${region.code}），本终端不办理该地区业务`)
  }
  const sameRegion = held.filter((h) => h.bundle.region.code === region.code)
  const newest = Math.max(0, ...sameRegion.map((h) => h.bundle.version))
  if (version < newest) {
    return refuse(
      'OLDER_VERSION',
      `规则包 ${region.name} 第 ${version} 版旧于本机已有的第 ${newest} 版，未采用`
    )
  }
  const same = sameRegion.find((h) => h.bundle.version === version)
  if (same) {
    if (same.payloadText === candidate.payloadText) return { ok: true, status: 'unchanged' }
    return refuse(
      'VERSION_CONFLICT',
      `规则包 ${region.name} 第 ${version} 版与本机已有的同版本内容不同，未采用`
    )
  }
  return { ok: true, status: 'new' }
}

/** The newest held bundle of the region in force at `at` (UTC ISO); a newer one not yet in force waits. */
export function selectActiveBundle(
  held: readonly HeldBundle[],
  regionCode: string,
  at: string
): { readonly ok: true; readonly value: HeldBundle } | BundleRefusal {
  const now = Date.parse(at)
  const inForce = held
    .filter((h) => h.bundle.region.code === regionCode && Date.parse(h.bundle.effectiveFrom) <= now)
    .sort((a, b) => b.bundle.version - a.bundle.version)
  if (inForce.length > 0) return { ok: true, value: inForce[0] }
  const waiting = held.filter((h) => h.bundle.region.code === regionCode)
  const why =
    waiting.length > 0
      ? `本机的规则包尚未生效（最早 ${formatShanghaiDateTime(waiting.map((h) => h.bundle.effectiveFrom).sort((a, b) => Date.parse(a) - Date.parse(b))[0])} 生效）`
      : '本机没有该地区的规则包'
  return refuse('NO_EFFECTIVE_BUNDLE', `地区 ${regionCode} 没有已生效的规则包：${why}，请同步规则后再办理`)
}
