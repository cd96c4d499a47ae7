import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Router } from 'vue-router'
import { fixedClock } from '../../core/time'
import { api } from '../../renderer/src/api/client'
import SyncStatusBar from '../../renderer/src/components/SyncStatusBar.vue'
import { i18n, setLocale } from '../../renderer/src/i18n'
import { useCounterStore } from '../../renderer/src/stores/counter'
import { useSaleStore } from '../../renderer/src/stores/sale'
import { SYNC_POLL_MS, useSyncStore } from '../../renderer/src/stores/sync'
import { tempDir, TEST_NOW } from '../support/helpers'
import { blankRouter, installRealBridge } from './bridge'
import { until } from '../support/wait'

const realSleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const SIGNATURE = { width: 400, height: 150, strokes: ['M10 100 L60 40 L110 120'] }
const HOUR = 3_600_000

let pinia: Pinia
let router: Router

beforeEach(async () => {
  pinia = createPinia()
  setActivePinia(pinia)
  router = blankRouter(['/counter', '/history'])
  await router.push('/counter')
})

afterEach(() => {
  vi.useRealTimers()
  setLocale('zh-CN')
  document.body.innerHTML = ''
})

function mountBar() {
  return mount(SyncStatusBar, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
}

/** Until the first status answer is on screen (real SQLite reads behind it). */
async function shown(wrapper: ReturnType<typeof mountBar>): Promise<void> {
  await until(async () => {
    await flushPromises()
    expect(wrapper.find('[data-test="sync-queue"]').exists()).toBe(true)
  })
}

/** A Quzhou cardholder's own 惠衢保, paid with the second swipe, through the stores the sale screen uses. */
async function sellOne(): Promise<void> {
  await api.call('auth.openShift', {})
  const counter = useCounterStore()
  await counter.lookup('C33080001')
  const sale = useSaleStore()
  if (!counter.cardholder) throw new Error('the Quzhou card was not found')
  expect(await sale.start(counter.cardholder, 'QZ-HQB-2027')).toBe(true)
  await until(() => expect(sale.quote?.ok).toBe(true))
  sale.next()
  sale.termsAcknowledged = true
  sale.signature = SIGNATURE
  sale.next()
  sale.present({ kind: 'swiped', card: 'C33080001' })
  expect(await sale.pay('123456')).toBe('paid')
}

describe('sync status bar', () => {
  it('on a fresh terminal says it is not connected, never synced, with nothing queued or rejected', async () => {
    await installRealBridge()
    const wrapper = mountBar()
    await shown(wrapper)
    expect(wrapper.get('[data-test="sync-connection"]').text()).toBe('未连接中心')
    expect(wrapper.get('[data-test="sync-last"]').text()).toBe('从未同步')
    expect(wrapper.get('[data-test="sync-queue"]').text()).toBe('待上传 0 笔 ¥0.00')
    expect(wrapper.get('[data-test="sync-rejected"]').text()).toBe('被拒 0 笔')
    expect(wrapper.get('[data-test="sync-rejected"]').element.tagName).toBe('SPAN')
    // Thirty days from the demo import: nothing near a limit yet.
    expect(wrapper.find('[data-test="sync-limit"]').exists()).toBe(false)
    expect(wrapper.get('[data-test="sync-now"]').text()).toBe('立即同步 (F4)')
    wrapper.unmount()
  })

  it('counts a committed sale in the queue at once, with its amount, without waiting for the next poll', async () => {
    const bridge = await installRealBridge()
    const wrapper = mountBar()
    await shown(wrapper)
    const polls = bridge.calls.filter((call) => call === 'sync.status').length
    await sellOne()
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="sync-queue"]').text()).toBe('待上传 1 笔 ¥100.00')
    })
    expect(bridge.calls.filter((call) => call === 'sync.status').length).toBe(polls + 1)
    wrapper.unmount()
  })

  it('reports 立即同步 refused on an unregistered terminal in Chinese, by button and by F4, and the counter is not held up', async () => {
    await installRealBridge()
    const wrapper = mountBar()
    await shown(wrapper)
    await wrapper.get('[data-test="sync-now"]').trigger('click')
    await until(async () => {
      await flushPromises()
      expect(document.body.querySelector('.el-message--error')?.textContent).toContain('本终端尚未向中心注册')
    })
    // F4 sends it again; a card looked up meanwhile is answered all the same: nothing waits on the sync.
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F4' }))
    const sync = useSyncStore()
    expect(sync.syncing).toBe(true)
    const counter = useCounterStore()
    expect(await counter.lookup('C33080001')).toBe(true)
    await until(() => expect(sync.syncing).toBe(false))
    expect(wrapper.get('[data-test="sync-connection"]').text()).toBe('未连接中心')
    wrapper.unmount()
  })

  it('counts down to the offline deadline every second, in warning colour, when a limit is near', async () => {
    // Rules and balances from the demo import at TEST_NOW; 30 days allowed offline. Reopened 5:12:09 before the end.
    const dataDir = await tempDir()
    const first = await installRealBridge({ dataDir })
    await first.runtime.close()
    const at = new Date(Date.parse(TEST_NOW) + 720 * HOUR - (5 * HOUR + 12 * 60_000 + 9_000))
    await installRealBridge({ dataDir, clock: fixedClock(at.toISOString()) })
    // The renderer counts on its own clock; here it reads the terminal's. Stopped but for the steps taken
    // below, hence no vi.waitFor (which moves fake clocks on as it polls).
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(at)
    const wrapper = mountBar()
    const limitText = async () => {
      for (let tries = 0; tries < 100 && !wrapper.find('[data-test="sync-limit"]').exists(); tries++)
        await realSleep(50)
      return wrapper.get('[data-test="sync-limit"]').text()
    }
    expect(await limitText()).toMatch(/(规则|账户数据)还可离线使用 05:12:09/)
    expect(wrapper.get('[data-test="sync-limit"]').classes()).toContain('is-near')
    vi.setSystemTime(at.getTime() + 1000)
    await realSleep(1100) // the bar's own one-second tick
    expect(await limitText()).toMatch(/还可离线使用 05:12:08/)
    wrapper.unmount()
  })

  it('highlights rejected sales, and opens the history on them', async () => {
    const bridge = await installRealBridge()
    await sellOne()
    // What the upload writes when the centre refuses the sale.
    await bridge.runtime.db('sales').update({
      status: 'rejected',
      settled_at: TEST_NOW,
      result_code: 'BALANCE',
      result_message: '个人账户余额不足'
    })
    const wrapper = mountBar()
    await shown(wrapper)
    const rejected = wrapper.get('[data-test="sync-rejected"]')
    expect(rejected.text()).toBe('被拒 1 笔')
    expect(rejected.element.tagName).toBe('BUTTON')
    await rejected.trigger('click')
    await until(() => expect(router.currentRoute.value.fullPath).toBe('/history?status=rejected'))
    wrapper.unmount()
  })

  it('polls while shown and stops when taken away (signed out), leaving nothing of the queue behind', async () => {
    const bridge = await installRealBridge()
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const wrapper = mountBar()
    await shown(wrapper)
    const polls = () => bridge.calls.filter((call) => call === 'sync.status').length
    expect(polls()).toBe(1)
    vi.advanceTimersByTime(SYNC_POLL_MS)
    await flushPromises()
    expect(polls()).toBe(2)
    wrapper.unmount()
    expect(useSyncStore().status).toBeNull()
    vi.advanceTimersByTime(3 * SYNC_POLL_MS)
    await flushPromises()
    expect(polls()).toBe(2)
    await bridge.idle()
  })

  it('speaks English when switched', async () => {
    await installRealBridge()
    setLocale('en')
    const wrapper = mountBar()
    await shown(wrapper)
    expect(wrapper.get('[data-test="sync-connection"]').text()).toBe('Not connected to the centre')
    expect(wrapper.get('[data-test="sync-queue"]').text()).toBe('Queued 0 ¥0.00')
    expect(wrapper.get('[data-test="sync-now"]').text()).toBe('Sync now (F4)')
    wrapper.unmount()
  })
})

describe('sync status bar: a snapshot coming down', () => {
  it('shows lines of the total, the percent and the time left in place of the last sync, and asks every second', async () => {
    const bridge = await installRealBridge()
    // The service's own answer, with a download under way as the sync service reports one
    // (test/integration/sync/snapshot-progress.test.ts drives a real one through a real centre).
    let progress: object | null = {
      phase: 'receiving',
      lines: 48_000,
      expectedLines: 200_000,
      percent: 24,
      secondsLeft: 12,
      startedAt: TEST_NOW
    }
    const invoke = bridge.invoke
    Object.defineProperty(window, 'counter', {
      configurable: true,
      value: {
        ...bridge,
        invoke: async (call: string, args: unknown, token?: string) => {
          const answer = (await invoke(call, args, token)) as { ok: boolean; value?: object }
          if (call !== 'sync.status' || !answer.ok) return answer
          return { ok: true, value: { ...answer.value, busy: progress !== null, snapshotProgress: progress } }
        }
      }
    })
    const wrapper = mountBar()
    await shown(wrapper)
    expect(wrapper.get('[data-test="sync-progress"]').text()).toBe(
      '正在下载账户数据：48,000 / 200,000 户（24%） · 约剩 12 秒'
    )
    expect(wrapper.find('[data-test="sync-last"]').exists()).toBe(false)
    // Polled every second while it runs, not every 15: the figures move.
    const polls = bridge.calls.filter((call) => call === 'sync.status').length
    await realSleep(2_300)
    expect(bridge.calls.filter((call) => call === 'sync.status').length).toBeGreaterThanOrEqual(polls + 2)
    progress = null
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('[data-test="sync-last"]').text()).toBe('从未同步')
    })
    const settled = bridge.calls.filter((call) => call === 'sync.status').length
    await realSleep(1_500)
    expect(bridge.calls.filter((call) => call === 'sync.status').length).toBe(settled)
    wrapper.unmount()
    await bridge.idle()
  })
})
