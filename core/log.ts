/**
 * A structured log line per event. Fields are codes, call names and counts: never an ID number,
 * a name or a card number, so a log file can be handed to support as it is. The writers live with
 * the shells (backend/services/log.ts); this is what every layer that logs is handed.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null>>

export interface Logger {
  info(event: string, fields?: LogFields): void
  error(event: string, fields?: LogFields): void
}
