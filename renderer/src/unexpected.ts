import { ElMessage } from 'element-plus'
import type { App } from 'vue'
import { i18n } from './i18n'
import { playCue } from './reader/cue'

/**
 * The net under every key, swipe and click: work that fails in a way no screen foresaw is shown
 * (a message) and heard (the error cue), never left as an unhandled rejection that does nothing.
 * The error itself stays out of sight and out of the console's text: it may carry anything.
 */
export function reportUnexpected(error: unknown): void {
  console.error('unexpected_failure', error instanceof Error ? error.name : typeof error)
  ElMessage({ type: 'error', message: i18n.global.t('app.unexpectedFailure'), grouping: true })
  playCue('error')
}

/** Starts work from a key or a swipe without waiting for it; a failure is reported as above. */
export function startAction(work: () => unknown): void {
  try {
    const outcome = work()
    if (outcome instanceof Promise) outcome.catch(reportUnexpected)
  } catch (error) {
    reportUnexpected(error)
  }
}

/**
 * The same net for the whole app: a handler bound in a template (Enter in a field, a button) that
 * throws or rejects, and any promise nobody awaited.
 */
export function installFailureNet(app: App, win: Window): void {
  app.config.errorHandler = reportUnexpected
  win.addEventListener('unhandledrejection', (event) => {
    event.preventDefault()
    reportUnexpected(event.reason)
  })
}
