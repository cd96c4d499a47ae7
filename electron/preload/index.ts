import { contextBridge, ipcRenderer } from 'electron'
import {
  API_CHANNEL,
  CUSTOMER_PIN_ASK_CHANNEL,
  CUSTOMER_PIN_REQUEST_CHANNEL,
  CUSTOMER_PIN_SUBMIT_CHANNEL,
  CHOOSE_PACKAGE_CHANNEL,
  PRINT_CHANNEL,
  PRINTERS_CHANNEL,
  SAVE_FILE_CHANNEL,
  SAVE_PDF_CHANNEL
} from '../../core/api/channel'
import type { CounterBridge } from '../../core/api/contract'

/**
 * The renderer gets these functions and nothing of Electron: no ipcRenderer, no channel choice.
 * Sandboxed preloads can only require `electron`, so this is built as a single CommonJS file.
 */
const bridge: Required<CounterBridge> = {
  invoke: (call, args, sessionToken) => ipcRenderer.invoke(API_CHANNEL, call, args, sessionToken),
  savePdf: (fileName) => ipcRenderer.invoke(SAVE_PDF_CHANNEL, fileName),
  saveFile: (fileName, base64) => ipcRenderer.invoke(SAVE_FILE_CHANNEL, fileName, base64),
  askCustomerPin: (request) => ipcRenderer.invoke(CUSTOMER_PIN_ASK_CHANNEL, request),
  customerPinRequest: () => ipcRenderer.invoke(CUSTOMER_PIN_REQUEST_CHANNEL),
  customerPinSubmit: (pinBlock) => ipcRenderer.invoke(CUSTOMER_PIN_SUBMIT_CHANNEL, pinBlock),
  printers: () => ipcRenderer.invoke(PRINTERS_CHANNEL),
  print: (job) => ipcRenderer.invoke(PRINT_CHANNEL, job),
  choosePackage: () => ipcRenderer.invoke(CHOOSE_PACKAGE_CHANNEL)
}

contextBridge.exposeInMainWorld('counter', bridge)
