import type { CallInput, CallName, CallResult, CounterBridge } from '@core/api/contract'
import { fail, type Result } from '@core/errors'

/** Browser mode: the same calls as HTTP POSTs to the local server that served this page. */
const httpBridge: CounterBridge = {
  async invoke(call: string, args: unknown, sessionToken?: string): Promise<Result<unknown>> {
    try {
      const response = await fetch(`/api/${encodeURIComponent(call)}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(sessionToken ? { 'x-counter-session': sessionToken } : {})
        },
        body: JSON.stringify(args)
      })
      return (await response.json()) as Result<unknown>
    } catch {
      return fail('TRANSPORT', '无法连接本机柜台服务：请确认柜台程序仍在运行')
    }
  }
}

/** Electron's preload bridge when present, HTTP otherwise; looked up per call so tests can install one. */
function bridge(): CounterBridge {
  return window.counter ?? httpBridge
}

/**
 * What crosses the bridge: plain JSON data, whatever the caller holds. A store's state is a Vue
 * proxy, which Electron's context bridge and IPC cannot clone ("An object could not be cloned")
 * while JSON reads straight through it; arguments are JSON-shaped by contract, and browser mode
 * sends exactly this text, so both transports carry the same values.
 */
export function plainArguments(args: unknown): unknown {
  return args === undefined ? {} : (JSON.parse(JSON.stringify(args)) as unknown)
}

/** The signed-in operator's session token, sent with every call; kept in memory only. */
let sessionToken: string | undefined

/** The session's token, for the one request that is not a call (browser mode's package upload). */
export function currentSessionToken(): string | undefined {
  return sessionToken
}

export function setSessionToken(token: string | undefined): void {
  sessionToken = token
}

/** Told when the backend no longer knows the session (idle too long, or restarted), with its reason. */
let sessionEnded: ((message: string) => void) | null = null

export function whenSessionEnds(handler: ((message: string) => void) | null): void {
  sessionEnded = handler
}

export const api = {
  /** Never rejects: whatever goes wrong on the way is a failed result with a Chinese message. */
  async call<K extends CallName>(name: K, args: CallInput<K>): Promise<CallResult<K>> {
    let plain: unknown
    try {
      plain = plainArguments(args)
    } catch {
      return fail(
        'INVALID_ARGUMENT',
        '本次操作的数据无法发送给柜台服务，没有办理；请重试，仍不行请联系运维人员'
      )
    }
    try {
      const result = (await bridge().invoke(name, plain, sessionToken)) as CallResult<K>
      if (!result.ok && result.error.code === 'UNAUTHENTICATED' && sessionToken !== undefined) {
        sessionToken = undefined
        sessionEnded?.(result.error.message)
      }
      return result
    } catch {
      return fail('TRANSPORT', '柜台界面与本机服务通讯失败，操作结果未知；请重试，仍不行请重新启动柜台程序')
    }
  }
}
