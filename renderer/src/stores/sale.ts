import { instalmentPayable } from '@core/after-sale'
import type { CardholderView, HoldingView } from '@core/cardholder'
import type { AppErrorShape } from '@core/errors'
import type { InsuredRelation } from '@core/rules/bundle'
import type {
  CatalogueView,
  DraftLine,
  Payment,
  PaymentStart,
  QuoteView,
  ReceiptView,
  Signature
} from '@core/sale'
import { maskName } from '@core/masking'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '../api/client'
import { newestOnly } from '../newest-only'
import { sealPin } from '../payment/seal-pin'
import type { PinBlock } from '@core/sync/protocol'
import { useSyncStore } from './sync'

export type SaleStep = 'order' | 'confirm' | 'pay' | 'done'

export const PAYMENT_OUTCOME_UNKNOWN =
  '收款结果未知：柜台界面与本机服务的通讯中断。请持卡人重新输入密码后再按"确认付款"：同一笔付款不会重复扣款。'
export const SALE_STEPS: readonly SaleStep[] = ['order', 'confirm', 'pay', 'done']
export const NO_PIN_KEY =
  '本机还没有医保中心的密码加密密钥，不能收取持卡人密码：请主管在"设置"中完成注册并同步后再收款。'

/**
 * What the payer showed at the pay step: the card read by the reader (`swiped`), its card or ID
 * number typed because the reader failed with a supervisor's approval (`keyed`), or an e-voucher.
 */
export type PayerPresented =
  | { readonly kind: 'swiped'; readonly card: string }
  | {
      readonly kind: 'keyed'
      readonly card: string
      readonly approval: { readonly supervisorCode: string; readonly supervisorPin: string }
    }
  | { readonly kind: 'voucher'; readonly code: string }

/** One insured person of the order, as the clerk fills it in. */
export interface DraftPerson {
  readonly key: number
  relation: InsuredRelation
  /** A family member bound to the account. */
  memberId?: number
  /** Shown in the list: masked name of a bound member or self; typed name of another relative. */
  label: string
  idNumber: string
  name: string
  proofSeen: boolean
  enrolmentConfirmed: boolean
  productCode: string
  units?: number
  amountFen?: number
  /** Pays the next yearly instalment of this held policy: person, product and units are the policy's. */
  instalmentOf?: { readonly saleId: string; readonly lineNo: number }
}

/**
 * The sale in progress: who is insured with what, the quote from the rules, the confirmation and
 * the payment. Going back a step (Esc) keeps everything entered; only a new sale clears it.
 */
export const useSaleStore = defineStore('sale', () => {
  const step = ref<SaleStep>('order')
  const cardholder = ref<CardholderView | null>(null)
  const catalogue = ref<CatalogueView | null>(null)
  const people = ref<DraftPerson[]>([])
  /** The applicant's mobile as typed (the screen shows it masked once typed). */
  const applicantMobile = ref('')
  const quote = ref<QuoteView | null>(null)
  const error = ref<AppErrorShape | null>(null)
  const termsAcknowledged = ref(false)
  /** The order's warnings (a repeat purchase) were told to the customer; asked again whenever they change. */
  const warningsAcknowledged = ref(false)
  const warnings = computed(() =>
    (quote.value?.lines ?? []).flatMap((line, index) => line.warnings.map((w) => `第 ${index + 1} 位：${w}`))
  )
  const signature = ref<Signature | null>(null)
  const busy = ref(false)
  const receipt = ref<ReceiptView | null>(null)
  /** The pay step's sale id and key (sale.begin). */
  const payment = ref<PaymentStart | null>(null)
  /** What the payer has shown so far at the pay step. */
  const presented = ref<PayerPresented | null>(null)
  /** Sales of this order the centre refused at the counter (kept as refused; shown to the clerk). */
  const rejectedSales = ref<string[]>([])
  /** The sale.begin in flight, if any. */
  let beginning: Promise<boolean> | null = null
  let nextKey = 1
  /** Quotes in flight as the clerk edits: only the newest edit's quote is shown. */
  const newestQuote = newestOnly()

  const canConfirm = computed(() => quote.value?.ok === true && people.value.length > 0)
  const canPay = computed(
    () =>
      canConfirm.value &&
      termsAcknowledged.value &&
      (warnings.value.length === 0 || warningsAcknowledged.value) &&
      signature.value !== null
  )

  function linesOf(): DraftLine[] {
    return people.value.map((person) =>
      person.instalmentOf
        ? {
            insured: { relation: person.relation },
            productCode: person.productCode,
            instalmentOf: person.instalmentOf
          }
        : lineOf(person)
    )
  }

  function lineOf(person: DraftPerson): DraftLine {
    return {
      insured: {
        relation: person.relation,
        ...(person.memberId !== undefined ? { memberId: person.memberId } : {}),
        ...(person.relation !== 'self' && person.memberId === undefined
          ? { idNumber: person.idNumber, name: person.name }
          : {}),
        proofSeen: person.proofSeen,
        enrolmentConfirmed: person.enrolmentConfirmed
      },
      productCode: person.productCode,
      ...(person.amountFen !== undefined ? { amountFen: person.amountFen } : { units: person.units ?? 1 })
    }
  }

  function orderOf(accountId: number) {
    const mobile = applicantMobile.value.trim()
    return { accountId, lines: linesOf(), ...(mobile ? { applicantMobile: mobile } : {}) }
  }

  /** The applicant's mobile changed: the quote says whether it is right and whether it is required. */
  async function setApplicantMobile(text: string): Promise<void> {
    applicantMobile.value = text
    await requote()
  }

  async function requote(): Promise<void> {
    if (!cardholder.value || people.value.length === 0) {
      quote.value = null
      return
    }
    const order = orderOf(cardholder.value.accountId)
    await newestQuote(
      () => api.call('sale.quote', order),
      (result) => {
        const before = warnings.value.join('\n')
        quote.value = result.ok ? result.value : null
        error.value = result.ok ? null : result.error
        // A changed order with changed warnings is told, and confirmed, again.
        if (warnings.value.join('\n') !== before) warningsAcknowledged.value = false
      }
    )
  }

  function defaultsFor(productCode: string): Pick<DraftPerson, 'units' | 'amountFen'> {
    const product = catalogue.value?.products.find((p) => p.code === productCode)
    if (product?.amountsFen) return { amountFen: product.amountsFen[0], units: undefined }
    return { units: product?.units?.min ?? 1, amountFen: undefined }
  }

  function add(
    person: Omit<DraftPerson, 'key' | 'productCode' | 'units' | 'amountFen'>,
    productCode?: string
  ): void {
    // A family usually takes the same product: a new person starts on the first person's.
    const code = productCode ?? people.value[0]?.productCode ?? catalogue.value?.products[0]?.code ?? ''
    people.value.push({ ...person, key: nextKey++, productCode: code, ...defaultsFor(code) })
    void requote()
  }

  /**
   * A new order for the cardholder: themselves on `selfProduct`, or on the first product when it is
   * not given; `null` when no product is open to them (the clerk adds relatives, or reads why).
   */
  async function start(holder: CardholderView, selfProduct?: string | null): Promise<boolean> {
    reset()
    cardholder.value = holder
    const result = await api.call('sale.catalogue', { accountId: holder.accountId })
    if (!result.ok) {
      error.value = result.error
      return false
    }
    catalogue.value = result.value
    if (selfProduct === null) return true
    add(
      {
        relation: 'self',
        label: holder.nameMasked,
        idNumber: '',
        name: '',
        proofSeen: false,
        enrolmentConfirmed: false
      },
      selfProduct
    )
    return true
  }

  /**
   * A new order that pays the next yearly instalment of a policy on the cardholder's panel (the
   * holder's or a bound relative's): false when it is not payable now or the catalogue is refused.
   */
  async function startInstalment(holder: CardholderView, holding: HoldingView): Promise<boolean> {
    const due = holding.instalment
    if (!due || !instalmentPayable(due.status) || holding.relation === null) return false
    if (!(await start(holder, null))) return false
    people.value.push({
      key: nextKey++,
      relation: holding.relation,
      label: holding.insuredNameMasked ?? '',
      idNumber: '',
      name: '',
      proofSeen: false,
      enrolmentConfirmed: false,
      productCode: holding.productCode,
      units: holding.units ?? 1,
      instalmentOf: due.policyRef
    })
    await requote()
    return true
  }

  function addSelf(): void {
    if (!cardholder.value || people.value.some((p) => p.relation === 'self')) return
    add({
      relation: 'self',
      label: cardholder.value.nameMasked,
      idNumber: '',
      name: '',
      proofSeen: false,
      enrolmentConfirmed: false
    })
  }

  function addMember(memberId: number): void {
    const member = catalogue.value?.family.find((m) => m.memberId === memberId)
    if (!member || people.value.some((p) => p.memberId === memberId)) return
    add({
      relation: member.relation,
      memberId,
      label: member.nameMasked,
      idNumber: '',
      name: '',
      proofSeen: false,
      enrolmentConfirmed: false
    })
  }

  function addRelative(relative: {
    relation: InsuredRelation
    idNumber: string
    name: string
    proofSeen: boolean
    enrolmentConfirmed: boolean
  }): void {
    // Shown masked like every other name on screen; the full name goes only to the sale.
    add({ ...relative, label: maskName(relative.name) })
  }

  function remove(key: number): void {
    people.value = people.value.filter((p) => p.key !== key)
    void requote()
  }

  function change(key: number, patch: Partial<Omit<DraftPerson, 'key'>>): void {
    const person = people.value.find((p) => p.key === key)
    if (!person) return
    Object.assign(person, patch)
    if (patch.productCode !== undefined) Object.assign(person, defaultsFor(patch.productCode))
    void requote()
  }

  function next(): boolean {
    if (step.value === 'order' && canConfirm.value) step.value = 'confirm'
    else if (step.value === 'confirm' && canPay.value) {
      step.value = 'pay'
      presented.value = null
      void beginPayment()
    } else return false
    error.value = null
    return true
  }

  /** Esc: one step back, nothing entered is lost. False when already at the first step. */
  function back(): boolean {
    if (step.value === 'pay') {
      step.value = 'confirm'
      presented.value = null
    } else if (step.value === 'confirm') step.value = 'order'
    else return false
    error.value = null
    return true
  }

  /**
   * The pay step begins: a sale id of its own and the centre's key the password is sealed to. A new
   * one after every refusal, so a password typed for one attempt is never sent with another.
   */
  function beginPayment(): Promise<boolean> {
    const holder = cardholder.value
    if (!holder) return Promise.resolve(false)
    payment.value = null
    beginning = (async () => {
      const result = await api.call('sale.begin', { accountId: holder.accountId })
      if (!result.ok) {
        error.value = result.error
        return false
      }
      payment.value = result.value
      return true
    })()
    return beginning
  }

  /** What the payer shows at the pay step: the card again (read or, approved, typed) or an e-voucher. */
  function present(proof: PayerPresented | null): void {
    presented.value = proof
    error.value = null
  }

  /**
   * Pays: the card's password is sealed here to the centre with this sale's id, then the sale is
   * committed (and, online, authorized). The receipt exists only once the sale is committed; a
   * refusal by the centre keeps the order, starts a new payment and shows the centre's reason.
   */
  async function pay(pin: string | PinBlock | null): Promise<'paid' | 'refused' | 'failed'> {
    if (step.value !== 'pay' || busy.value || !cardholder.value || !signature.value || !presented.value)
      return 'failed'
    busy.value = true
    try {
      // The password may be typed before sale.begin has answered: it is sealed to what that answers.
      if (!payment.value && beginning) await beginning
      const begun = payment.value
      const proof = presented.value
      if (!begun || !proof) return 'failed'
      let method: Payment
      if (proof.kind === 'voucher') method = { method: 'voucher', voucherCode: proof.code }
      else {
        if (!begun.pinKey) {
          error.value = { code: 'PAYMENT_REFUSED', message: NO_PIN_KEY }
          return 'failed'
        }
        // Sealed already on the customer's screen, or typed here and sealed now.
        const sealed = typeof pin === 'object' && pin !== null ? pin : null
        if (!sealed && (typeof pin !== 'string' || !/^\d{6}$/.test(pin))) {
          error.value = { code: 'PAYMENT_REFUSED', message: '请持卡人输入 6 位社保卡密码' }
          return 'failed'
        }
        method = {
          method: 'card',
          entry: proof.kind,
          card: proof.card,
          pinBlock: sealed ?? (await sealPin(String(pin), begun.saleId, begun.pinKey)),
          ...(proof.kind === 'keyed' ? { approval: proof.approval } : {})
        }
      }
      const result = await api.call('sale.commit', {
        saleId: begun.saleId,
        order: orderOf(cardholder.value.accountId),
        payment: method,
        termsAcknowledged: true,
        warningsAcknowledged: warningsAcknowledged.value,
        signature: signature.value
      })
      // One more sale here: the status bar says so now, not at its next poll.
      useSyncStore().changed()
      if (!result.ok) {
        // The answer was lost on the way: the sale may be written. Sent again, the same id sells once.
        error.value =
          result.error.code === 'TRANSPORT'
            ? { code: 'TRANSPORT', message: PAYMENT_OUTCOME_UNKNOWN }
            : result.error
        if (result.error.code !== 'TRANSPORT') await beginPayment()
        return 'failed'
      }
      if (result.value.status === 'rejected') {
        // The centre said no with the customer here: nothing taken; the order stays, to change or pay again.
        const rejection = result.value.centreResult?.rejection
        error.value = {
          code: 'PAYMENT_REFUSED',
          message: `医保中心拒绝本次付款：${rejection?.message ?? '未说明原因'}`
        }
        rejectedSales.value = [...rejectedSales.value, result.value.saleId]
        await beginPayment()
        return 'refused'
      }
      receipt.value = result.value
      error.value = null
      step.value = 'done'
      return 'paid'
    } finally {
      busy.value = false
    }
  }

  function reset(): void {
    step.value = 'order'
    cardholder.value = null
    catalogue.value = null
    people.value = []
    applicantMobile.value = ''
    quote.value = null
    error.value = null
    termsAcknowledged.value = false
    warningsAcknowledged.value = false
    signature.value = null
    receipt.value = null
    payment.value = null
    presented.value = null
    rejectedSales.value = []
  }

  return {
    step,
    cardholder,
    catalogue,
    people,
    applicantMobile,
    quote,
    error,
    termsAcknowledged,
    warningsAcknowledged,
    warnings,
    signature,
    busy,
    receipt,
    payment,
    presented,
    rejectedSales,
    canConfirm,
    canPay,
    start,
    startInstalment,
    addSelf,
    addMember,
    addRelative,
    remove,
    change,
    requote,
    setApplicantMobile,
    next,
    back,
    beginPayment,
    present,
    pay,
    reset
  }
})
