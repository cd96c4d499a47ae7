import type { z } from 'zod'
import {
  centreErrorSchema,
  centreFileKeyResponseSchema,
  officeReportResponseSchema,
  policiesResponseSchema,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  protocolOfHeader,
  type PoliciesResponse,
  type ProtocolVersion,
  recordHeadsResponseSchema,
  type RecordHeadsRequest,
  type RecordHeadsResponse,
  registrationResponseSchema,
  rulesResponseSchema,
  tokenGrantSchema,
  uploadResponseSchema,
  type AuthorizationRequest,
  type OfficeReportRequest,
  type OfficeReportResponse,
  type RegistrationRequest,
  type RegistrationResponse,
  type TokenGrant,
  type UploadItem,
  type UploadRequest,
  type UploadResponse
} from '../../../core/sync/protocol'

/**
 * How a call to the centre failed. `unreachable` (network, timeout, 5xx, a garbled answer) means
 * the outcome is unknown and the same request may be sent again; `unauthorized` means the token
 * must be renewed; `refused` is a definite no from the centre (4xx with its reason).
 */
export class CentreCallError extends Error {
  override readonly name = 'CentreCallError'
  constructor(
    readonly kind: 'unreachable' | 'unauthorized' | 'refused',
    message: string,
    readonly status: number | null = null,
    readonly centreCode: string | null = null
  ) {
    super(message)
  }
}

export interface CentreClientOptions {
  readonly baseUrl: string
  /** Per request; for the snapshot stream, the longest wait for the next bytes. */
  readonly timeoutMs?: number
  readonly fetch?: typeof fetch
  /** Told the protocol version the centre named in each answer that got through (2xx, 304). */
  readonly onProtocol?: (version: ProtocolVersion) => void
}

/** The terminal's side of the HTTP protocol in core/sync/protocol.ts: one method per call, answers checked. */
export interface CentreClient {
  register(request: RegistrationRequest): Promise<RegistrationResponse>
  renewToken(terminalId: string, refreshSecret: string): Promise<TokenGrant>
  /** The signed envelope text, or null when `knownTag` is still current (304). */
  rules(token: string, regionCode: string, knownTag: string | null): Promise<string | null>
  /**
   * The snapshot NDJSON as it arrives, never whole in memory, with the centre's count of the lines
   * to come (`x-snapshot-lines`, for progress only: the end line decides).
   */
  snapshot(
    token: string,
    since: number | null
  ): Promise<{ readonly body: AsyncIterable<Uint8Array>; readonly expectedLines: number | null }>
  upload(token: string, terminalId: string, items: readonly UploadItem[]): Promise<UploadResponse>
  /** One sale with the customer waiting, after the account's older queued items; gives up after `timeoutMs`. */
  authorize(token: string, request: AuthorizationRequest, timeoutMs: number): Promise<UploadResponse>
  /** The sales the centre received from this terminal's office (网点) in a range of Shanghai dates. Read-only. */
  officeReport(token: string, range: OfficeReportRequest): Promise<OfficeReportResponse>
  /** Gives the centre the terminal's file key, for sync packages (terminals registered before it was sent at registration). */
  setFileKey(token: string, terminalId: string, filePublicKeyPem: string): Promise<void>
  /** Tells the centre where the record chains end; answers where they ended at the last report. */
  recordHeads(token: string, heads: RecordHeadsRequest): Promise<RecordHeadsResponse>
  /** The centre's file-encryption key as a signed file (checked by the caller against the trusted keys). */
  centreFileKey(): Promise<string>
  /** Whether the centre answers at all (`GET /v1/health`), within `timeoutMs`. */
  health(timeoutMs: number): Promise<void>
  /** Version 2: the policies issued for this terminal's sales after `cursor`. */
  policies(token: string, cursor: number): Promise<PoliciesResponse>
}

const DEFAULT_TIMEOUT_MS = 20_000

/** Why a connection failed, in the clerk's words: never Node's own text (`connect ECONNREFUSED …`). */
export function networkReason(error: unknown): string {
  const cause = error instanceof Error && 'cause' in error ? error.cause : undefined
  const code = cause instanceof Error && 'code' in cause ? String(cause.code) : ''
  if (code === 'ECONNREFUSED') return '中心没有在这个地址上提供服务'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return '找不到中心的地址，请检查网络或地址'
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return '连接超时'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return '连接被中断'
  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH') return '网络不通'
  if (/CERT|SSL|TLS/.test(code)) return '中心的安全证书无效'
  return '网络不通'
}

export function rulesTag(regionCode: string, version: number): string {
  return `"${regionCode}-v${version}"`
}

export function createCentreClient(options: CentreClientOptions): CentreClient {
  const doFetch = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const base = options.baseUrl.replace(/\/+$/, '')

  async function send(
    path: string,
    init: RequestInit & { token?: string; idle?: AbortController; timeoutMs?: number }
  ): Promise<Response> {
    const controller = init.idle ?? new AbortController()
    const waitMs = init.timeoutMs ?? timeoutMs
    const timer = setTimeout(() => controller.abort(), waitMs)
    const headers = new Headers(init.headers)
    headers.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION))
    if (init.token) headers.set('authorization', `Bearer ${init.token}`)
    if (init.body) headers.set('content-type', 'application/json')
    let response: Response
    try {
      response = await doFetch(`${base}${path}`, { ...init, headers, signal: controller.signal })
    } catch (error) {
      const reason = controller.signal.aborted
        ? `${Math.round(waitMs / 1000)} 秒内无应答`
        : networkReason(error)
      throw new CentreCallError('unreachable', `连接不上中心（${reason}）`)
    } finally {
      if (!init.idle) clearTimeout(timer)
    }
    if (init.idle) clearTimeout(timer)
    if (response.ok || response.status === 304) {
      // Only an answer that got through says which centre it is (a proxy's error page names none).
      options.onProtocol?.(protocolOfHeader(response.headers.get(PROTOCOL_HEADER)))
      return response
    }
    const detail = await readError(response)
    if (response.status === 401) throw new CentreCallError('unauthorized', detail.message, 401, detail.code)
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      throw new CentreCallError(
        'unreachable',
        `中心暂时无法处理（${response.status}）：${detail.message}`,
        response.status,
        detail.code
      )
    }
    throw new CentreCallError('refused', detail.message, response.status, detail.code)
  }

  async function readJson<T>(response: Response, schema: z.ZodType<T>): Promise<T> {
    let value: unknown
    try {
      value = await response.json()
    } catch {
      throw new CentreCallError('unreachable', '中心的应答不完整或不是 JSON')
    }
    const parsed = schema.safeParse(value)
    if (!parsed.success)
      throw new CentreCallError(
        'unreachable',
        `中心的应答格式不符合协议：${parsed.error.issues[0]?.path.join('.') ?? ''}`
      )
    return parsed.data
  }

  return {
    async register(request) {
      const response = await send('/v1/terminals', { method: 'POST', body: JSON.stringify(request) })
      return readJson(response, registrationResponseSchema)
    },
    async health(waitMs) {
      await send('/v1/health', { method: 'GET', timeoutMs: waitMs })
    },
    async centreFileKey() {
      const response = await send('/v1/centre/file-key', { method: 'GET' })
      return (await readJson(response, centreFileKeyResponseSchema)).signedKey
    },
    async renewToken(terminalId, refreshSecret) {
      const response = await send(`/v1/terminals/${encodeURIComponent(terminalId)}/token`, {
        method: 'POST',
        body: JSON.stringify({ refreshSecret })
      })
      return readJson(response, tokenGrantSchema)
    },
    async rules(token, regionCode, knownTag) {
      const headers: Record<string, string> = knownTag ? { 'if-none-match': knownTag } : {}
      const response = await send(`/v1/rules?region=${encodeURIComponent(regionCode)}`, {
        method: 'GET',
        token,
        headers
      })
      if (response.status === 304) return null
      return (await readJson(response, rulesResponseSchema)).envelope
    },
    async snapshot(token, since) {
      const idle = new AbortController()
      const response = await send(`/v1/snapshot${since === null ? '' : `?since=${since}`}`, {
        method: 'GET',
        token,
        idle
      })
      const body = response.body
      if (!body) throw new CentreCallError('unreachable', '中心的账户数据应答为空')
      const count = response.headers.get('x-snapshot-lines')
      return {
        body: streamWithIdleTimeout(body, idle, timeoutMs),
        expectedLines: count !== null && /^\d{1,12}$/.test(count) ? Number(count) : null
      }
    },
    async upload(token, terminalId, items) {
      const request: UploadRequest = { terminalId, items: [...items] }
      const response = await send('/v1/transactions', {
        method: 'POST',
        token,
        body: JSON.stringify(request)
      })
      return readJson(response, uploadResponseSchema)
    },
    async authorize(token, request, waitMs) {
      const response = await send('/v1/authorizations', {
        method: 'POST',
        token,
        body: JSON.stringify(request),
        timeoutMs: waitMs
      })
      return readJson(response, uploadResponseSchema)
    },
    async officeReport(token, range) {
      const response = await send('/v1/reports/office', {
        method: 'POST',
        token,
        body: JSON.stringify({ from: range.from, to: range.to })
      })
      return readJson(response, officeReportResponseSchema)
    },
    async setFileKey(token, terminalId, filePublicKeyPem) {
      await send(`/v1/terminals/${encodeURIComponent(terminalId)}/file-key`, {
        method: 'PUT',
        token,
        body: JSON.stringify({ filePublicKeyPem })
      })
    },
    async policies(token, cursor) {
      const response = await send(`/v1/policies?after=${cursor}`, { method: 'GET', token })
      return readJson(response, policiesResponseSchema)
    },
    async recordHeads(token, heads) {
      const response = await send('/v1/record-heads', { method: 'POST', token, body: JSON.stringify(heads) })
      return readJson(response, recordHeadsResponseSchema)
    }
  }
}

/** A stalled download is given up after `timeoutMs` without bytes, however long the whole takes. */
async function* streamWithIdleTimeout(
  body: ReadableStream<Uint8Array>,
  controller: AbortController,
  timeoutMs: number
): AsyncIterable<Uint8Array> {
  const reader = body.getReader()
  try {
    for (;;) {
      const timer = setTimeout(() => controller.abort(), timeoutMs)
      let chunk: Awaited<ReturnType<typeof reader.read>>
      try {
        chunk = await reader.read()
      } catch {
        throw new CentreCallError(
          'unreachable',
          controller.signal.aborted ? '账户数据下载中断（长时间无数据）' : '账户数据下载中断'
        )
      } finally {
        clearTimeout(timer)
      }
      if (chunk.done) return
      yield chunk.value
    }
  } finally {
    // Stopped early (a refused line, a failed write): the rest is not downloaded.
    await reader.cancel().catch(() => undefined)
  }
}

async function readError(response: Response): Promise<{ code: string | null; message: string }> {
  try {
    const parsed = centreErrorSchema.safeParse(await response.json())
    if (parsed.success) return parsed.data.error
  } catch {
    // Not our error body (a proxy's page, a cut connection): the status says enough.
  }
  return { code: null, message: `中心返回 HTTP ${response.status}` }
}
