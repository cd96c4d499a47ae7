import type { ReaderTrace } from '@core/reader/detector'
import { DEFAULT_READER_SETTINGS, type ReaderSettings } from '@core/reader/settings'
import type { AppErrorShape } from '@core/errors'
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { api } from '../api/client'
import { configureCardReader } from '../reader/card-reader'
import { appNow } from '../clock'

const KEEP_TRACES = 20

/** The terminal's reader settings and the last sequences the reader saw, for the reader test panel. */
export const useReaderStore = defineStore('reader', () => {
  const settings = ref<ReaderSettings>(DEFAULT_READER_SETTINGS)
  const traces = shallowRef<Array<ReaderTrace & { readonly id: number; readonly at: string }>>([])
  /** Traces are kept only while someone runs the reader test (开始测试), never in the background. */
  const recording = ref(false)
  let nextId = 1

  async function load(): Promise<void> {
    const result = await api.call('reader.getSettings', {})
    if (!result.ok) return
    settings.value = result.value
    configureCardReader(result.value)
  }

  async function save(next: ReaderSettings): Promise<AppErrorShape | null> {
    const result = await api.call('reader.saveSettings', next)
    if (!result.ok) return result.error
    settings.value = result.value
    configureCardReader(result.value)
    return null
  }

  function record(trace: ReaderTrace): void {
    if (!recording.value) return
    traces.value = [{ ...trace, id: nextId++, at: appNow().toISOString() }, ...traces.value].slice(
      0,
      KEEP_TRACES
    )
  }

  function clearTraces(): void {
    traces.value = []
  }

  function startRecording(): void {
    clearTraces()
    recording.value = true
  }

  function stopRecording(): void {
    recording.value = false
  }

  /** At sign-out: nothing of what the last operator typed stays for the next one to see. */
  function forget(): void {
    stopRecording()
    clearTraces()
  }

  return {
    settings,
    traces,
    recording,
    load,
    save,
    record,
    clearTraces,
    startRecording,
    stopRecording,
    forget
  }
})
