import type { AppErrorShape } from '@core/errors'

/**
 * Which of a form's fields a refused argument was (the dispatcher says it in `error.field`), with
 * the contract's own words for it, to show under that field. Null for anything else (a service's
 * refusal, or an argument the form has no field for), which the form shows above its buttons.
 */
export function fieldError<F extends string>(
  error: AppErrorShape | null,
  fields: readonly F[]
): { readonly field: F; readonly message: string } | null {
  const refused = error?.code === 'INVALID_ARGUMENT' ? error.field : undefined
  const field = fields.find((name) => name === refused?.path)
  return refused && field ? { field, message: refused.message } : null
}
