import type { LogFields, Logger } from '../../core/log'

export type { LogFields, Logger } from '../../core/log'

/** One JSON line per event, with its time and level (see core/log.ts for what a line may carry). */
export function createLogger(write: (line: string) => void): Logger {
  const emit = (level: 'info' | 'error', event: string, fields: LogFields = {}) =>
    write(JSON.stringify({ at: new Date().toISOString(), level, event, ...fields }))
  return {
    info: (event, fields) => emit('info', event, fields),
    error: (event, fields) => emit('error', event, fields)
  }
}

export const stderrLogger = createLogger((line) => process.stderr.write(`${line}\n`))

export const silentLogger: Logger = { info: () => {}, error: () => {} }
