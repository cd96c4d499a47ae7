/**
 * A process that does nothing but sell, for the crash test: it adds synthetic Quzhou cardholders,
 * signs a clerk in, and commits sales one after another, printing "COMMITTING" as each commit
 * starts and "COMMITTED <id>" only after each commit has returned (as the counter prints a receipt
 * only then). Every fourth sale is voided at once with the supervisor's approval, between
 * "VOIDING <id> <ms the PIN check takes>" and "VOIDED <id>". The test kills it at random.
 */
import { systemClock } from '../../core/time'
import { sealAccount } from '../../db/sealed-records'
import { demoIdNumber } from '../../db/seeds/demo-population'
import { silentLogger } from '../../backend/services/log'
import { openCounterRuntime } from '../../backend/runtime'
import type { PaymentStart } from '../../core/sale'
import { cardPayment } from './payment'

const SIGNATURE = { width: 300, height: 100, strokes: ['M10 50 L80 20 L150 80'] }

async function main(dataDir: string, offset: number): Promise<void> {
  const runtime = await openCounterRuntime({
    dataDir,
    clock: systemClock,
    log: silentLogger,
    appVersion: 'crash-test'
  })
  const now = systemClock.now().toISOString()
  const cards = Array.from({ length: 3000 }, (_, i) => `Q${String(i).padStart(8, '0')}`)
  // Restarted on the same folder: the cardholders are there from the first start.
  const seeded = await runtime.db('accounts').where({ account_no: '33080000000000' }).first('id')
  if (!seeded)
    await runtime.db.transaction(async (trx) => {
      for (let i = 0; i < 3000; i++) {
        const card = cards[i]
        const idNumber = demoIdNumber(
          `33${String(8000 + Math.floor(i / 1000)).padStart(4, '0')}`,
          `19${60 + (i % 30)}0101`,
          String(i % 1000).padStart(3, '0')
        )
        await trx('accounts').insert({
          account_no: `330800${card.slice(1)}`,
          ...sealAccount(runtime.personalData, { cardNumber: card, idNumber, name: '测试' }),
          region_code: '330800',
          insurance_type: 'employee_active',
          status: 'active',
          balance_fen: 200_000,
          historical_balance_fen: 100_000,
          balance_as_of: now,
          updated_at: now
        })
      }
    })
  const signIn = await runtime.dispatch(
    'auth.signIn',
    { operatorCode: '1001', pin: '111111' },
    { transport: 'test' }
  )
  if (!signIn.ok) throw new Error(signIn.error.message)
  const context = { transport: 'test' as const, sessionToken: (signIn.value as { token: string }).token }
  await runtime.dispatch('auth.openShift', {}, context)
  // How long the supervisor's PIN check takes here (the slow hash before a void writes anything):
  // the test aims its kills at the write that follows it.
  const timed = performance.now()
  await runtime.dispatch('auth.signIn', { operatorCode: '9001', pin: '999999' }, { transport: 'test' })
  const approvalMs = Math.round(performance.now() - timed)
  process.stdout.write('READY\n')

  // Each start sells cards no earlier start sold: one cover per person and product.
  for (const [n, card] of cards.entries()) {
    if (n < offset) continue
    const found = await runtime.dispatch('cardholder.lookup', { input: card }, context)
    if (!found.ok) throw new Error(found.error.message)
    const accountId = (found.value as { accountId: number }).accountId
    const lines: Array<Record<string, unknown>> = [
      { insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }
    ]
    // Every other order insures a relative too, so a sale has more than one line to lose half of.
    if (n % 2 === 1) {
      lines.push({
        insured: {
          relation: 'child',
          idNumber: demoIdNumber(
            '330802',
            `20${10 + Math.floor(n / 1000)}0101`,
            String(n % 1000).padStart(3, '0')
          ),
          name: '测试子女',
          proofSeen: true,
          enrolmentConfirmed: true
        },
        productCode: 'QZ-HQB-2027',
        units: 1
      })
    }
    const begun = await runtime.dispatch('sale.begin', { accountId }, context)
    if (!begun.ok) throw new Error(begun.error.message)
    const start = begun.value as PaymentStart
    process.stdout.write('COMMITTING\n')
    const sold = await runtime.dispatch(
      'sale.commit',
      {
        saleId: start.saleId,
        order: { accountId, lines },
        payment: cardPayment(start, card),
        termsAcknowledged: true,
        signature: SIGNATURE
      },
      context
    )
    if (!sold.ok) throw new Error(sold.error.message)
    const saleId = (sold.value as { saleId: string }).saleId
    process.stdout.write(`COMMITTED ${saleId}\n`)
    if (n % 4 === 3) {
      process.stdout.write(`VOIDING ${saleId} ${approvalMs}\n`)
      const voided = await runtime.dispatch(
        'sale.void',
        { saleId, reason: '客户改变主意', supervisorCode: '9001', supervisorPin: '999999' },
        context
      )
      if (!voided.ok) throw new Error(voided.error.message)
      process.stdout.write(`VOIDED ${saleId}\n`)
    }
  }
}

main(process.argv[2], Number(process.argv[3] ?? 0)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
