import type { SessionView } from '@core/operators'
import type { AppErrorShape } from '@core/errors'
import { useReaderStore } from './reader'
import { useCounterStore } from './counter'
import { useSaleStore } from './sale'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, setSessionToken } from '../api/client'

/** The signed-in operator and their shift. The token lives in memory only: a reload signs out. */
export const useAuthStore = defineStore('auth', () => {
  const session = ref<SessionView | null>(null)
  const signedIn = computed(() => session.value !== null)
  const isSupervisor = computed(() => session.value?.operator.role === 'supervisor')
  /** Whose session ended for idleness: the customer and order left on screen are theirs alone. */
  let endedFor: string | null = null
  /** The last sign-in may go back to where the screen was: the same operator, or nothing left behind. */
  const resumable = ref(true)

  async function signIn(operatorCode: string, pin: string): Promise<AppErrorShape | null> {
    const result = await api.call('auth.signIn', { operatorCode, pin })
    if (!result.ok) return result.error
    setSessionToken(result.value.token)
    session.value = result.value
    // Another operator at an idle counter never carries on the last one's customer or order.
    resumable.value = endedFor === null || endedFor === result.value.operator.code
    if (!resumable.value) {
      useCounterStore().forget()
      useSaleStore().reset()
    }
    endedFor = null
    return null
  }

  /** The first supervisor of a centre's folder, signed in at once. */
  async function setUp(operatorCode: string, name: string, pin: string): Promise<AppErrorShape | null> {
    const result = await api.call('auth.setUp', { operatorCode, name, pin })
    if (!result.ok) return result.error
    setSessionToken(result.value.token)
    session.value = result.value
    return null
  }

  async function changePin(currentPin: string, newPin: string): Promise<AppErrorShape | null> {
    const result = await api.call('auth.changePin', { currentPin, newPin })
    if (!result.ok) return result.error
    session.value = result.value
    return null
  }

  async function openShift(): Promise<AppErrorShape | null> {
    const result = await api.call('auth.openShift', {})
    if (!result.ok) return result.error
    if (session.value) session.value = { ...session.value, shift: result.value }
    return null
  }

  /** 交班 of the operator's own shift, confirmed by a supervisor at the counter: the shift ends with its report. */
  async function handOver(
    supervisorCode: string,
    supervisorPin: string
  ): Promise<{ error: AppErrorShape } | { number: number }> {
    const result = await api.call('report.handOver', { supervisorCode, supervisorPin })
    if (!result.ok) return { error: result.error }
    if (session.value) session.value = { ...session.value, shift: null }
    return { number: result.value.number }
  }

  /** The backend ended the session (idle too long): forget it here too, the PIN is asked again. */
  function ended(): void {
    endedFor = session.value?.operator.code ?? endedFor
    setSessionToken(undefined)
    session.value = null
    useReaderStore().forget()
  }

  async function signOut(): Promise<void> {
    await api.call('auth.signOut', {})
    setSessionToken(undefined)
    session.value = null
    useReaderStore().forget()
  }

  return {
    session,
    signedIn,
    isSupervisor,
    resumable,
    signIn,
    setUp,
    changePin,
    openShift,
    handOver,
    signOut,
    ended
  }
})
