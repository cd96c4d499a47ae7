import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startCardReader, stopCardReader } from '../../renderer/src/reader/card-reader'
import { useReaderStore } from '../../renderer/src/stores/reader'
import { until } from '../support/wait'

/** Keys as fast as a reader's (or a PIN pad's), each with its own time stamp, then Enter. */
function fastKeys(text: string): void {
  let at = performance.now()
  const send = (key: string, code: string) => {
    const event = new KeyboardEvent('keydown', { key, code, bubbles: true, cancelable: true })
    Object.defineProperty(event, 'timeStamp', { value: (at += 5) })
    window.dispatchEvent(event)
  }
  for (const char of text) send(char, /\d/.test(char) ? `Digit${char}` : `Key${char}`)
  send('Enter', 'Enter')
}

function field(type: 'password'): HTMLInputElement {
  const input = document.createElement('input')
  input.type = type
  document.body.append(input)
  input.focus()
  return input
}

beforeEach(() => {
  // happy-dom has no execCommand, which the reader uses to give a field its keys back.
  Object.defineProperty(document, 'execCommand', { value: () => true, configurable: true })
  setActivePinia(createPinia())
  const store = useReaderStore()
  startCardReader(window, { unwanted: () => undefined, badRead: () => undefined, trace: store.record })
})
afterEach(() => {
  stopCardReader()
  document.body.innerHTML = ''
})

describe('the reader test trace', () => {
  it('records nothing unless a test runs, and never what was typed into a password field', async () => {
    const store = useReaderStore()
    fastKeys('A53000001')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(store.traces).toEqual([])

    store.startRecording()
    field('password')
    fastKeys('111111')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(store.traces).toEqual([])
    ;(document.activeElement as HTMLElement | null)?.blur()
    fastKeys('A53000001')
    await until(() => expect(store.traces).toHaveLength(1))
    expect(JSON.stringify(store.traces)).not.toContain('111111')
  })

  it('is cleared and stops at sign-out, for the next operator', async () => {
    const store = useReaderStore()
    store.startRecording()
    fastKeys('A53000001')
    await until(() => expect(store.traces).toHaveLength(1))
    store.forget()
    expect(store.traces).toEqual([])
    expect(store.recording).toBe(false)
  })
})
