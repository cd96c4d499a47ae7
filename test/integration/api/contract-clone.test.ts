import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ErrorCode } from '../../../core/errors'
import { describe, expect, it } from 'vitest'
import {
  contract,
  type CallContext,
  type CallInput,
  type CallName,
  type CallOutput
} from '../../../core/api/contract'
import { DEFAULT_READER_SETTINGS } from '../../../core/reader/settings'
import type { DraftOrder, PaymentStart, ReceiptView } from '../../../core/sale'
import { DEMO_ACCOUNTS, demoAccountNo } from '../../../db/seeds/demo-population'
import { setAccountStatus } from '../../../hub/db/accounts'
import { openTestHub } from '../../support/hub'
import { openTestRuntime, signedIn } from '../../support/helpers'
import { SIGNATURE } from '../../support/sale-fixtures'
import { cardPayment } from '../../support/payment'
import { ok } from '../../support/sync'

/**
 * Electron's IPC carries arguments and results with the structured clone algorithm, browser mode
 * with JSON. Every call of the contract is made here, in an order in which each succeeds, against
 * the real services and a real centre: its arguments must survive structured cloning on the way
 * in, its result on the way out (no proxy, function, class instance or Buffer), and the result must
 * read the same after JSON (no Date, Map or typed array), so no call can carry what a transport cannot.
 */

const DAY = '2026-11-22' // TEST_NOW in Shanghai
const SHENYANG = DEMO_ACCOUNTS.find((account) => account.cardNumber === 'E21010002')

interface Scenario {
  centreUrl: string
  accountId: number
  saleId: string
  begun: PaymentStart | null
  rejectedSaleId: string
  shiftId: number
  closeNumber: number
}

type Caller = 'anyone' | 'clerk' | 'supervisor'

interface Sample<K extends CallName> {
  readonly as: Caller
  readonly args: (scenario: Scenario) => CallInput<K>
  /** What the later calls need of this one's result. */
  readonly keep?: (value: CallOutput<K>, scenario: Scenario) => void
  /** A call this demo scenario must refuse: its refusal crosses the transports instead. */
  readonly refused?: ErrorCode
}

const order = (scenario: Scenario): DraftOrder => ({
  accountId: scenario.accountId,
  lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }]
})

/** One sample per call, in the order they are made. A call added to the contract without a sample does not compile. */
const SAMPLES: { readonly [K in CallName]: Sample<K> } = {
  'app.info': { as: 'anyone', args: () => ({}) },
  'auth.signIn': { as: 'anyone', args: () => ({ operatorCode: '1001', pin: '111111' }) },
  'reader.getSettings': { as: 'anyone', args: () => ({}) },
  'auth.openShift': {
    as: 'clerk',
    args: () => ({}),
    keep: (shift, scenario) => void (scenario.shiftId = shift.id)
  },
  'auth.session': { as: 'clerk', args: () => ({}) },
  'sync.register': {
    as: 'supervisor',
    args: (s) => ({ centreUrl: s.centreUrl, enrolmentCode: 'DEMO-ALL', territory: '柯城区医保服务大厅' })
  },
  'sync.now': { as: 'clerk', args: () => ({}) },
  'sync.status': { as: 'clerk', args: () => ({}) },
  'cardholder.lookup': {
    as: 'clerk',
    args: () => ({ input: 'C33080001' }),
    keep: (holder, scenario) => void (scenario.accountId = holder.accountId)
  },
  'eligibility.offers': { as: 'clerk', args: (s) => ({ accountId: s.accountId }) },
  'eligibility.check': {
    as: 'clerk',
    args: (s) => ({
      payer: { accountId: s.accountId },
      insured: { relation: 'self' },
      productCode: 'QZ-HQB-2027',
      units: 1
    })
  },
  'sale.catalogue': { as: 'clerk', args: (s) => ({ accountId: s.accountId }) },
  'sale.quote': { as: 'clerk', args: order },
  'sale.begin': {
    as: 'clerk',
    args: (s) => ({ accountId: s.accountId }),
    keep: (begun, scenario) => void (scenario.begun = begun)
  },
  'sale.commit': {
    as: 'clerk',
    args: (s) => {
      if (!s.begun) throw new Error('sale.begin first')
      return {
        saleId: s.begun.saleId,
        order: order(s),
        payment: cardPayment(s.begun, 'C33080001'),
        termsAcknowledged: true,
        signature: SIGNATURE
      }
    },
    keep: (receipt, scenario) => void (scenario.saleId = receipt.saleId)
  },
  'sale.receipt': { as: 'clerk', args: (s) => ({ saleId: s.saleId }) },
  'sale.search': { as: 'clerk', args: () => ({ scope: 'all', date: DAY }) },
  'rejections.list': { as: 'supervisor', args: () => ({ followedUp: false }) },
  'sale.cancel': {
    as: 'clerk',
    args: (s) => ({
      saleId: s.saleId,
      // No such line: the refusal crosses the transports, and the sale stays for the void below.
      lineNos: [9],
      reason: '客户改变主意',
      card: 'C33080001',
      supervisorCode: '9001',
      supervisorPin: '999999'
    }),
    refused: 'INVALID_ARGUMENT'
  },
  'rejections.revealMobile': { as: 'supervisor', args: (s) => ({ saleId: s.rejectedSaleId }) },
  'rejections.followUp': {
    as: 'supervisor',
    args: (s) => ({ saleId: s.rejectedSaleId, note: '已电话告知参保人' })
  },
  'sale.void': {
    as: 'clerk',
    args: (s) => ({
      saleId: s.saleId,
      reason: '客户改变主意',
      supervisorCode: '9001',
      supervisorPin: '999999'
    })
  },
  'benefits.products': { as: 'clerk', args: () => ({}) },
  'rules.import': { as: 'supervisor', args: () => ({ envelope: BUNDLE }) },
  'reader.saveSettings': {
    as: 'supervisor',
    args: () => ({ ...DEFAULT_READER_SETTINGS, maxKeyGapMs: DEFAULT_READER_SETTINGS.maxKeyGapMs + 10 })
  },
  'printer.getSettings': { as: 'clerk', args: () => ({}) },
  // Files are the agent's and the supervisor's: a clerk is refused, in Chinese, on every transport.
  'files.exportQueue': { as: 'clerk', args: () => ({}), refused: 'FORBIDDEN' },
  'files.importPackage': {
    as: 'clerk',
    args: () => ({ uploadId: '6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f' }),
    refused: 'FORBIDDEN'
  },
  'printer.saveSettings': {
    as: 'supervisor',
    args: () => ({
      receiptPrinter: 'EPSON TM-T82III 收据打印机',
      a4Printer: null,
      autoPrintReceipt: true,
      officeStub: true
    })
  },
  'report.summary': { as: 'supervisor', args: () => ({ from: DAY, to: DAY }) },
  'report.officeSummary': { as: 'supervisor', args: () => ({ from: DAY, to: DAY }) },
  'report.shifts': { as: 'supervisor', args: () => ({ from: DAY, to: DAY }) },
  'report.closeShift': { as: 'supervisor', args: (s) => ({ shiftId: s.shiftId }) },
  // The clerk's shift was just closed above: asking to hand it over is refused, in Chinese, on every transport.
  'report.handOver': {
    as: 'clerk',
    args: () => ({ supervisorCode: '9001', supervisorPin: '999999' }),
    refused: 'NO_SHIFT'
  },
  'report.closeDayCheck': { as: 'supervisor', args: () => ({ date: DAY }) },
  'report.closeDay': {
    as: 'supervisor',
    args: () => ({ date: DAY }),
    keep: (close, scenario) => void (scenario.closeNumber = close.number)
  },
  'report.closes': { as: 'supervisor', args: () => ({ from: DAY, to: DAY }) },
  'report.close': { as: 'supervisor', args: (s) => ({ number: s.closeNumber }) },
  'report.document': { as: 'supervisor', args: () => ({ source: { kind: 'summary', from: DAY, to: DAY } }) },
  'report.export': {
    as: 'supervisor',
    args: (s) => ({ source: { kind: 'close', number: s.closeNumber }, format: 'xlsx' })
  },
  'operators.list': { as: 'supervisor', args: () => ({}) },
  'operators.create': {
    as: 'supervisor',
    args: () => ({ code: '1002', name: '王芳', role: 'clerk', pin: '246810' })
  },
  'operators.setActive': { as: 'supervisor', args: () => ({ code: '1002', active: false }) },
  'operators.resetPin': { as: 'supervisor', args: () => ({ code: '1002', pin: '135790' }) },
  'audit.list': { as: 'supervisor', args: () => ({ limit: 200 }) },
  'audit.verify': { as: 'supervisor', args: () => ({}) },
  'auth.changePin': { as: 'clerk', args: () => ({ currentPin: '111111', newPin: '258147' }) },
  // A demo folder is set up already: the first-supervisor form is for an empty centre folder.
  'auth.setUp': {
    as: 'anyone',
    args: () => ({ operatorCode: '9100', name: '周敏', pin: '258147' }),
    refused: 'FORBIDDEN'
  },
  'auth.signOut': { as: 'clerk', args: () => ({}) }
}

const BUNDLE = await readFile(
  join(import.meta.dirname, '../../../bundles/signed/330800-v2.bundle.json'),
  'utf8'
)

describe('every call of the contract crosses both transports intact', () => {
  it('has a sample for each call, and none for a call that is gone', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(contract).sort())
  })

  it('arguments in and results out survive structured cloning (IPC) and JSON (browser mode)', async () => {
    const centre = await openTestHub()
    const runtime = await openTestRuntime({
      clock: centre.clock,
      syncTuning: { timeoutMs: 3_000, random: () => 0.5 }
    })
    const contexts: Record<Caller, CallContext> = {
      anyone: { transport: 'test' },
      clerk: await signedIn(runtime, 'clerk'),
      supervisor: await signedIn(runtime, 'supervisor')
    }
    const scenario: Scenario = {
      centreUrl: centre.url,
      accountId: 0,
      saleId: '',
      begun: null,
      rejectedSaleId: '',
      shiftId: 0,
      closeNumber: 0
    }
    const made: string[] = []

    async function make<K extends CallName>(name: K, sample: Sample<K>): Promise<void> {
      const args = sample.args(scenario)
      const sent: unknown = structuredClone(args)
      expect(sent, `${name}: arguments`).toStrictEqual(args)
      const result = await runtime.dispatch(name, sent, contexts[sample.as])
      if (sample.refused) expect(result.ok ? null : result.error.code, `${name} refused`).toBe(sample.refused)
      else expect(result.ok ? null : result.error, `${name} failed`).toBeNull()
      const received: unknown = structuredClone(result)
      expect(received, `${name}: result through structured cloning`).toStrictEqual(result)
      expect(JSON.parse(JSON.stringify(result)), `${name}: result through JSON`).toEqual(result)
      if (result.ok) sample.keep?.(result.value as CallOutput<K>, scenario)
      made.push(name)
    }

    for (const name of Object.keys(SAMPLES) as CallName[]) {
      if (name === 'rejections.list') {
        // A sale the centre refuses: the account was suspended there after this terminal's snapshot.
        if (!SHENYANG) throw new Error('no Shenyang demo account')
        expect(await setAccountStatus(centre.db, demoAccountNo(SHENYANG), 'suspended', centre.clock)).toBe(
          true
        )
        const shenyang = await ok<{ accountId: number }>(
          runtime.dispatch('cardholder.lookup', { input: 'E21010002' }, contexts.clerk)
        )
        const begun = await ok<PaymentStart>(
          runtime.dispatch('sale.begin', { accountId: shenyang.accountId }, contexts.clerk)
        )
        // Queued, then refused at the upload: a refusal found after the customer left, for follow-up.
        centre.faults.unavailable = 1_000
        const refused = await ok<ReceiptView>(
          runtime.dispatch(
            'sale.commit',
            {
              saleId: begun.saleId,
              payment: cardPayment(begun, 'E21010002'),
              order: {
                accountId: shenyang.accountId,
                lines: [{ insured: { relation: 'self' }, productCode: 'SY-HEALTH-DEMO', units: 1 }],
                applicantMobile: '13912345678'
              },
              termsAcknowledged: true,
              signature: SIGNATURE
            },
            contexts.clerk
          )
        )
        scenario.rejectedSaleId = refused.saleId
        centre.faults.unavailable = 0
        await ok(runtime.dispatch('sync.now', {}, contexts.clerk))
        await expect
          .poll(
            async () =>
              (
                await ok<ReceiptView>(
                  runtime.dispatch('sale.receipt', { saleId: refused.saleId }, contexts.clerk)
                )
              ).status,
            { timeout: 10_000 }
          )
          .toBe('rejected')
      }
      await make(name, SAMPLES[name] as Sample<typeof name>)
    }
    expect([...made].sort()).toEqual(Object.keys(contract).sort())
  }, 60_000)
})
