import type { CallInput, CallResult } from '@core/api/contract'
import type { AppErrorShape } from '@core/errors'
import type { OfflineLimitView, SyncStatusView } from '@core/sync/status'
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { api } from '../api/client'
import { useAppStore } from './app'
import { i18n } from '../i18n'
import { appNow } from '../clock'

/** How often the status bar asks again while an operator is signed in. */
export const SYNC_POLL_MS = 15_000
/** …and while a sync runs (a snapshot coming down), every second: its progress moves on screen. */
export const SYNC_BUSY_POLL_MS = 1_000

/**
 * The link to the centre as the status bar shows it. Polling runs from `start()` (the bar, shown
 * only while signed in) to `stop()`; a sale, a void and "立即同步" refresh it at once. The clock
 * ticks every second only while a countdown is on screen.
 */
export const useSyncStore = defineStore('sync', () => {
  const status = ref<SyncStatusView | null>(null)
  /** Why the last status request failed (the local service, not the centre). */
  const error = ref<AppErrorShape | null>(null)
  /** "立即同步" pressed here and not answered yet. */
  const syncing = ref(false)
  /** The renderer's clock (ms) for ages and countdowns; moved on by polls and the ticker. */
  const now = ref(appNow().getTime())
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let tickTimer: ReturnType<typeof setInterval> | undefined
  let busyTimer: ReturnType<typeof setInterval> | undefined
  // A later answer wins: a poll that set out before "立即同步" returned must not undo its result.
  let seq = 0

  const busy = computed(() => syncing.value || status.value?.busy === true)
  /** Near or reached, tightest first (the service sorts them). */
  const warnings = computed<readonly OfflineLimitView[]>(
    () => status.value?.limits.filter((limit) => limit.level !== 'ok') ?? []
  )
  /** The limit whose deadline is counted down: the tightest age limit that is near. */
  const countdown = computed(
    () => warnings.value.find((limit) => limit.level === 'near' && limit.deadline !== null) ?? null
  )
  const remainingMs = computed(() =>
    countdown.value?.deadline ? Date.parse(countdown.value.deadline) - now.value : null
  )

  /** A snapshot coming down, in words: how far, of how many, how long left; '' when none. */
  const progressText = computed(() => {
    const progress = status.value?.snapshotProgress
    if (!progress) return ''
    const { t } = i18n.global
    const lines = progress.lines.toLocaleString('zh-CN')
    if (progress.phase === 'applying') return t('sync.progress.applying', { lines })
    const parts = [
      progress.expectedLines === null
        ? t('sync.progress.lines', { lines })
        : t('sync.progress.linesOf', {
            lines,
            total: progress.expectedLines.toLocaleString('zh-CN'),
            percent: progress.percent ?? 0
          })
    ]
    if (progress.secondsLeft !== null) parts.push(t('sync.progress.left', { seconds: progress.secondsLeft }))
    return parts.join(' · ')
  })

  function accept(view: SyncStatusView): void {
    // A sync went through: what the header says of this terminal (demo data or the centre's) may have changed.
    if (status.value && view.lastSyncAt !== status.value.lastSyncAt) void useAppStore().load()
    status.value = view
    error.value = null
    now.value = appNow().getTime()
  }

  async function refresh(): Promise<void> {
    const mine = ++seq
    const result = await api.call('sync.status', {})
    if (mine !== seq) return
    if (result.ok) accept(result.value)
    else error.value = result.error
  }

  /** Resolves when the sync is done; the caller does not wait on it to go on serving. */
  async function syncNow(): Promise<AppErrorShape | null> {
    if (syncing.value) return null
    syncing.value = true
    try {
      const result = await api.call('sync.now', {})
      seq++
      if (result.ok) {
        accept(result.value)
        return null
      }
      // The failure is now the service's last error: show it as the service words it.
      await refresh()
      return result.error
    } finally {
      syncing.value = false
    }
  }

  async function register(request: CallInput<'sync.register'>): Promise<CallResult<'sync.register'>> {
    const result = await api.call('sync.register', request)
    if (result.ok) {
      seq++
      accept(result.value)
    }
    return result
  }

  function start(): void {
    if (pollTimer !== undefined) return
    void refresh()
    pollTimer = setInterval(() => void refresh(), SYNC_POLL_MS)
  }

  /** Signed out: nothing of this terminal's queue stays on screen, and nothing polls. */
  function stop(): void {
    clearInterval(pollTimer)
    pollTimer = undefined
    clearInterval(busyTimer)
    busyTimer = undefined
    seq++
    status.value = null
    error.value = null
  }

  /** After something changed the queue here (a sale, a void): only while the bar is showing. */
  function changed(): void {
    if (pollTimer !== undefined) void refresh()
  }

  watch(
    // The reactive part first: a getter that stops early tracks nothing and never runs again.
    () => (busy.value || status.value?.snapshotProgress != null) && pollTimer !== undefined,
    (working) => {
      clearInterval(busyTimer)
      busyTimer = undefined
      if (working) busyTimer = setInterval(() => void refresh(), SYNC_BUSY_POLL_MS)
    }
  )

  watch(
    () => countdown.value !== null,
    (shown) => {
      clearInterval(tickTimer)
      tickTimer = undefined
      if (!shown) return
      now.value = appNow().getTime()
      tickTimer = setInterval(() => {
        const before = remainingMs.value
        now.value = appNow().getTime()
        // At zero the limit is reached: ask the service once, which then says so (and selling stops).
        if (before !== null && before > 0 && remainingMs.value !== null && remainingMs.value <= 0)
          void refresh()
      }, 1000)
    },
    { immediate: true }
  )

  return {
    status,
    error,
    syncing,
    now,
    busy,
    progressText,
    warnings,
    countdown,
    remainingMs,
    refresh,
    syncNow,
    register,
    start,
    stop,
    changed
  }
})
