/**
 * For a screen that asks again while an earlier answer is still on its way (a filter changed, a
 * scope switched): only the newest request's answer is applied, so a slow earlier one can never
 * land last and show what the operator no longer asked for.
 */
export function newestOnly(): <T>(request: () => Promise<T>, apply: (answer: T) => void) => Promise<boolean> {
  let latest = 0
  return async (request, apply) => {
    const mine = ++latest
    const answer = await request()
    if (mine !== latest) return false
    apply(answer)
    return true
  }
}
