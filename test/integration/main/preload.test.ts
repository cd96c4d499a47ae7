import { describe, expect, it, vi } from 'vitest'
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
} from '../../../core/api/channel'
import * as fake from './fake-electron'

vi.mock('electron', async () => await import('./fake-electron'))

describe('the preload bridge', () => {
  it('exposes one object: calls on the single API channel, the shell’s two ways to save a file, the customer screen’s three, and the printers', async () => {
    await import('../../../electron/preload/index')
    expect([...fake.contextBridge.exposed.keys()]).toEqual(['counter'])
    const bridge = fake.contextBridge.exposed.get('counter') as Record<string, unknown>
    expect(Object.keys(bridge)).toEqual([
      'invoke',
      'savePdf',
      'saveFile',
      'askCustomerPin',
      'customerPinRequest',
      'customerPinSubmit',
      'printers',
      'print',
      'choosePackage'
    ])

    const invoke = bridge.invoke as (call: string, args: unknown, token?: string) => Promise<unknown>
    await expect(invoke('cardholder.lookup', { input: 'A53000001' }, 'session-token')).resolves.toEqual({
      ok: true,
      value: 'from-main'
    })
    const savePdf = bridge.savePdf as (name: string) => Promise<unknown>
    const saveFile = bridge.saveFile as (name: string, base64: string) => Promise<unknown>
    await savePdf('日结单')
    await saveFile('日结汇总.csv', 'AAAA')
    // The customer-facing screen: each on its own channel, nothing else of IPC.
    const request = { saleId: 'x', amountFen: 1, pinKey: { keyId: 'k', publicKey: 'p' } }
    await (bridge.askCustomerPin as (request: unknown) => Promise<unknown>)(request)
    await (bridge.customerPinRequest as () => Promise<unknown>)()
    await (bridge.customerPinSubmit as (block: unknown) => Promise<unknown>)(null)
    const job = { deviceName: 'EPSON', silent: true, page: 'A4' }
    await (bridge.printers as () => Promise<unknown>)()
    await (bridge.print as (job: unknown) => Promise<unknown>)(job)
    await (bridge.choosePackage as () => Promise<unknown>)()
    expect(fake.ipcRenderer.invocations).toEqual([
      [API_CHANNEL, 'cardholder.lookup', { input: 'A53000001' }, 'session-token'],
      [SAVE_PDF_CHANNEL, '日结单'],
      [SAVE_FILE_CHANNEL, '日结汇总.csv', 'AAAA'],
      [CUSTOMER_PIN_ASK_CHANNEL, request],
      [CUSTOMER_PIN_REQUEST_CHANNEL],
      [CUSTOMER_PIN_SUBMIT_CHANNEL, null],
      [PRINTERS_CHANNEL],
      [PRINT_CHANNEL, job],
      [CHOOSE_PACKAGE_CHANNEL]
    ])
  })
})
