import type { AppErrorShape } from '@core/errors'

/**
 * The dispatcher names a refused argument ("参数 pin 不正确：密码应为 6–12 位数字"): which of a
 * form's fields it was, and the contract's own words without the internal name, to show under
 * that field. Null for anything else (a service's refusal), which the form shows above its buttons.
 */
export function fieldError<F extends string>(
  error: AppErrorShape | null,
  fields: readonly F[]
): { readonly field: F; readonly message: string } | null {
  const match = error?.code === 'INVALID_ARGUMENT' ? /^参数 (\w+) 不正确：(.+)$/s.exec(error.message) : null
  const field = fields.find((name) => name === match?.[1])
  return match && field ? { field, message: match[2] } : null
}
