/**
 * A structured log line per event. Fields are codes, call names and counts: never an ID number,
 * a name or a card number, so a log file can be handed to support as it is.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null>>

export interface Logger {
  info(event: string, fields?: LogFields): void
  error(event: string, fields?: LogFields): void
}

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
