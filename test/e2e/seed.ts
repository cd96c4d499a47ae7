import { SIGNATURE } from '../support/sale-fixtures'
import { cardPayment } from '../support/payment'
import type { PaymentStart } from '../../core/sale'

/**
 * Sales made through browser mode's own HTTP API, as the counter screen would make them: for the
 * supervisor's tests, which need a day of business without clicking through every sale.
 */

type Line = { insured: { relation: 'self' }; productCode: string; units?: number; amountFen?: number }

/** Demo cardholders and products that sell on a fresh demo database, one sale each. */
export const DAY_OF_SALES: ReadonlyArray<{ card: string; line: Line }> = [
  { card: 'C33080001', line: { insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 } },
  { card: 'E21010002', line: { insured: { relation: 'self' }, productCode: 'SY-HEALTH-DEMO', units: 1 } },
  { card: 'A53000001', line: { insured: { relation: 'self' }, productCode: 'YN-JRAK', units: 1 } },
  { card: 'A53000003', line: { insured: { relation: 'self' }, productCode: 'YN-JRAK', units: 1 } },
  {
    card: 'D32050001',
    line: { insured: { relation: 'self' }, productCode: 'SZ-HEALTH-DEMO', amountFen: 50_000 }
  },
  {
    card: 'D32050002',
    line: { insured: { relation: 'self' }, productCode: 'SZ-HEALTH-DEMO', amountFen: 50_000 }
  },
  { card: 'B54000001', line: { insured: { relation: 'self' }, productCode: 'XZ-CARE', units: 1 } }
]

export async function call<T>(baseUrl: string, name: string, args: unknown, token?: string): Promise<T> {
  const response = await fetch(new URL(`api/${name}`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { 'x-counter-session': token } : {}) },
    body: JSON.stringify(args)
  })
  const result = (await response.json()) as
    { ok: true; value: T } | { ok: false; error: { code: string; message: string } }
  if (!result.ok) throw new Error(`${name}: ${result.error.code} ${result.error.message}`)
  return result.value
}

/** Signs the operator in (their own session), opens a shift and sells each; the receipts' totals in fen. */
export async function sellThroughApi(
  baseUrl: string,
  operator: { code: string; pin: string },
  sales = DAY_OF_SALES
): Promise<number[]> {
  const { token } = await call<{ token: string }>(baseUrl, 'auth.signIn', {
    operatorCode: operator.code,
    pin: operator.pin
  })
  await call(baseUrl, 'auth.openShift', {}, token)
  const totals: number[] = []
  for (const { card, line } of sales) {
    const { accountId } = await call<{ accountId: number }>(
      baseUrl,
      'cardholder.lookup',
      { input: card },
      token
    )
    const begun = await call<PaymentStart>(baseUrl, 'sale.begin', { accountId }, token)
    const receipt = await call<{ totalFen: number }>(
      baseUrl,
      'sale.commit',
      {
        saleId: begun.saleId,
        order: { accountId, lines: [line], applicantMobile: '13912345678' },
        payment: cardPayment(begun, card),
        termsAcknowledged: true,
        signature: SIGNATURE
      },
      token
    )
    totals.push(receipt.totalFen)
  }
  return totals
}
