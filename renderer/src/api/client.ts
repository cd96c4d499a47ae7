import type { CallInput, CallName, CallResult, CounterBridge } from '@core/api/contract'
import { fail, type Result } from '@core/errors'

/** Browser mode: the same calls as HTTP POSTs to the local server that served this page. */
const httpBridge: CounterBridge = {
  async invoke(call: string, args: unknown, sessionToken?: string): Promise<Result<unknown>> {
    try {
      const response = await fetch(`/api/${encodeURIComponent(call)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(sessionToken ? { 'x-counter-session': sessionToken } : {}) },
        body: JSON.stringify(args ?? {}),
      })
      return (await response.json()) as Result<unknown>
    } catch {
      return fail('TRANSPORT', '无法连接本机柜台服务：请确认柜台程序仍在运行')
    }
  },
}

/** Electron's preload bridge when present, HTTP otherwise; looked up per call so tests can install one. */
function bridge(): CounterBridge {
  return window.counter ?? httpBridge
}

/** The signed-in operator's session token, sent with every call; kept in memory only. */
let sessionToken: string | undefined

export function setSessionToken(token: string | undefined): void {
  sessionToken = token
}

export const api = {
  call<K extends CallName>(name: K, args: CallInput<K>): Promise<CallResult<K>> {
    return bridge().invoke(name, args, sessionToken) as Promise<CallResult<K>>
  },
}
