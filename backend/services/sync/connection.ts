import { AppError } from '../../../core/errors'
import type { Logger } from '../../../core/log'
import type { Clock } from '../../../core/time'
import type { SyncStateRepository } from '../../../db/repositories/sync-state'
import { CENTRE_URL_RULE, centreUrlAllowed, type ProtocolVersion } from '../../../core/sync/protocol'
import { CentreCallError, createCentreClient, type CentreClient } from './centre-client'

/**
 * The terminal's line to the centre it registered with: the client, the access token (renewed
 * with the sealed refresh secret, once more after a 401), and what the last exchange said about
 * the line (online or not, the last error). Upload, download, registration and the office report
 * all talk to the centre through it.
 */
export interface CentreConnection {
  /** A client for any address (registration, before one is stored). */
  clientFor(centreUrl: string): CentreClient
  /** The registered centre's client; NOT_REGISTERED before registration. */
  client(): Promise<CentreClient>
  /** A call with the token; a 401 renews it once and tries again. */
  authorized<T>(centre: CentreClient, call: (token: string) => Promise<T>): Promise<T>
  /** A token the centre granted with registration. */
  granted(grant: { readonly token: string; readonly tokenExpiresAt: string }): void
  /** The centre answered: online, and the failures in a row start again at none. */
  answered(): Promise<void>
  /**
   * A failed step of a sync, recorded (offline, or the centre's refusal, with the step's Chinese
   * name) and thrown as an AppError the operator can read: NOT_REGISTERED as it is, else SYNC_FAILED.
   */
  failed(error: unknown, during: string): Promise<never>
  /** Whether the centre answered recently: the offline amount limits apply only when it did not. */
  reachable(): boolean
  /**
   * Asks the centre whether it is there (a short health call), so 在线 / 离线 is true within
   * seconds and not only after the next sync; true when it answered.
   */
  probe(): Promise<boolean>
  /** Failed syncs since the last answer: how far the next try backs off. */
  failuresInARow(): number
  /**
   * The protocol to speak to the centre: the version it named in its last answer (kept across
   * restarts); unknown, it is asked first (a health call). Version 1 when it names none.
   */
  centreProtocol(centre: CentreClient): Promise<ProtocolVersion>
}

export interface CentreConnectionDeps {
  readonly state: SyncStateRepository
  readonly clock: Clock
  readonly log: Logger
  readonly terminalId: string
  /** Opens what was sealed with the personal-data key (the refresh secret). */
  readonly open: (sealed: string) => string
  readonly fetch?: typeof fetch
  readonly timeoutMs?: number
}

export function createCentreConnection(deps: CentreConnectionDeps): CentreConnection {
  const now = () => deps.clock.now().toISOString()
  let token: { value: string; expiresAt: number } | null = null
  let reachable = false
  /** A health call waits this long: a dead centre is told apart quickly. */
  const PROBE_TIMEOUT_MS = 2_000
  let failuresInARow = 0
  /** As the centre last named it; undefined until read from the state. */
  let protocol: ProtocolVersion | null | undefined

  function noteProtocol(version: ProtocolVersion): void {
    if (protocol === version) return
    protocol = version
    deps.log.info('centre_protocol', { version })
    void deps.state.write({ centreProtocol: version }).catch(() => undefined)
  }

  const clientFor = (centreUrl: string) => {
    // Also for an address stored before the rule: nothing personal goes out in the clear.
    if (!centreUrlAllowed(centreUrl)) throw new AppError('SYNC_FAILED', `${CENTRE_URL_RULE}：请主管重新注册`)
    return createCentreClient({
      baseUrl: centreUrl,
      fetch: deps.fetch,
      timeoutMs: deps.timeoutMs,
      onProtocol: noteProtocol
    })
  }

  async function freshToken(centre: CentreClient, renew = false): Promise<string> {
    if (!renew && token && token.expiresAt - 60_000 > deps.clock.now().getTime()) return token.value
    const state = await deps.state.read()
    if (!state.refreshSecretSealed) throw new AppError('NOT_REGISTERED', '本终端尚未向中心注册')
    const grant = await centre.renewToken(deps.terminalId, deps.open(state.refreshSecretSealed))
    token = { value: grant.token, expiresAt: Date.parse(grant.tokenExpiresAt) }
    return token.value
  }

  async function client(): Promise<CentreClient> {
    const state = await deps.state.read()
    if (!state.centreUrl || !state.refreshSecretSealed)
      throw new AppError('NOT_REGISTERED', '本终端尚未向中心注册：请主管在“设置”中填写中心地址与注册码')
    return clientFor(state.centreUrl)
  }

  return {
    clientFor,
    client,

    async authorized(centre, call) {
      try {
        return await call(await freshToken(centre))
      } catch (error) {
        if (!(error instanceof CentreCallError) || error.kind !== 'unauthorized') throw error
        deps.log.info('centre_token_renewed_after_401')
        return call(await freshToken(centre, true))
      }
    },

    granted(grant) {
      token = { value: grant.token, expiresAt: Date.parse(grant.tokenExpiresAt) }
    },

    async answered() {
      reachable = true
      failuresInARow = 0
      await deps.state.write({ lastContactAt: now(), lastError: null })
    },

    async failed(error, during) {
      const message =
        error instanceof CentreCallError || error instanceof AppError ? error.message : '同步时发生内部错误'
      if (!(error instanceof AppError && error.code === 'NOT_REGISTERED')) {
        // Unreachable: offline. A refusal is still an answer: the centre is there.
        const answered = error instanceof CentreCallError && error.kind !== 'unreachable'
        reachable = answered
        failuresInARow += 1
        await deps.state.write({
          lastError: `${during}：${message}`,
          ...(answered ? { lastContactAt: now() } : {})
        })
        deps.log.error('sync_failed', {
          during,
          kind: error instanceof CentreCallError ? error.kind : 'other',
          status: error instanceof CentreCallError ? (error.status ?? 0) : 0
        })
      }
      if (error instanceof AppError) throw error
      throw new AppError('SYNC_FAILED', `${during}：${message}`)
    },

    reachable: () => reachable,
    async probe() {
      let centre
      try {
        centre = await client()
      } catch {
        return false
      }
      try {
        await centre.health(PROBE_TIMEOUT_MS)
        // Back after an outage: noted once (the scheduled syncs keep it fresh), not a write every poll.
        if (!reachable) await deps.state.write({ lastContactAt: now() })
        reachable = true
      } catch (error) {
        reachable = error instanceof CentreCallError && error.kind !== 'unreachable'
      }
      return reachable
    },
    failuresInARow: () => failuresInARow,
    async centreProtocol(centre) {
      if (protocol === undefined) protocol = (await deps.state.read()).centreProtocol
      if (protocol === null) await centre.health(PROBE_TIMEOUT_MS)
      return protocol ?? 1
    }
  }
}
