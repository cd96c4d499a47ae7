import { pemOfRawKey, sealPinBlock } from '../../backend/services/payment/pin-block'
import type { Payment, PaymentStart } from '../../core/sale'

/** The password of every demo card but D32050001 (135790): the initial password a card is issued with. */
export const DEMO_PIN = '123456'

/** What the pay step sends for a card read by the reader and its password: sealed to the key sale.begin gave. */
export function cardPayment(
  begun: PaymentStart,
  card: string,
  options: {
    pin?: string
    entry?: 'swiped' | 'keyed'
    approval?: { supervisorCode: string; supervisorPin: string }
  } = {}
): Payment {
  if (!begun.pinKey) throw new Error('the terminal has no key to seal the password to')
  return {
    method: 'card',
    entry: options.entry ?? 'swiped',
    card,
    pinBlock: sealPinBlock(options.pin ?? DEMO_PIN, begun.saleId, {
      keyId: begun.pinKey.keyId,
      publicKeyPem: pemOfRawKey(begun.pinKey.publicKey)
    }),
    ...(options.approval ? { approval: options.approval } : {})
  }
}
