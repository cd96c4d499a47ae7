import { describe, expect, it } from 'vitest'
import { newestOnly } from '../../renderer/src/newest-only'

describe('newest only', () => {
  it('applies the newest request’s answer, and drops an older one that lands after it', async () => {
    const newest = newestOnly()
    const shown: string[] = []
    let answerFirst: (value: string) => void = () => undefined
    const first = newest(
      () => new Promise<string>((resolve) => (answerFirst = resolve)),
      (a) => shown.push(a)
    )
    const second = newest(
      () => Promise.resolve('office: 未注册'),
      (a) => shown.push(a)
    )
    expect(await second).toBe(true)
    answerFirst('this terminal: all well')
    expect(await first).toBe(false)
    expect(shown).toEqual(['office: 未注册'])
  })
})
