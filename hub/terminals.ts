import { createHash, createPublicKey, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Knex } from 'knex'
import type {
  ProtocolVersion,
  RegistrationRequest,
  RegistrationResponse,
  TokenGrant
} from '../core/sync/protocol'
import { formatShanghaiDateTime, type Clock } from '../core/time'
import { isX25519PublicKey } from '../backend/shared'
import { nextVersion } from './db/state'

/**
 * Terminals, their credentials and bearer tokens. Secrets are 32 random bytes handed out once;
 * only their SHA-256 is stored, so the database alone cannot be used to act as a terminal.
 */

export const DEFAULT_TOKEN_TTL_MS = 12 * 3600_000

export interface TerminalRecord {
  readonly id: string
  readonly regionCodes: readonly string[]
  readonly publicKeyPem: string
  readonly regionsSinceVersion: number
  /** The terminal's X25519 key sync packages are encrypted to; null until it sent one. */
  readonly filePublicKeyPem: string | null
  /** The protocol it announced on its last call: what its sync packages are written in. */
  readonly protocolVersion: ProtocolVersion
}

interface TerminalRow {
  id: string
  public_key_pem: string
  file_public_key_pem: string | null
  refresh_secret_hash: string
  region_codes_json: string
  regions_since_version: number
  protocol_version: number
  revoked_at?: string | null
}

interface CodeRow {
  code: string
  region_codes_json: string
  reusable: number | boolean
  used_by: string | null
}

export type Refusal = {
  readonly ok: false
  readonly status: 400 | 401 | 403
  readonly code: string
  readonly message: string
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
const secret = () => randomBytes(32).toString('base64url')

function recordOf(row: TerminalRow): TerminalRecord {
  return {
    id: row.id,
    regionCodes: JSON.parse(row.region_codes_json) as string[],
    publicKeyPem: row.public_key_pem,
    regionsSinceVersion: row.regions_since_version,
    filePublicKeyPem: row.file_public_key_pem ?? null,
    protocolVersion: row.protocol_version >= 2 ? 2 : 1
  }
}

async function issueToken(
  trx: Knex | Knex.Transaction,
  terminalId: string,
  clock: Clock,
  ttlMs: number
): Promise<TokenGrant> {
  const now = clock.now()
  const token = secret()
  const tokenExpiresAt = new Date(now.getTime() + ttlMs).toISOString()
  await trx('tokens').where({ terminal_id: terminalId }).where('expires_at', '<=', now.toISOString()).delete()
  await trx('tokens').insert({
    token_hash: sha256(token),
    terminal_id: terminalId,
    expires_at: tokenExpiresAt
  })
  return { token, tokenExpiresAt }
}

function isEd25519PublicKey(pem: string): boolean {
  try {
    return createPublicKey(pem).asymmetricKeyType === 'ed25519'
  } catch {
    return false
  }
}

/**
 * Registration with an enrolment code. A one-time code binds to the first terminal that uses it;
 * that terminal may use it again (a registration whose answer was lost is simply repeated), any
 * other may not. Registering again re-issues credentials: the old refresh secret and tokens die.
 */
export async function registerTerminal(
  db: Knex,
  request: RegistrationRequest,
  options: {
    clock: Clock
    tokenTtlMs: number
    /**
     * The protocol the registration came in: a package made for the terminal before it called
     * again was written in protocol 1 (no newer rule bundles), which a terminal of 2 refused.
     */
    protocol?: ProtocolVersion
  }
): Promise<{ readonly ok: true; readonly value: RegistrationResponse } | Refusal> {
  if (!isEd25519PublicKey(request.publicKeyPem)) {
    return {
      ok: false,
      status: 400,
      code: 'BAD_REQUEST',
      message: '终端公钥不正确：应为 Ed25519 公钥（SPKI PEM）'
    }
  }
  if (request.filePublicKeyPem !== undefined && !isX25519PublicKey(request.filePublicKeyPem))
    return {
      ok: false,
      status: 400,
      code: 'BAD_REQUEST',
      message: '终端文件加密公钥不正确：应为 X25519 公钥（SPKI PEM）'
    }
  const now = options.clock.now().toISOString()
  return db.transaction(async (trx) => {
    const code = await trx('enrolment_codes')
      .where({ code: request.enrolmentCode })
      .first<CodeRow | undefined>()
    if (!code)
      return {
        ok: false,
        status: 403,
        code: 'ENROLMENT_REFUSED',
        message: '注册码无效：请向医保中心管理员索取注册码'
      } as const
    const reusable = Boolean(code.reusable)
    if (!reusable && code.used_by !== null && code.used_by !== request.terminalId) {
      return {
        ok: false,
        status: 403,
        code: 'ENROLMENT_REFUSED',
        message: '注册码已被其他终端使用：每个注册码只能注册一台终端'
      } as const
    }
    const regionCodes = (JSON.parse(code.region_codes_json) as string[]).slice().sort()
    const existing = await trx('terminals').where({ id: request.terminalId }).first<TerminalRow | undefined>()
    if (existing?.revoked_at)
      return {
        ok: false,
        status: 403,
        code: 'ENROLMENT_REFUSED',
        message: '该终端编号已被医保中心停用，不能再注册：请联系医保中心'
      } as const
    const sameRegions =
      existing !== undefined &&
      JSON.stringify(recordOf(existing).regionCodes.slice().sort()) === JSON.stringify(regionCodes)
    // A changed region set starts at a new version: a delta from before it would lack the new regions.
    const regionsSinceVersion =
      existing && sameRegions ? existing.regions_since_version : await nextVersion(trx)
    const refreshSecret = secret()
    await trx('terminals')
      .insert({
        id: request.terminalId,
        territory: request.territory,
        app_version: request.appVersion,
        public_key_pem: request.publicKeyPem,
        file_public_key_pem: request.filePublicKeyPem ?? null,
        refresh_secret_hash: sha256(refreshSecret),
        region_codes_json: JSON.stringify(regionCodes),
        regions_since_version: regionsSinceVersion,
        protocol_version: options.protocol ?? 1,
        registered_at: now,
        updated_at: now
      })
      .onConflict('id')
      .merge([
        'protocol_version',
        'territory',
        'app_version',
        'public_key_pem',
        'file_public_key_pem',
        'refresh_secret_hash',
        'region_codes_json',
        'regions_since_version',
        'updated_at'
      ])
    if (!reusable && code.used_by === null)
      await trx('enrolment_codes')
        .where({ code: code.code })
        .update({ used_by: request.terminalId, used_at: now })
    await trx('tokens').where({ terminal_id: request.terminalId }).delete()
    const grant = await issueToken(trx, request.terminalId, options.clock, options.tokenTtlMs)
    return {
      ok: true,
      value: { terminalId: request.terminalId, regionCodes, refreshSecret, ...grant }
    } as const
  })
}

/** A new token for the refresh secret; null when the terminal or the secret is not known. */
export async function renewToken(
  db: Knex,
  terminalId: string,
  refreshSecret: string,
  options: { clock: Clock; tokenTtlMs: number }
): Promise<TokenGrant | null> {
  const row = await db('terminals')
    .where({ id: terminalId })
    .whereNull('revoked_at')
    .first<TerminalRow | undefined>()
  if (!row) return null
  const given = Buffer.from(sha256(refreshSecret), 'hex')
  const kept = Buffer.from(row.refresh_secret_hash, 'hex')
  if (given.length !== kept.length || !timingSafeEqual(given, kept)) return null
  return issueToken(db, terminalId, options.clock, options.tokenTtlMs)
}

/** The terminal a bearer token belongs to, while it is valid. */
export async function authenticate(db: Knex, token: string, clock: Clock): Promise<TerminalRecord | null> {
  const row = await db('tokens as t')
    .join('terminals as r', 'r.id', 't.terminal_id')
    .where('t.token_hash', sha256(token))
    .whereNull('r.revoked_at')
    .where('t.expires_at', '>', clock.now().toISOString())
    .first<TerminalRow | undefined>(
      'r.id',
      'r.public_key_pem',
      'r.file_public_key_pem',
      'r.refresh_secret_hash',
      'r.region_codes_json',
      'r.regions_since_version',
      'r.protocol_version'
    )
  return row ? recordOf(row) : null
}

/** A terminal in service (one revoked is not found: its files are not imported, no package is made for it). */
export async function findTerminal(db: Knex, id: string): Promise<TerminalRecord | null> {
  const row = await db('terminals').where({ id }).whereNull('revoked_at').first<TerminalRow | undefined>()
  return row ? recordOf(row) : null
}

/**
 * Why no terminal in service has this id, for a refusal the centre's staff read: never registered,
 * or stopped (when, and the reason given). The id is shortened: it may come from a file.
 */
export async function whyNotInService(db: Knex, id: string): Promise<string> {
  const shown = id.slice(0, 40)
  const row = await db('terminals')
    .where({ id })
    .whereNotNull('revoked_at')
    .first<{ revoked_at: string; revoked_reason: string | null } | undefined>('revoked_at', 'revoked_reason')
  if (!row) return `终端 ${shown} 未在中心注册`
  const when = formatShanghaiDateTime(row.revoked_at)
  return `终端 ${shown} 已于 ${when} 被医保中心停用${row.revoked_reason ? `（${row.revoked_reason}）` : ''}`
}

/** Keeps the terminal's file key (a terminal registered before it sent one at registration). */
export async function setTerminalFileKey(
  db: Knex,
  terminalId: string,
  filePublicKeyPem: string
): Promise<void> {
  await db('terminals').where({ id: terminalId }).update({ file_public_key_pem: filePublicKeyPem })
}

/** Remembers the protocol the terminal spoke (only when it changed): its packages are written in it. */
export async function noteTerminalProtocol(
  db: Knex,
  terminal: TerminalRecord,
  protocol: ProtocolVersion
): Promise<TerminalRecord> {
  if (terminal.protocolVersion === protocol) return terminal
  await db('terminals').where({ id: terminal.id }).update({ protocol_version: protocol })
  return { ...terminal, protocolVersion: protocol }
}

/** For the centre's staff (`npm run hub -- terminals`): every terminal, in service or not. */
export interface TerminalListing {
  readonly id: string
  readonly territory: string
  readonly regionCodes: readonly string[]
  readonly appVersion: string
  readonly protocolVersion: number
  readonly registeredAt: string
  readonly revokedAt: string | null
  readonly revokedReason: string | null
}

export async function listTerminals(db: Knex): Promise<TerminalListing[]> {
  const rows: Array<{
    id: string
    territory: string
    region_codes_json: string
    app_version: string
    protocol_version: number
    registered_at: string
    revoked_at: string | null
    revoked_reason: string | null
  }> = await db('terminals')
    .orderBy('id')
    .select(
      'id',
      'territory',
      'region_codes_json',
      'app_version',
      'protocol_version',
      'registered_at',
      'revoked_at',
      'revoked_reason'
    )
  return rows.map((row) => ({
    id: row.id,
    territory: row.territory,
    regionCodes: JSON.parse(row.region_codes_json) as string[],
    appVersion: row.app_version,
    protocolVersion: row.protocol_version,
    registeredAt: row.registered_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason
  }))
}

/** Stops a terminal at once: its tokens go; false when there is no such terminal in service. */
export async function revokeTerminal(db: Knex, id: string, reason: string, clock: Clock): Promise<boolean> {
  return db.transaction(async (trx) => {
    const changed = await trx('terminals')
      .where({ id })
      .whereNull('revoked_at')
      .update({ revoked_at: clock.now().toISOString(), revoked_reason: reason.slice(0, 200) })
    await trx('tokens').where({ terminal_id: id }).delete()
    return changed > 0
  })
}
