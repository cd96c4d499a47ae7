import type { CardholderView } from '@core/cardholder'
import type { AppErrorShape } from '@core/errors'
import type { InsuredRelation } from '@core/rules/bundle'
import type { CatalogueView, DraftLine, QuoteView, ReceiptView, Signature } from '@core/sale'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '../api/client'
import { newestOnly } from '../newest-only'
import { useSyncStore } from './sync'

export type SaleStep = 'order' | 'confirm' | 'pay' | 'done'

export const PAYMENT_OUTCOME_UNKNOWN =
  '收款结果未知：柜台界面与本机服务的通讯中断。请先在"交易查询"中查看这张卡今天的交易，确认没有这笔记录后再重新刷卡。'
export const SALE_STEPS: readonly SaleStep[] = ['order', 'confirm', 'pay', 'done']

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
  const quote = ref<QuoteView | null>(null)
  const error = ref<AppErrorShape | null>(null)
  const termsAcknowledged = ref(false)
  const signature = ref<Signature | null>(null)
  const busy = ref(false)
  const receipt = ref<ReceiptView | null>(null)
  let nextKey = 1
  /** Quotes in flight as the clerk edits: only the newest edit's quote is shown. */
  const newestQuote = newestOnly()

  const canConfirm = computed(() => quote.value?.ok === true && people.value.length > 0)
  const canPay = computed(() => canConfirm.value && termsAcknowledged.value && signature.value !== null)

  function linesOf(): DraftLine[] {
    return people.value.map((person) => ({
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
    }))
  }

  async function requote(): Promise<void> {
    if (!cardholder.value || people.value.length === 0) {
      quote.value = null
      return
    }
    const order = { accountId: cardholder.value.accountId, lines: linesOf() }
    await newestQuote(
      () => api.call('sale.quote', order),
      (result) => {
        quote.value = result.ok ? result.value : null
        error.value = result.ok ? null : result.error
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

  async function start(holder: CardholderView, selfProduct?: string): Promise<boolean> {
    reset()
    cardholder.value = holder
    const result = await api.call('sale.catalogue', { accountId: holder.accountId })
    if (!result.ok) {
      error.value = result.error
      return false
    }
    catalogue.value = result.value
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
    add({ ...relative, label: relative.name })
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
    else if (step.value === 'confirm' && canPay.value) step.value = 'pay'
    else return false
    error.value = null
    return true
  }

  /** Esc: one step back, nothing entered is lost. False when already at the first step. */
  function back(): boolean {
    if (step.value === 'pay') step.value = 'confirm'
    else if (step.value === 'confirm') step.value = 'order'
    else return false
    error.value = null
    return true
  }

  /** The second swipe. The receipt exists only once the sale is committed. */
  async function pay(paymentCard: string): Promise<boolean> {
    if (step.value !== 'pay' || busy.value || !cardholder.value || !signature.value) return false
    busy.value = true
    try {
      const result = await api.call('sale.commit', {
        order: { accountId: cardholder.value.accountId, lines: linesOf() },
        paymentCard,
        termsAcknowledged: true,
        signature: signature.value
      })
      if (!result.ok) {
        // The answer was lost on the way: the sale may be written. A second swipe would sell again.
        error.value =
          result.error.code === 'TRANSPORT'
            ? { code: 'TRANSPORT', message: PAYMENT_OUTCOME_UNKNOWN }
            : result.error
        return false
      }
      receipt.value = result.value
      error.value = null
      step.value = 'done'
      // One more in the upload queue: the status bar says so now, not at its next poll.
      useSyncStore().changed()
      return true
    } finally {
      busy.value = false
    }
  }

  function reset(): void {
    step.value = 'order'
    cardholder.value = null
    catalogue.value = null
    people.value = []
    quote.value = null
    error.value = null
    termsAcknowledged.value = false
    signature.value = null
    receipt.value = null
  }

  return {
    step,
    cardholder,
    catalogue,
    people,
    quote,
    error,
    termsAcknowledged,
    signature,
    busy,
    receipt,
    canConfirm,
    canPay,
    start,
    addSelf,
    addMember,
    addRelative,
    remove,
    change,
    requote,
    next,
    back,
    pay,
    reset
  }
})
