import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import { describe, expect, it } from 'vitest'
import {
  CUSTOMER_PIN_ASK_CHANNEL,
  CUSTOMER_PIN_REQUEST_CHANNEL,
  CUSTOMER_PIN_SUBMIT_CHANNEL
} from '../../../core/api/channel'
import type { CustomerPinAnswer } from '../../../core/api/contract'
import { sealPinBlock } from '../../../backend/services/payment/pin-block'
import { DEMO_CENTRE_FILE_KEY } from '../../../db/seeds/demo-centre-file-key'
import {
  registerCustomerDisplay,
  type CustomerDisplayDeps,
  type DisplayBounds
} from '../../../electron/main/customer-display'

const COUNTER = 1
const CUSTOMER = 2
const SALE_ID = '01a20116-c840-7000-8000-000000000001'
const REQUEST = {
  saleId: SALE_ID,
  amountFen: 10_000,
  pinKey: { keyId: 'k', publicKey: 'A'.repeat(43) + '=' }
}
const SECOND: DisplayBounds = { x: 1366, y: 0, width: 1024, height: 768 }

/** The main process's side with its IPC handlers, the displays there are, and the windows it opened. */
function shell(options: { displays?: DisplayBounds[]; timeoutMs?: number } = {}) {
  const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>()
  const ipcMain = { handle: (channel: string, handler: never) => handlers.set(channel, handler) }
  const opened: Array<{ bounds: DisplayBounds; closed: boolean; onClosed: () => void }> = []
  const deps: CustomerDisplayDeps = {
    otherDisplays: () => options.displays ?? [SECOND],
    openWindow: (bounds) => {
      const window: { bounds: DisplayBounds; closed: boolean; onClosed: () => void } = {
        bounds,
        closed: false,
        onClosed: () => undefined
      }
      opened.push(window)
      return {
        webContentsId: CUSTOMER,
        close: () => void (window.closed = true),
        onClosed: (listener) => void (window.onClosed = listener)
      }
    },
    isTrusted: () => true,
    isCounterWindow: (event) => event.sender.id === COUNTER,
    timeoutMs: options.timeoutMs
  }
  registerCustomerDisplay(ipcMain as unknown as IpcMain, deps)
  const from = (id: number) => ({ sender: { id } }) as IpcMainInvokeEvent
  const call = (channel: string, sender: number, ...args: unknown[]) => {
    const handler = handlers.get(channel)
    if (!handler) throw new Error(`no handler for ${channel}`)
    return handler(from(sender), ...args)
  }
  return {
    opened,
    ask: (request: unknown = REQUEST, sender = COUNTER) =>
      call(CUSTOMER_PIN_ASK_CHANNEL, sender, request) as Promise<CustomerPinAnswer>,
    request: (sender: number) => call(CUSTOMER_PIN_REQUEST_CHANNEL, sender),
    submit: (sender: number, block: unknown) => call(CUSTOMER_PIN_SUBMIT_CHANNEL, sender, block)
  }
}

describe('the customer-facing screen', () => {
  it('is unavailable with one display, to another window, or for a malformed request: the pay step’s field takes the password', async () => {
    expect(await shell({ displays: [] }).ask()).toEqual({ outcome: 'unavailable' })
    expect(await shell().ask(REQUEST, CUSTOMER)).toEqual({ outcome: 'unavailable' })
    expect(await shell().ask({ ...REQUEST, saleId: 'x' })).toEqual({ outcome: 'unavailable' })
  })

  it('opens on the second display, shows only its own window the request, and relays only a well-formed sealed block', async () => {
    const main = shell()
    const answer = main.ask()
    expect(main.opened.map((w) => w.bounds)).toEqual([SECOND])
    expect(main.request(COUNTER)).toBeNull()
    expect(main.request(CUSTOMER)).toEqual(REQUEST)
    // Another window cannot answer for the customer.
    main.submit(COUNTER, sealPinBlock('000000', SALE_ID, DEMO_CENTRE_FILE_KEY))
    const block = sealPinBlock('123456', SALE_ID, DEMO_CENTRE_FILE_KEY)
    main.submit(CUSTOMER, block)
    expect(await answer).toEqual({ outcome: 'sealed', pinBlock: block })
    expect(main.opened[0].closed).toBe(true)
    expect(main.request(CUSTOMER)).toBeNull()
  })

  it('a block that is not the protocol’s, the customer’s cancel, a closed window or the timeout: cancelled', async () => {
    const main = shell({ timeoutMs: 50 })
    const digits = main.ask()
    main.submit(CUSTOMER, { pin: '123456' })
    expect(await digits).toEqual({ outcome: 'cancelled' })
    const cancel = main.ask()
    main.submit(CUSTOMER, null)
    expect(await cancel).toEqual({ outcome: 'cancelled' })
    const closed = main.ask()
    main.opened.at(-1)?.onClosed()
    expect(await closed).toEqual({ outcome: 'cancelled' })
    expect(await main.ask()).toEqual({ outcome: 'cancelled' })
    expect(main.opened.every((window) => window.closed || window === main.opened[2])).toBe(true)
  })
})
