import { afterEach, describe, expect, it } from 'vitest'
import type { CounterBridge } from '../../core/api/contract'
import { api, setSessionToken, whenSessionEnds } from '../../renderer/src/api/client'

/** A bridge answering as the backend does once a session ended for idleness. */
function installBridge(): string[] {
  const tokens: string[] = []
  const bridge: CounterBridge = {
    invoke: (_call, _args, token) => {
      tokens.push(token ?? '')
      return Promise.resolve({
        ok: false,
        error: { code: 'UNAUTHENTICATED', message: '长时间未操作，已自动退出：请重新登录' }
      })
    }
  }
  Object.defineProperty(window, 'counter', { value: bridge, configurable: true })
  return tokens
}

afterEach(() => {
  Reflect.deleteProperty(window, 'counter')
  whenSessionEnds(null)
  setSessionToken(undefined)
})

describe('a session the backend ended', () => {
  it('is forgotten at once, and the app is told why, once', async () => {
    const tokens = installBridge()
    const told: string[] = []
    whenSessionEnds((message) => told.push(message))
    setSessionToken('old-token')
    await api.call('sale.search', { scope: 'shift' })
    await api.call('sale.search', { scope: 'shift' })
    expect(told).toEqual(['长时间未操作，已自动退出：请重新登录'])
    // The second call no longer carries the ended session's token.
    expect(tokens).toEqual(['old-token', ''])
  })

  it('says nothing when nobody was signed in (the sign-in screen itself)', async () => {
    installBridge()
    const told: string[] = []
    whenSessionEnds((message) => told.push(message))
    await api.call('auth.session', {})
    expect(told).toEqual([])
  })
})
