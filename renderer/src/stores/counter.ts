import type { CardholderView } from '@core/cardholder'
import type { EligibilityView } from '@core/eligibility'
import type { AppErrorShape } from '@core/errors'
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '../api/client'

/**
 * The counter screen's state: the cardholder on screen and the last refusal. A refused read
 * (malformed, unknown) leaves the cardholder on screen as it was: bad input changes nothing.
 */
export const useCounterStore = defineStore('counter', () => {
  const cardholder = ref<CardholderView | null>(null)
  /** What the cardholder may buy for themselves, from the rule engine; null while unknown. */
  const eligibility = ref<EligibilityView | null>(null)
  const eligibilityError = ref<AppErrorShape | null>(null)
  const error = ref<AppErrorShape | null>(null)
  const busy = ref(false)

  /** Resolves true when a cardholder was found and is now on screen. */
  async function lookup(input: string): Promise<boolean> {
    if (busy.value) return false
    busy.value = true
    try {
      const result = await api.call('cardholder.lookup', { input })
      if (!result.ok) {
        // A failed read leaves no earlier customer on screen who could be sold to by mistake.
        forget()
        error.value = result.error
        return false
      }
      const offers = await api.call('eligibility.offers', { accountId: result.value.accountId })
      // The cardholder and their decision appear together: never a new name beside the last one's offers.
      cardholder.value = result.value
      error.value = null
      eligibility.value = offers.ok ? offers.value : null
      eligibilityError.value = offers.ok ? null : offers.error
      return true
    } finally {
      busy.value = false
    }
  }

  /** A read the reader itself got wrong (cut short): said like a malformed number; the screen is cleared. */
  function reportBadRead(reason: string): void {
    forget()
    error.value = { code: 'CARD_MALFORMED', message: reason }
  }

  /** After a sale: the next customer starts from a clean screen, and this one's figures have changed anyway. */
  function forget(): void {
    cardholder.value = null
    eligibility.value = null
    eligibilityError.value = null
    error.value = null
  }

  return {
    cardholder,
    eligibility,
    eligibilityError,
    error,
    busy,
    lookup,
    reportBadRead,
    forget
  }
})
