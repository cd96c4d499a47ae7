import { describe, expect, it, vi } from 'vitest'
import { API_CHANNEL } from '../../core/api/channel'
import * as fake from './fake-electron'

vi.mock('electron', async () => await import('./fake-electron'))

describe('the preload bridge', () => {
  it('exposes one object with one function, forwarding on the single API channel', async () => {
    await import('../../electron/preload/index')
    expect([...fake.contextBridge.exposed.keys()]).toEqual(['counter'])
    const bridge = fake.contextBridge.exposed.get('counter') as Record<string, unknown>
    expect(Object.keys(bridge)).toEqual(['invoke'])

    const invoke = bridge.invoke as (call: string, args: unknown, token?: string) => Promise<unknown>
    await expect(invoke('cardholder.lookup', { input: 'A53000001' }, 'session-token')).resolves.toEqual({ ok: true, value: 'from-main' })
    expect(fake.ipcRenderer.invocations).toEqual([[API_CHANNEL, 'cardholder.lookup', { input: 'A53000001' }, 'session-token']])
  })
})
