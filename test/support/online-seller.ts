/**
 * A terminal process that registers with a centre, syncs, and makes one sale online, for the fault
 * tests: it prints "BEGUN <id>" once the pay step has its sale id, then "COMMITTED <id> <status>"
 * when the sale's answer is back. The test kills it, or the centre, while it waits.
 */
import { systemClock } from '../../core/time'
import type { PaymentStart, ReceiptView } from '../../core/sale'
import { silentLogger } from '../../backend/services/log'
import { openCounterRuntime } from '../../backend/runtime'
import { cardPayment } from './payment'

const SIGNATURE = { width: 300, height: 100, strokes: ['M10 50 L80 20 L150 80'] }

async function main(dataDir: string, centreUrl: string): Promise<void> {
  const runtime = await openCounterRuntime({
    dataDir,
    clock: systemClock,
    log: silentLogger,
    appVersion: 'fault-test',
    syncTuning: { timeoutMs: 60_000, authorizationTimeoutMs: 60_000, random: () => 0.5 }
  })
  const as = async (code: string, pin: string) => {
    const signedIn = await runtime.dispatch('auth.signIn', { operatorCode: code, pin }, { transport: 'test' })
    if (!signedIn.ok) throw new Error(signedIn.error.message)
    return { transport: 'test' as const, sessionToken: (signedIn.value as { token: string }).token }
  }
  const must = <T>(result: { ok: true; value: unknown } | { ok: false; error: { message: string } }) => {
    if (!result.ok) throw new Error(result.error.message)
    return result.value as T
  }
  const supervisor = await as('9001', '999999')
  must(
    await runtime.dispatch(
      'sync.register',
      { centreUrl, enrolmentCode: 'DEMO-ALL', territory: '故障测试' },
      supervisor
    )
  )
  must(await runtime.dispatch('sync.now', {}, supervisor))
  const clerk = await as('1001', '111111')
  must(await runtime.dispatch('auth.openShift', {}, clerk))
  const { accountId } = must<{ accountId: number }>(
    await runtime.dispatch('cardholder.lookup', { input: 'C33080001' }, clerk)
  )
  const begun = must<PaymentStart>(await runtime.dispatch('sale.begin', { accountId }, clerk))
  process.stdout.write(`BEGUN ${begun.saleId}\n`)
  const receipt = must<ReceiptView>(
    await runtime.dispatch(
      'sale.commit',
      {
        saleId: begun.saleId,
        order: {
          accountId,
          lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }]
        },
        payment: cardPayment(begun, 'C33080001'),
        termsAcknowledged: true,
        signature: SIGNATURE
      },
      clerk
    )
  )
  process.stdout.write(`COMMITTED ${receipt.saleId} ${receipt.status}\n`)
  await runtime.close()
}

main(process.argv[2], process.argv[3]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
