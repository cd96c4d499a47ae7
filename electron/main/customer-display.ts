import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import {
  CUSTOMER_PIN_ASK_CHANNEL,
  CUSTOMER_PIN_REQUEST_CHANNEL,
  CUSTOMER_PIN_SUBMIT_CHANNEL
} from '../../core/api/channel'
import {
  customerPinRequestSchema,
  type CustomerPinAnswer,
  type CustomerPinRequest
} from '../../core/api/contract'
import { pinBlockSchema } from '../../core/sync/protocol'

/**
 * The customer-facing screen: where the terminal has a second display, the card password is typed
 * there, by the customer, on a keypad in a window of its own. This module only relays: the
 * counter's window asks, the customer's window seals the digits itself and hands back the block,
 * which is checked against the protocol before the counter's window gets it. Nothing else crosses.
 */

export interface DisplayBounds {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/** The customer's window as this module needs it (an Electron BrowserWindow in the app). */
export interface CustomerWindow {
  readonly webContentsId: number
  close(): void
  onClosed(listener: () => void): void
}

export interface CustomerDisplayDeps {
  /** Every display but the one the counter's window is on. */
  readonly otherDisplays: () => readonly DisplayBounds[]
  /** Opens the customer's window, full screen on `bounds`, showing the app's `#/customer-pin`. */
  readonly openWindow: (bounds: DisplayBounds) => CustomerWindow
  /** The app's own page (the same check as for every IPC call). */
  readonly isTrusted: (event: IpcMainInvokeEvent) => boolean
  /** The counter's own window, the only one that may ask. */
  readonly isCounterWindow: (event: IpcMainInvokeEvent) => boolean
  /** How long the customer has to type (default two minutes). */
  readonly timeoutMs?: number
}

interface Pending {
  readonly request: CustomerPinRequest
  readonly window: CustomerWindow
  readonly answer: (answer: CustomerPinAnswer) => void
}

export function registerCustomerDisplay(ipcMain: IpcMain, deps: CustomerDisplayDeps): void {
  let pending: Pending | null = null
  const finish = (answer: CustomerPinAnswer) => {
    const done = pending
    pending = null
    if (!done) return
    done.answer(answer)
    done.window.close()
  }

  ipcMain.handle(CUSTOMER_PIN_ASK_CHANNEL, (event, request: unknown): Promise<CustomerPinAnswer> => {
    if (!deps.isTrusted(event) || !deps.isCounterWindow(event))
      return Promise.resolve({ outcome: 'unavailable' })
    const parsed = customerPinRequestSchema.safeParse(request)
    const [display] = deps.otherDisplays()
    if (!parsed.success || !display) return Promise.resolve({ outcome: 'unavailable' })
    // A new payment replaces one still open (the clerk went back and paid again).
    finish({ outcome: 'cancelled' })
    return new Promise<CustomerPinAnswer>((resolve) => {
      const window = deps.openWindow(display)
      const timer = setTimeout(() => finish({ outcome: 'cancelled' }), deps.timeoutMs ?? 120_000)
      pending = {
        request: parsed.data,
        window,
        answer: (answer) => {
          clearTimeout(timer)
          resolve(answer)
        }
      }
      const mine = pending
      // Closed by the customer or the system: the counter's window falls back to its own field.
      window.onClosed(() => {
        if (pending === mine) finish({ outcome: 'cancelled' })
      })
    })
  })

  const fromCustomerWindow = (event: IpcMainInvokeEvent) =>
    deps.isTrusted(event) && pending !== null && event.sender.id === pending.window.webContentsId

  ipcMain.handle(CUSTOMER_PIN_REQUEST_CHANNEL, (event): CustomerPinRequest | null =>
    fromCustomerWindow(event) && pending ? pending.request : null
  )

  ipcMain.handle(CUSTOMER_PIN_SUBMIT_CHANNEL, (event, block: unknown): void => {
    if (!fromCustomerWindow(event)) return
    const parsed = block === null ? null : pinBlockSchema.safeParse(block)
    finish(parsed?.success ? { outcome: 'sealed', pinBlock: parsed.data } : { outcome: 'cancelled' })
  })
}
