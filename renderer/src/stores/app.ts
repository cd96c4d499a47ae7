import type { AppInfo } from '@core/api/contract'
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '../api/client'
import { followServiceClock } from '../clock'

/** What the header and footer show about this terminal. */
export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null)

  async function load(): Promise<void> {
    const result = await api.call('app.info', {})
    if (!result.ok) return
    info.value = result.value
    followServiceClock(result.value.now, result.value.demoClock)
  }

  return { info, load }
})
