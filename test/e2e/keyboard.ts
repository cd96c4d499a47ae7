import type { CDPSession, Page } from 'playwright-core'

/**
 * Real key events through the Chrome DevTools Protocol, paced in real time, so the page sees what a
 * keyboard-wedge reader produces: trusted keydown events with `code` and their own time stamps.
 */

interface KeySpec {
  key: string
  code: string
  keyCode: number
  text?: string
  shift?: boolean
}

function specFor(char: string): KeySpec {
  if (/\d/.test(char)) return { key: char, code: `Digit${char}`, keyCode: 48 + Number(char), text: char }
  if (/[A-Z]/.test(char))
    return { key: char, code: `Key${char}`, keyCode: char.charCodeAt(0), text: char, shift: true }
  if (/[a-z]/.test(char))
    return {
      key: char,
      code: `Key${char.toUpperCase()}`,
      keyCode: char.toUpperCase().charCodeAt(0),
      text: char
    }
  const symbols: Record<string, KeySpec> = {
    ';': { key: ';', code: 'Semicolon', keyCode: 186, text: ';' },
    '=': { key: '=', code: 'Equal', keyCode: 187, text: '=' },
    '-': { key: '-', code: 'Minus', keyCode: 189, text: '-' },
    '?': { key: '?', code: 'Slash', keyCode: 191, text: '?', shift: true }
  }
  const spec = symbols[char]
  if (!spec) throw new Error(`no key for ${char}`)
  return spec
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function press(cdp: CDPSession, spec: KeySpec, ime: boolean): Promise<void> {
  const modifiers = spec.shift ? 8 : 0
  if (ime) {
    // What Chromium sees with Microsoft Pinyin or Sogou on: key "Process", keyCode 229, the physical
    // key in `code`, and no text of its own (the input method decides what text, if any, results).
    await cdp.send('Input.dispatchKeyEvent', {
      type: 'rawKeyDown',
      key: 'Process',
      code: spec.code,
      windowsVirtualKeyCode: 229,
      modifiers
    })
    await cdp.send('Input.dispatchKeyEvent', {
      type: 'keyUp',
      key: 'Process',
      code: spec.code,
      windowsVirtualKeyCode: 229,
      modifiers
    })
    return
  }
  await cdp.send('Input.dispatchKeyEvent', {
    type: spec.text ? 'keyDown' : 'rawKeyDown',
    key: spec.key,
    code: spec.code,
    windowsVirtualKeyCode: spec.keyCode,
    text: spec.text,
    unmodifiedText: spec.text,
    modifiers
  })
  await cdp.send('Input.dispatchKeyEvent', {
    type: 'keyUp',
    key: spec.key,
    code: spec.code,
    windowsVirtualKeyCode: spec.keyCode,
    modifiers
  })
}

export interface TypeOptions {
  /** Pause before each key after the first, ms. */
  gapMs: number
  ime?: boolean
  /** Key sent at the end, if any. */
  suffix?: 'Enter' | 'Tab' | null
}

export async function typeKeys(page: Page, text: string, options: TypeOptions): Promise<void> {
  await settle(page)
  const cdp = await page.context().newCDPSession(page)
  try {
    for (const [index, char] of [...text].entries()) {
      if (index > 0) await sleep(options.gapMs)
      await press(cdp, specFor(char), options.ime ?? false)
    }
    if (options.suffix) {
      await sleep(options.gapMs)
      const spec: KeySpec =
        options.suffix === 'Enter'
          ? { key: 'Enter', code: 'Enter', keyCode: 13, text: '\r' }
          : { key: 'Tab', code: 'Tab', keyCode: 9 }
      await press(cdp, spec, options.ime === true && options.suffix === 'Enter')
    }
  } finally {
    await cdp.detach()
  }
}

/** A keyboard-wedge reader: about 8 ms a key, then Enter. */
export const swipeCard = (page: Page, text: string, ime = false) =>
  typeKeys(page, text, { gapMs: 8, ime, suffix: 'Enter' })

/** A key pressed by the clerk once the page has gone quiet (F2, Esc, F4 …). */
export async function pressKey(page: Page, key: string): Promise<void> {
  await settle(page)
  await page.keyboard.press(key)
}

/** A customer's PIN pad: digits as fast as a reader's, then Enter, into the focused password field. */
export const pinPad = (page: Page, digits: string) => typeKeys(page, digits, { gapMs: 8, suffix: 'Enter' })

/**
 * Waits until the page has rendered and gone quiet. DevTools key events are delivered one at a time
 * through the page's main thread, so a page still busy rendering would stretch the gaps between keys,
 * which a real reader's events (time-stamped by the operating system) never suffer.
 */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(
    'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 100))))'
  )
}
