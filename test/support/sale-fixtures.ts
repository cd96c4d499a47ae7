import type { CallContext } from '../../core/api/contract'
import type { DraftOrder, Signature } from '../../core/sale'
import type { CounterRuntime } from '../../backend/runtime'
import { signedIn } from './helpers'

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

export function commit(
  runtime: CounterRuntime,
  context: CallContext,
  order: DraftOrder,
  paymentCard: string
) {
  return runtime.dispatch(
    'sale.commit',
    { order, paymentCard, termsAcknowledged: true, signature: SIGNATURE },
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
