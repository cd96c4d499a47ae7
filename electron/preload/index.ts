import { contextBridge, ipcRenderer } from 'electron'
import { API_CHANNEL } from '../../core/api/channel'
import type { CounterBridge } from '../../core/api/contract'

/**
 * The renderer gets one function and nothing of Electron: no ipcRenderer, no channel choice.
 * Sandboxed preloads can only require `electron`, so this is built as a single CommonJS file.
 */
const bridge: CounterBridge = {
  invoke: (call, args, sessionToken) => ipcRenderer.invoke(API_CHANNEL, call, args, sessionToken),
}

contextBridge.exposeInMainWorld('counter', bridge)
