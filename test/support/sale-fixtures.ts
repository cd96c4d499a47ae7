import type { CallContext } from '../../core/api/contract'
import type { DraftOrder, PaymentStart, Signature } from '../../core/sale'
import type { CounterRuntime } from '../../backend/runtime'
import { signedIn } from './helpers'
import { cardPayment } from './payment'

export const SIGNATURE: Signature = {
  width: 400,
  height: 150,
  strokes: ['M10 100 L60 40 L110 120 L160 50', 'M200 90 L260 90']
}

/** A demo operator, signed in, with a shift open: ready to sell. */
export async function onShift(
  runtime: CounterRuntime,
  role: 'clerk' | 'agent' | 'supervisor' = 'clerk'
): Promise<CallContext> {
  const context = await signedIn(runtime, role)
  const shift = await runtime.dispatch('auth.openShift', {}, context)
  if (!shift.ok) throw new Error(shift.error.message)
  return context
}

export async function accountIdOf(
  runtime: CounterRuntime,
  context: CallContext,
  card: string
): Promise<number> {
  const found = await runtime.dispatch('cardholder.lookup', { input: card }, context)
  if (!found.ok) throw new Error(found.error.message)
  return (found.value as { accountId: number }).accountId
}

/** sale.begin for the order's account: the sale id and the key the password is sealed to. */
export async function beginPayment(
  runtime: CounterRuntime,
  context: CallContext,
  accountId: number
): Promise<PaymentStart> {
  const begun = await runtime.dispatch('sale.begin', { accountId }, context)
  if (!begun.ok) throw new Error(begun.error.message)
  return begun.value as PaymentStart
}

/** The pay step as the counter does it: sale.begin, the card again and its password, sale.commit. */
/** The applicant's mobile the test sales carry unless the order gives one. */
export const APPLICANT_MOBILE = '13912345678'

export async function commit(
  runtime: CounterRuntime,
  context: CallContext,
  order: DraftOrder,
  paymentCard: string,
  options: Parameters<typeof cardPayment>[2] & { warningsAcknowledged?: boolean } = {}
) {
  const begun = await beginPayment(runtime, context, order.accountId)
  const { warningsAcknowledged, ...payment } = options
  return runtime.dispatch(
    'sale.commit',
    {
      saleId: begun.saleId,
      // The clerk typed the applicant's mobile, unless the test says otherwise ('' for none).
      order: { applicantMobile: APPLICANT_MOBILE, ...order },
      payment: cardPayment(begun, paymentCard, payment),
      termsAcknowledged: true,
      signature: SIGNATURE,
      ...(warningsAcknowledged === undefined ? {} : { warningsAcknowledged })
    },
    context
  )
}

/** Counts of every table the sale writes to, to show that a refusal wrote nothing. */
export async function saleTables(runtime: CounterRuntime): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of ['sales', 'sale_lines', 'ledger', 'outbox']) {
    const [{ n }] = await runtime.db(table).count<Array<{ n: number }>>({ n: '*' })
    counts[table] = n
  }
  return counts
}
