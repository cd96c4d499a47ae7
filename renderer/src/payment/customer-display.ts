import type { CounterBridge, CustomerPinAnswer, CustomerPinRequest } from '@core/api/contract'

/**
 * The customer-facing screen, where the shell has one (Electron with a second display): the card
 * password is typed there by the customer. Anywhere else (browser mode, one display) it is
 * `unavailable` and the pay step's own masked field takes the password.
 */
const bridge = (): CounterBridge | undefined => (window as { counter?: CounterBridge }).counter

/** Whether the shell can show a customer-facing screen at all (it may still find no second display). */
export function hasCustomerScreen(): boolean {
  return typeof bridge()?.askCustomerPin === 'function'
}

export async function askCustomerPin(request: CustomerPinRequest): Promise<CustomerPinAnswer> {
  const ask = bridge()?.askCustomerPin
  if (!ask) return { outcome: 'unavailable' }
  try {
    // Plain JSON: the bridge copies its arguments like IPC does.
    return await ask(JSON.parse(JSON.stringify(request)) as CustomerPinRequest)
  } catch {
    return { outcome: 'unavailable' }
  }
}

/** In the customer's window: what to show and seal to, or null when nothing is asked now. */
export async function customerPinRequest(): Promise<CustomerPinRequest | null> {
  return (await bridge()?.customerPinRequest?.()) ?? null
}

export async function submitCustomerPin(
  answer: Parameters<NonNullable<CounterBridge['customerPinSubmit']>>[0]
) {
  await bridge()?.customerPinSubmit?.(answer)
}
