import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick, watch } from 'vue'
import { useCounterStore } from '../../renderer/src/stores/counter'
import { installRealBridge } from './bridge'

beforeEach(() => {
  setActivePinia(createPinia())
})

describe('counter store', () => {
  it('puts a found cardholder on screen and clears an earlier refusal', async () => {
    await installRealBridge()
    const counter = useCounterStore()
    expect(await counter.lookup('12345')).toBe(false)
    expect(counter.error?.code).toBe('CARD_MALFORMED')

    expect(await counter.lookup('D32050001')).toBe(true)
    expect(counter.cardholder).toMatchObject({ region: { name: '苏州市区' }, historicalBalanceFen: 600_000 })
    expect(counter.error).toBeNull()
  })

  it('leaves no earlier cardholder on screen when a later read is refused: nobody can be sold to by mistake', async () => {
    await installRealBridge()
    const counter = useCounterStore()
    await counter.lookup('E21010001')
    expect(counter.cardholder).not.toBeNull()
    expect(await counter.lookup('Z99999999')).toBe(false)
    expect(counter.cardholder).toBeNull()
    expect(counter.eligibility).toBeNull()
    expect(counter.error).toMatchObject({ code: 'CARD_NOT_FOUND' })
  })

  it('never shows a new cardholder beside the last one’s decision, not even between two answers', async () => {
    await installRealBridge()
    const counter = useCounterStore()
    await counter.lookup('E21010001')
    const first = counter.eligibility
    expect(first).not.toBeNull()
    const seen: Array<{ region: string | undefined; stale: boolean }> = []
    // As the screen renders: after each change, before the next paint.
    watch(
      () => counter.cardholder,
      () => seen.push({ region: counter.cardholder?.region.name, stale: counter.eligibility === first })
    )
    await counter.lookup('D32050001')
    await nextTick()
    expect(seen).toEqual([{ region: '苏州市区', stale: false }])
    expect(counter.eligibility?.rules?.regionName).toBe('苏州市区')
  })

  it('takes a second Enter while a lookup is running as the same lookup, not a new one', async () => {
    const bridge = await installRealBridge()
    const counter = useCounterStore()
    const [first, second] = await Promise.all([counter.lookup('A53000001'), counter.lookup('A53000001')])
    expect([first, second]).toEqual([true, false])
    expect(bridge.calls).toEqual(['cardholder.lookup', 'eligibility.offers'])
  })

  it('reports a dead connection to the local service as TRANSPORT, in Chinese', async () => {
    // No bridge installed: browser mode's HTTP path, and the server behind it is gone (fetch rejects
    // with a TypeError, as a browser does on a refused connection).
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')))
    const counter = useCounterStore()
    expect(await counter.lookup('A53000001')).toBe(false)
    expect(counter.error).toEqual({
      code: 'TRANSPORT',
      message: '无法连接本机柜台服务：请确认柜台程序仍在运行'
    })
    vi.unstubAllGlobals()
  })
})
