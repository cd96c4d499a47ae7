import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../core/errors'
import { errorText, i18n, setLocale } from '../../renderer/src/i18n'

describe('every refusal has words', () => {
  it('in English each error code has its translation; in Chinese the service’s own sentence is shown, never the code', () => {
    const { te } = i18n.global
    const missing = ERROR_CODES.filter((code) => !te(`errors.${code}`, 'en'))
    expect(missing).toEqual([])
    setLocale('zh-CN')
    expect(errorText({ code: 'PRINT_FAILED', message: '打印没有完成：请检查打印机' })).toBe(
      '打印没有完成：请检查打印机'
    )
    setLocale('en')
    expect(errorText({ code: 'PRINT_FAILED', message: '打印没有完成' })).toBe(
      'The receipt did not print. (打印没有完成)'
    )
    setLocale('zh-CN')
  })
})
