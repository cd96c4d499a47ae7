/**
 * The app's time on screen: the service's clock. Normally this machine's; in browser mode a demo
 * may set another (COUNTER_TIME), and dates on screen (today, a relative's age, the header clock)
 * follow it rather than the browser's.
 */
let offsetMs = 0

export function appNow(): Date {
  return new Date(Date.now() + offsetMs)
}

/** From `app.info`: a demo clock shifts the screens by its offset; otherwise none (no drift from a slow answer). */
export function followServiceClock(serviceNow: string, demoClock: boolean): void {
  offsetMs = demoClock ? Date.parse(serviceNow) - Date.now() : 0
}
