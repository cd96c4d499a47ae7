import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Knex } from 'knex'
import { z } from 'zod'
import { ENROLMENT_STATUSES } from '../core/cardholder'
import { formatPath } from '../core/rules/bundle'
import {
  authorizationRequestSchema,
  officeReportRequestSchema,
  recordHeadsRequestSchema,
  terminalFileKeyRequestSchema,
  registrationRequestSchema,
  terminalIdSchema,
  tokenRenewalRequestSchema,
  uploadRequestSchema,
  PROTOCOL_HEADER,
  protocolOfHeader,
  type CentreError,
  type ItemResult,
  type ProtocolVersion,
  type UploadItem
} from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { isX25519PublicKey, silentLogger, type Logger } from '../backend/shared'
import { setAccountStatus } from './db/accounts'
import { snapshotReaderFor } from './db/open'
import { applyFaults, createFaults, faultsPatchSchema, faultsView, type HubFaults } from './faults'
import { officeReport } from './office'
import { receiveRecordHeads } from './record-heads'
import { createBundleCache, currentBundle, withdrawRules } from './rules'
import { issueVoucher, setKeyedSalesPolicy } from './payer'
import { settleItems } from './settle'
import { issueDuePolicies, policiesAfter } from './policies'
import { stampPending } from './db/state'
import { createRateLimiter, createTurns, NoTurn, type RateLimit, type RateLimiter } from './rate-limit'
import { dialectOf } from './db/dialect'
import { AccountLineCache, streamWriter, writeSnapshot } from './snapshot'
import { currentFileKey } from './file-key'
import {
  authenticate,
  DEFAULT_TOKEN_TTL_MS,
  noteTerminalProtocol,
  registerTerminal,
  renewToken,
  setTerminalFileKey,
  type TerminalRecord
} from './terminals'

/**
 * The reference medical-insurance centre: the protocol of core/sync/protocol.ts over Node's own
 * HTTP server (README, "The centre's HTTP layer", says why not a framework). On 127.0.0.1 by
 * default, where a reverse proxy on the same machine may face the network; on another address
 * only with TLS. Every non-2xx answer is `{ error: { code, message } }` in Chinese.
 */

export interface HubServerOptions {
  readonly db: Knex
  readonly clock: Clock
  readonly log?: Logger
  /** Kept by reference: change its fields while the server runs. */
  readonly faults?: HubFaults
  /** Adds `/v1/_test/*` (faults, rule withdrawal, account status) for tests driving a hub in a child process. */
  readonly testHooks?: boolean
  readonly tokenTtlMs?: number
  readonly maxBodyBytes?: number
  /** Read-only connections for snapshots; opened on the database's file when absent, closed with the server. */
  readonly reader?: Knex
  /** How long after acceptance the insurer issues a policy (`HUB_POLICY_DELAY_SECONDS`); 0 when absent. */
  readonly policyDelayMs?: number
  /**
   * The highest protocol this centre speaks: 2, or 1 to play a centre built before version 2
   * (`HUB_PROTOCOL=1`, for testing terminals against one): it then announces nothing and refuses
   * what a version-1 centre would.
   */
  readonly protocol?: ProtocolVersion
  /** Certificate and key (PEM): the centre speaks HTTPS and may listen on an address other than loopback. */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string }
  /** Calls a terminal (by its token) and an address (before it has one) may make; false: none counted. */
  readonly rateLimits?: { readonly terminal: RateLimit; readonly address: RateLimit } | false
  readonly timeouts?: Partial<HubTimeouts>
  /**
   * Uploads settled at once by this process (default: 1 on SQLite, 4 on PostgreSQL). The rest wait
   * their turn outside the database, so an authorization, with a customer at the counter, finds a
   * connection free instead of queueing behind every terminal's backlog.
   */
  readonly uploadConcurrency?: number
  /**
   * Snapshots streamed at once by this process (default 2 on PostgreSQL, where each holds a pool
   * connection for its whole stream; 4 on SQLite, its reader's connections). Others wait up to 20 s,
   * then get 503 and sync again later.
   */
  readonly snapshotConcurrency?: number
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024

/**
 * A sync's calls come in a burst (token, rules per region, snapshot, uploads, policies); a counter
 * asks one authorization per sale. Far above either, far below a runaway loop or a flood.
 */
export const DEFAULT_RATE_LIMITS = {
  terminal: { perSecond: 20, burst: 120 },
  address: { perSecond: 5, burst: 60 }
} as const

export interface HubTimeouts {
  /** The request's headers must have arrived within this (a slow-headers attack holds a socket otherwise). */
  readonly headersMs: number
  /** The whole request, body included (an 8 MB upload over a slow line fits). */
  readonly requestMs: number
  /** A connection with nothing moving either way is closed. */
  readonly idleMs: number
}

/** How long an upload waits for its turn before it is sent back to try later. */
const UPLOAD_WAIT_AT_MOST_MS = 20_000

export const DEFAULT_TIMEOUTS: HubTimeouts = { headersMs: 15_000, requestMs: 120_000, idleMs: 120_000 }

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** 429 and 503: when to call again, in seconds. */
    readonly retryAfter?: number
  ) {
    super(message)
  }
}

const zhCN = z.locales.zhCN().localeError

export function isLoopback(address: string | undefined): boolean {
  return (
    address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || address === 'localhost'
  )
}

/**
 * Who is calling, for the limits before a token: the peer, or behind a reverse proxy on this
 * machine the address it saw (the last one it added to X-Forwarded-For).
 */
function callerAddress(req: IncomingMessage): string {
  const peer = req.socket.remoteAddress ?? ''
  const forwarded = req.headers['x-forwarded-for']
  if (!isLoopback(peer) || typeof forwarded !== 'string') return peer
  return forwarded.split(',').at(-1)?.trim() || peer
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit)
    throw new HttpError(413, 'BODY_TOO_LARGE', `请求内容超过 ${Math.floor(limit / 1024)} KB 的上限`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit)
      throw new HttpError(413, 'BODY_TOO_LARGE', `请求内容超过 ${Math.floor(limit / 1024)} KB 的上限`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** JSON body checked against a schema; a 400 with the first field that does not fit, before anything changes. */
async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>, limit: number): Promise<T> {
  return parseJson(await readBody(req, limit), schema)
}

/** A request's body as `schema` has it, or a 400 saying what is wrong with it. */
function parseJson<T>(body: Buffer, schema: z.ZodType<T>): T {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', '请求内容不是有效的 JSON，未做任何处理')
  }
  const parsed = schema.safeParse(value, { error: zhCN })
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const field = formatPath(issue.path)
  throw new HttpError(
    400,
    'BAD_REQUEST',
    `请求内容不符合协议${field ? `（字段 ${field}）` : ''}：${issue.message}；未做任何处理`.slice(0, 500)
  )
}

/**
 * A terminal that spoke version 1 sent a field of version 2: refused whole, as a version-1 centre's
 * strict schema refuses it, before anything changes.
 */
function refuseVersion2Fields(items: readonly UploadItem[]): void {
  const cancellation = items.findIndex((item) => item.type === 'cancellation')
  if (cancellation >= 0)
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `请求内容不符合协议（字段 items[${cancellation}].type）：协议版本 1 没有退保；未做任何处理`
    )
  const instalment = items.findIndex(
    (item) => item.type === 'sale' && item.lines.some((line) => line.instalment !== undefined)
  )
  if (instalment >= 0)
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `请求内容不符合协议（字段 items[${instalment}].lines[].instalment）：协议版本 1 没有续期缴费；未做任何处理`
    )
  const index = items.findIndex((item) => item.type === 'sale' && item.applicant !== undefined)
  if (index >= 0)
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `请求内容不符合协议（字段 items[${index}].applicant）：协议版本 1 没有此字段；未做任何处理`
    )
}

export function createHubServer(options: HubServerOptions): Server {
  const { db, clock } = options
  const log = options.log ?? silentLogger
  const faults = options.faults ?? createFaults()
  const tokenTtlMs = options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const { reader, own: ownReader } = options.reader
    ? { reader: options.reader, own: false }
    : snapshotReaderFor(db)
  const bundles = createBundleCache()
  const lineCache = new AccountLineCache()
  // An upload that cannot start within this is answered 503 (nothing done; the terminal sends it
  // again later) rather than holding its connection while the backlog drains. Two at once per
  // process on PostgreSQL: under bench:centre four gave 15% more uploads a second but doubled the
  // authorizations' wait (p95 422 ms against 232 ms), and a clerk's customer is waiting on those.
  const uploadTurns = createTurns(
    options.uploadConcurrency ?? (dialectOf(db) === 'postgres' ? 2 : 1),
    UPLOAD_WAIT_AT_MOST_MS
  )
  const snapshotTurns = createTurns(
    options.snapshotConcurrency ?? (dialectOf(db) === 'postgres' ? 2 : 4),
    UPLOAD_WAIT_AT_MOST_MS
  )
  const busy = (error: unknown): never => {
    if (error instanceof NoTurn)
      throw new HttpError(503, 'UNAVAILABLE', '中心繁忙，本次未处理：请稍后再试', 5)
    throw error
  }
  const limits = options.rateLimits === false ? null : (options.rateLimits ?? DEFAULT_RATE_LIMITS)
  const terminalCalls = limits ? createRateLimiter(limits.terminal) : null
  const addressCalls = limits ? createRateLimiter(limits.address) : null
  const limited = (limiter: RateLimiter | null, key: string, who: string) => {
    const wait = limiter?.take(key) ?? 0
    if (wait > 0) throw new HttpError(429, 'RATE_LIMITED', `${who}请求过于频繁，请 ${wait} 秒后再试`, wait)
  }
  const highestProtocol: ProtocolVersion = options.protocol ?? 2
  /** What this request is answered in: the lower of the terminal's version and ours. */
  const protocolOf = (req: IncomingMessage): ProtocolVersion =>
    Math.min(
      highestProtocol,
      protocolOfHeader(req.headers[PROTOCOL_HEADER] as string | undefined)
    ) as ProtocolVersion

  const delay = () =>
    faults.delayMs > 0
      ? new Promise<void>((resolve) => setTimeout(resolve, faults.delayMs))
      : Promise.resolve()

  /** `delayed`: the slow-answer fault holds this answer (uploads only: a settlement that takes long). */
  async function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    delayed = false
  ): Promise<void> {
    if (delayed) await delay()
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {
      'cache-control': 'no-store',
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      ...headers
    })
    res.end(text)
  }

  const sendError = (
    res: ServerResponse,
    status: number,
    error: CentreError,
    headers: Record<string, string> = {}
  ) => send(res, status, { error }, headers)

  async function requireTerminal(req: IncomingMessage): Promise<TerminalRecord> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    const terminal = match ? await authenticate(db, match[1], clock) : null
    if (!terminal)
      throw new HttpError(401, 'UNAUTHENTICATED', '令牌无效或已过期：请用刷新凭据更新令牌，或重新注册终端')
    limited(terminalCalls, terminal.id, '本终端')
    return noteTerminalProtocol(db, terminal, protocolOf(req))
  }

  async function register(req: IncomingMessage, res: ServerResponse) {
    const request = await readJson(req, registrationRequestSchema, maxBodyBytes)
    const outcome = await registerTerminal(db, request, { clock, tokenTtlMs, protocol: protocolOf(req) })
    if (!outcome.ok) throw new HttpError(outcome.status, outcome.code, outcome.message)
    log.info('terminal_registered', {
      terminal: request.terminalId,
      regions: outcome.value.regionCodes.length
    })
    await send(res, 201, {
      ...outcome.value,
      centreFileKey: (await currentFileKey(db, clock)).signedPublicKey
    })
  }

  async function renew(req: IncomingMessage, res: ServerResponse, terminalId: string) {
    const request = await readJson(req, tokenRenewalRequestSchema, maxBodyBytes)
    const grant = terminalIdSchema.safeParse(terminalId).success
      ? await renewToken(db, terminalId, request.refreshSecret, { clock, tokenTtlMs })
      : null
    if (!grant) throw new HttpError(401, 'UNAUTHENTICATED', '刷新凭据无效：请重新注册终端')
    await send(res, 200, grant)
  }

  async function rules(req: IncomingMessage, res: ServerResponse, url: URL) {
    const terminal = await requireTerminal(req)
    const region = url.searchParams.get('region') ?? ''
    if (!/^\d{6}$/.test(region))
      throw new HttpError(400, 'BAD_REQUEST', '缺少地区代码或格式不正确：region 应为 6 位数字')
    if (!terminal.regionCodes.includes(region))
      throw new HttpError(403, 'FORBIDDEN', `本终端未获准办理地区 ${region} 的业务`)
    const current = await currentBundle(db, region, protocolOf(req))
    if (!current) throw new HttpError(404, 'NOT_FOUND', `中心没有地区 ${region} 可供本终端版本使用的规则包`)
    const etag = `"${region}-v${current.version}"`
    const known = (req.headers['if-none-match'] ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, ''))
    if (known.includes(etag)) return send(res, 304, undefined, { etag })
    await send(res, 200, { envelope: current.envelope }, { etag })
  }

  async function snapshot(req: IncomingMessage, res: ServerResponse, url: URL) {
    const terminal = await requireTerminal(req)
    const sinceText = url.searchParams.get('since')
    if (sinceText !== null && !/^\d{1,15}$/.test(sinceText))
      throw new HttpError(400, 'BAD_REQUEST', 'since 应为快照版本号（非负整数）')
    await issueDuePolicies(db, clock)
    await stampPending(db, clock.now().toISOString())
    const write = streamWriter(res)
    let started = false
    let lines: number | null = null
    const written = await writeSnapshot(
      reader,
      {
        regionCodes: terminal.regionCodes,
        since: sinceText === null ? null : Number(sinceText),
        regionsSinceVersion: terminal.regionsSinceVersion,
        clock,
        bundles,
        protocol: protocolOf(req),
        lineCache,
        onCount: (count) => void (lines = count)
      },
      (chunk) => {
        // The status goes out with the first line, so a failure before it can still be a 500.
        if (!started) {
          started = true
          res.writeHead(200, {
            'content-type': 'application/x-ndjson; charset=utf-8',
            'cache-control': 'no-store',
            ...(lines === null ? {} : { 'x-snapshot-lines': String(lines) })
          })
        }
        return write(chunk)
      }
    )
    res.end()
    log.info('snapshot_sent', {
      terminal: terminal.id,
      version: written.header.snapshotVersion,
      full: written.header.full,
      accounts: written.accounts,
      removed: written.removed
    })
  }

  /**
   * An upload and an authorization alike: the caller's own items settled in one transaction, then
   * the answer (or, with the fault set, the connection cut after the commit).
   */
  async function settleAndAnswer(
    req: IncomingMessage,
    res: ServerResponse,
    schema: typeof uploadRequestSchema | typeof authorizationRequestSchema,
    logResults: (terminalId: string, results: readonly ItemResult[], ms: number) => void,
    /** An authorization: settled at once, never behind the uploads' turns. */
    urgent = false
  ) {
    const terminal = await requireTerminal(req)
    // Read now, parsed in its turn: when every terminal uploads at once (after an outage), the
    // bodies wait as bytes and an authorization is not queued behind parsing them all.
    const body = await readBody(req, maxBodyBytes)
    const startedAt = performance.now()
    const settle = () => {
      const request = parseJson(body, schema)
      if (request.terminalId !== terminal.id)
        throw new HttpError(403, 'FORBIDDEN', `请求中的终端编号 ${request.terminalId} 与令牌所属终端不符`)
      if (protocolOf(req) === 1) refuseVersion2Fields(request.items)
      return settleItems(
        db,
        {
          terminal,
          clock,
          bundles,
          isLocked: (accountNo) => faults.lockedAccounts.has(accountNo),
          log,
          policyDelayMs: options.policyDelayMs ?? 0
        },
        request.items
      )
    }
    const results = urgent ? await settle() : await uploadTurns.run(settle).catch(busy)
    logResults(terminal.id, results, Math.round(performance.now() - startedAt))
    if (faults.dropResponseAfterCommit > 0) {
      faults.dropResponseAfterCommit -= 1
      log.info('fault_response_dropped', { terminal: terminal.id })
      req.socket.destroy()
      return
    }
    await send(res, 200, { results }, {}, true)
  }

  const upload = (req: IncomingMessage, res: ServerResponse) =>
    settleAndAnswer(req, res, uploadRequestSchema, (terminal, results) => {
      const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length
      log.info('upload_settled', {
        terminal,
        items: results.length,
        accepted: count('accepted'),
        alreadyAccepted: count('alreadyAccepted'),
        rejected: count('rejected'),
        retryLater: count('retryLater')
      })
    })

  /** One sale with the customer waiting: the account's older queued items first, then the sale, settled as an upload. */
  const authorize = (req: IncomingMessage, res: ServerResponse) =>
    settleAndAnswer(
      req,
      res,
      authorizationRequestSchema,
      (terminal, results, ms) => {
        const last = results.at(-1)
        log.info('sale_authorized', {
          terminal,
          items: results.length,
          outcome: last?.outcome ?? 'none',
          code: last?.outcome === 'rejected' ? last.code : '',
          ms
        })
      },
      true
    )

  /** Version 2: the policies the insurer issued for this terminal's sales, after the terminal's cursor. */
  async function policies(req: IncomingMessage, res: ServerResponse, url: URL) {
    const terminal = await requireTerminal(req)
    if (protocolOf(req) < 2) throw new HttpError(404, 'NOT_FOUND', '没有这个接口：/v1/policies')
    const after = url.searchParams.get('after') ?? '0'
    if (!/^\d{1,15}$/.test(after)) throw new HttpError(400, 'BAD_REQUEST', 'after 应为非负整数')
    await issueDuePolicies(db, clock)
    const page = await policiesAfter(db, terminal.id, Number(after))
    log.info('policies_sent', { terminal: terminal.id, policies: page.policies.length })
    await send(res, 200, page)
  }

  async function office(req: IncomingMessage, res: ServerResponse) {
    const terminal = await requireTerminal(req)
    const request = await readJson(req, officeReportRequestSchema, maxBodyBytes)
    const report = await officeReport(reader, terminal.id, request, { clock, protocol: protocolOf(req) })
    log.info('office_report_sent', {
      terminal: terminal.id,
      terminals: report.terminals.length,
      lines: report.lines.length
    })
    await send(res, 200, report)
  }

  async function terminalFileKey(req: IncomingMessage, res: ServerResponse, terminalId: string) {
    const terminal = await requireTerminal(req)
    if (terminal.id !== terminalId) throw new HttpError(403, 'FORBIDDEN', '只能登记本终端自己的文件加密公钥')
    const request = await readJson(req, terminalFileKeyRequestSchema, maxBodyBytes)
    if (!isX25519PublicKey(request.filePublicKeyPem))
      throw new HttpError(400, 'BAD_REQUEST', '终端文件加密公钥不正确：应为 X25519 公钥（SPKI PEM）')
    await setTerminalFileKey(db, terminal.id, request.filePublicKeyPem)
    log.info('terminal_file_key_set', { terminal: terminal.id })
    await send(res, 204, undefined)
  }

  async function recordHeads(req: IncomingMessage, res: ServerResponse) {
    const terminal = await requireTerminal(req)
    const heads = await readJson(req, recordHeadsRequestSchema, maxBodyBytes)
    await send(
      res,
      200,
      await receiveRecordHeads(db, terminal.id, heads, { at: clock.now().toISOString(), log })
    )
  }

  const withdrawSchema = z.strictObject({
    regionCode: z.string().regex(/^\d{6}$/),
    version: z.int().positive(),
    reason: z.string().max(200).optional()
  })
  const statusSchema = z.strictObject({
    accountNo: z.string().regex(/^[0-9A-Z]{6,32}$/),
    status: z.enum(ENROLMENT_STATUSES)
  })

  /** Only with testHooks: what a test in another process needs to stage the centre's side. */
  async function testHook(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (path === '/v1/_test/faults') {
      if (req.method === 'POST') applyFaults(faults, await readJson(req, faultsPatchSchema, maxBodyBytes))
      await send(res, 200, faultsView(faults))
      return true
    }
    if (path === '/v1/_test/withdraw-rules' && req.method === 'POST') {
      const body = await readJson(req, withdrawSchema, maxBodyBytes)
      await send(res, 200, {
        withdrawn: await withdrawRules(db, body.regionCode, body.version, body.reason ?? '测试撤回', clock)
      })
      return true
    }
    if (path === '/v1/_test/voucher' && req.method === 'POST') {
      const body = await readJson(
        req,
        z.strictObject({ accountNo: statusSchema.shape.accountNo }),
        maxBodyBytes
      )
      const account = await db('accounts')
        .where({ account_no: body.accountNo })
        .first<{ id: number } | undefined>('id')
      if (!account) throw new HttpError(404, 'NOT_FOUND', '没有这个账户')
      await send(res, 200, await issueVoucher(db, account.id, clock))
      return true
    }
    if (path === '/v1/_test/keyed-sales' && req.method === 'POST') {
      const body = await readJson(req, z.strictObject({ policy: z.enum(['accept', 'refuse']) }), maxBodyBytes)
      await setKeyedSalesPolicy(db, body.policy)
      await send(res, 200, body)
      return true
    }
    if (path === '/v1/_test/account-status' && req.method === 'POST') {
      const body = await readJson(req, statusSchema, maxBodyBytes)
      await send(res, 200, { changed: await setAccountStatus(db, body.accountNo, body.status, clock) })
      return true
    }
    return false
  }

  const routes: Array<{
    pattern: RegExp
    method: string
    run: (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void>
  }> = [
    { pattern: /^\/v1\/terminals$/, method: 'POST', run: (req, res) => register(req, res) },
    {
      pattern: /^\/v1\/terminals\/([^/]+)\/token$/,
      method: 'POST',
      run: (req, res, _url, match) => renew(req, res, decodeURIComponent(match[1]))
    },
    { pattern: /^\/v1\/rules$/, method: 'GET', run: (req, res, url) => rules(req, res, url) },
    {
      pattern: /^\/v1\/snapshot$/,
      method: 'GET',
      run: (req, res, url) => snapshotTurns.run(() => snapshot(req, res, url)).catch(busy)
    },
    { pattern: /^\/v1\/transactions$/, method: 'POST', run: (req, res) => upload(req, res) },
    { pattern: /^\/v1\/policies$/, method: 'GET', run: (req, res, url) => policies(req, res, url) },
    { pattern: /^\/v1\/authorizations$/, method: 'POST', run: (req, res) => authorize(req, res) },
    { pattern: /^\/v1\/reports\/office$/, method: 'POST', run: (req, res) => office(req, res) },
    { pattern: /^\/v1\/record-heads$/, method: 'POST', run: (req, res) => recordHeads(req, res) },
    {
      pattern: /^\/v1\/terminals\/([^/]+)\/file-key$/,
      method: 'PUT',
      run: (req, res, _url, match) => terminalFileKey(req, res, decodeURIComponent(match[1]))
    },
    // Signed by the centre, so it needs no token: a terminal registered before file keys existed fetches it.
    {
      pattern: /^\/v1\/centre\/file-key$/,
      method: 'GET',
      run: async (_req, res) =>
        send(res, 200, { signedKey: (await currentFileKey(db, clock)).signedPublicKey })
    }
  ]

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Plain HTTP is for this machine only (a reverse proxy, tests): startHub listens on loopback
    // without TLS, and this holds even if someone listens on another address.
    if (!options.tls && !isLoopback(req.socket.remoteAddress)) {
      req.socket.destroy()
      return
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    // Every answer names the highest version this centre speaks; a version-1 centre names none.
    if (highestProtocol >= 2) res.setHeader(PROTOCOL_HEADER, String(highestProtocol))
    if (
      options.testHooks &&
      isLoopback(req.socket.remoteAddress) &&
      url.pathname.startsWith('/v1/_test/') &&
      (await testHook(req, res, url.pathname))
    )
      return
    // For whoever waits for the hub to come up; no token, and it never uses up a fault.
    if (url.pathname === '/v1/health' && req.method === 'GET') return send(res, 200, { status: 'ok' })
    // Calls without a token (registration, renewal, the signed file key) count against the caller's address.
    if (!req.headers.authorization) limited(addressCalls, callerAddress(req), '本地址')
    if (faults.unavailable > 0) {
      faults.unavailable -= 1
      throw new HttpError(503, 'UNAVAILABLE', '医保中心系统维护中，请稍后再试')
    }
    const matching = routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((m) => m.match !== null)
    if (matching.length === 0)
      throw new HttpError(404, 'NOT_FOUND', `没有这个接口：${url.pathname.slice(0, 100)}`)
    const found = matching.find((m) => m.route.method === req.method)
    if (!found || !found.match) {
      res.setHeader('allow', matching.map((m) => m.route.method).join(', '))
      throw new HttpError(
        405,
        'METHOD_NOT_ALLOWED',
        `接口 ${url.pathname.slice(0, 100)} 不支持 ${String(req.method).slice(0, 10)} 请求`
      )
    }
    await found.route.run(req, res, url, found.match)
  }

  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts }
  // Node checks the header and request timeouts at this interval (30 s unless told).
  const checking = { connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs) }
  const server = options.tls
    ? createHttpsServer({ ...checking, cert: options.tls.cert, key: options.tls.key })
    : createHttpServer(checking)
  server.headersTimeout = timeouts.headersMs
  server.requestTimeout = timeouts.requestMs
  server.setTimeout(timeouts.idleMs, (socket) => socket.destroy())
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(async (error: unknown) => {
      if (res.headersSent) {
        // Mid-stream: cut the connection, so the terminal sees no end line and applies nothing.
        log.error('hub_stream_failed', {
          path: req.url?.split('?')[0] ?? '',
          error: error instanceof Error ? error.name : 'unknown'
        })
        res.destroy()
        return
      }
      if (error instanceof HttpError) {
        const headers: Record<string, string> =
          error.status === 503 || error.status === 429
            ? { 'retry-after': String(error.retryAfter ?? 1) }
            : error.status === 413
              ? { connection: 'close' }
              : {}
        if (error.status === 401) headers['www-authenticate'] = 'Bearer'
        await sendError(res, error.status, { code: error.code, message: error.message }, headers).catch(() =>
          res.destroy()
        )
        return
      }
      // Never the error text: it may quote values from the request.
      log.error('hub_request_failed', {
        path: req.url?.split('?')[0] ?? '',
        error: error instanceof Error ? error.name : 'unknown'
      })
      await sendError(res, 500, {
        code: 'INTERNAL',
        message: '中心内部错误，未确认是否已处理：请稍后重发（重复发送不会重复扣款）'
      }).catch(() => res.destroy())
    })
  })
  server.on('close', () => {
    if (ownReader) void reader.destroy()
  })
  return server
}

export interface RunningHub {
  readonly server: Server
  readonly url: string
  readonly faults: HubFaults
  close(): Promise<void>
}

/** An address other than this machine's without TLS: plain HTTP would carry tokens and PIN blocks in the open. */
export class InsecureListenError extends Error {
  override readonly name = 'InsecureListenError'
}

/**
 * Creates the server and listens on `host` (127.0.0.1 unless given; another address only with
 * TLS) and `port` (0: any free port; the URL says which).
 */
export async function startHub(
  options: Omit<HubServerOptions, 'faults'> & { faults?: HubFaults; port?: number; host?: string }
): Promise<RunningHub> {
  const host = options.host ?? '127.0.0.1'
  if (!options.tls && !isLoopback(host))
    throw new InsecureListenError(
      `在 ${host} 上监听须配置 TLS 证书与私钥（HUB_TLS_CERT、HUB_TLS_KEY），或仍监听 127.0.0.1 并由本机的反向代理（nginx）对外提供 HTTPS`
    )
  const faults = options.faults ?? createFaults()
  const server = createHubServer({ ...options, faults })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    server,
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    faults,
    // Idempotent: a test that stops the centre midway and its cleanup may both close it.
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve()
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
  }
}
