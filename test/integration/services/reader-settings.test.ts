import { describe, expect, it } from 'vitest'
import { DEFAULT_READER_SETTINGS } from '../../../core/reader/settings'
import { fixedClock } from '../../../core/time'
import { openCounterRuntime } from '../../../backend/runtime'
import { openTestRuntime, recordingLogger, signedIn, tempDir } from '../../support/helpers'

const context = { transport: 'test' } as const

describe('reader settings of this terminal', () => {
  it('starts from the defaults', async () => {
    const runtime = await openTestRuntime()
    expect(await runtime.dispatch('reader.getSettings', {}, context)).toEqual({
      ok: true,
      value: DEFAULT_READER_SETTINGS
    })
  })

  it('keeps what a technician saved across a restart', async () => {
    const dataDir = await tempDir()
    const slowScanner = {
      ...DEFAULT_READER_SETTINGS,
      maxTypicalGapMs: 100,
      maxKeyGapMs: 200,
      suffixKeys: ['Enter' as const]
    }
    const first = await openCounterRuntime({
      dataDir,
      clock: fixedClock('2026-11-22T02:30:00Z'),
      log: recordingLogger(),
      appVersion: 't'
    })
    expect(await first.dispatch('reader.saveSettings', slowScanner, context)).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' }
    })
    expect(await first.dispatch('reader.saveSettings', slowScanner, await signedIn(first))).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' }
    })
    expect(
      await first.dispatch('reader.saveSettings', slowScanner, await signedIn(first, 'supervisor'))
    ).toEqual({ ok: true, value: slowScanner })
    await first.close()
    const second = await openTestRuntime({ dataDir })
    expect(await second.dispatch('reader.getSettings', {}, context)).toEqual({ ok: true, value: slowScanner })
  })

  it('refuses settings out of range, naming the field, and keeps the old ones', async () => {
    const runtime = await openTestRuntime()
    const result = await runtime.dispatch(
      'reader.saveSettings',
      { ...DEFAULT_READER_SETTINGS, maxKeyGapMs: 5 },
      await signedIn(runtime, 'supervisor')
    )
    expect(result).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('按键最大间隔'),
        field: { path: 'maxKeyGapMs' }
      }
    })
    expect(await runtime.dispatch('reader.getSettings', {}, context)).toEqual({
      ok: true,
      value: DEFAULT_READER_SETTINGS
    })
  })

  it('falls back to the defaults when what is stored no longer fits, and says so in the log', async () => {
    const log = recordingLogger()
    const runtime = await openTestRuntime({ log })
    await runtime.db('settings').insert({ key: 'reader', value: JSON.stringify({ maxKeyGapMs: 'fast' }) })
    expect(await runtime.dispatch('reader.getSettings', {}, context)).toEqual({
      ok: true,
      value: DEFAULT_READER_SETTINGS
    })
    expect(
      log.lines.some(
        (line) => line.includes('terminal_settings_unreadable') && line.includes('"key":"reader"')
      )
    ).toBe(true)
  })

  it('printer settings too: stored ones that no longer fit give way to the defaults, and the log says which', async () => {
    const log = recordingLogger()
    const runtime = await openTestRuntime({ log })
    const supervisor = await signedIn(runtime, 'supervisor')
    await runtime.db('settings').insert({ key: 'printer', value: JSON.stringify({ receiptPrinter: 7 }) })
    expect(await runtime.dispatch('printer.getSettings', {}, supervisor)).toEqual({
      ok: true,
      value: { receiptPrinter: null, a4Printer: null, autoPrintReceipt: false, officeStub: false }
    })
    expect(
      log.lines.some(
        (line) => line.includes('terminal_settings_unreadable') && line.includes('"key":"printer"')
      )
    ).toBe(true)
    const saved = {
      receiptPrinter: 'EPSON_TM_T82',
      a4Printer: null,
      autoPrintReceipt: true,
      officeStub: true
    }
    expect(await runtime.dispatch('printer.saveSettings', saved, supervisor)).toEqual({
      ok: true,
      value: saved
    })
    expect(await runtime.dispatch('printer.getSettings', {}, supervisor)).toEqual({ ok: true, value: saved })
    // A name no printer has: refused, naming the field; nothing changes.
    expect(
      await runtime.dispatch(
        'printer.saveSettings',
        { ...saved, receiptPrinter: 'x'.repeat(201) },
        supervisor
      )
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(await runtime.dispatch('printer.getSettings', {}, supervisor)).toEqual({ ok: true, value: saved })
  })
})
