/**
 * Every failure the renderer can see has a stable code and a Chinese message for the clerk.
 * Codes are part of the API contract: the UI, the CLI and tests match on them, never on text.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNKNOWN_CALL',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'AUTH_FAILED',
  'AUTH_LOCKED',
  'NO_SHIFT',
  'CARD_MALFORMED',
  'CARD_NOT_FOUND',
  'E_VOUCHER_OFFLINE',
  'RULES_UNAVAILABLE',
  'RULES_REFUSED',
  'SALE_REFUSED',
  'SALE_NOT_FOUND',
  'PAYMENT_CARD_MISMATCH',
  /** The payment was not taken: a voucher offline, a sale id used for another order, a scan that is no voucher. */
  'PAYMENT_REFUSED',
  /** The pay step must start again (restart, timeout, a new centre key): swipe and type the password again. */
  'PAYMENT_EXPIRED',
  /** A card or ID number typed at the pay step needs a supervisor's code and PIN. */
  'APPROVAL_REQUIRED',
  'VOID_REFUSED',
  /** A cooling-off cancellation that cannot be made (period over, not accepted, already cancelled). */
  'CANCEL_REFUSED',
  /** A day or shift close refused: a future date, or nothing left to close. */
  'CLOSE_REFUSED',
  /** No close report with that number on this terminal. */
  'CLOSE_NOT_FOUND',
  /** A snapshot (download or file) failed a check; the previous snapshot stays in use. */
  'SNAPSHOT_REFUSED',
  /** The centre could not be reached or answered with an error; nothing changed here. */
  'SYNC_FAILED',
  /** The terminal has not been registered with the centre yet. */
  'NOT_REGISTERED',
  /** A queue export or sync package file is broken, tampered with, or for another terminal. */
  'FILE_REFUSED',
  /** The key that protects personal data at rest is missing or does not fit this database. */
  'PERSONAL_DATA_KEY',
  /** The installation's trusted-keys file is missing, broken or names a key that is not Ed25519. */
  'TRUST_FILE_INVALID',
  /** The operator must choose a new PIN before doing anything else (new or reset PIN). */
  'PIN_CHANGE_REQUIRED',
  /** The printer did not take the job (missing, off, out of paper) or the operator cancelled. */
  'PRINT_FAILED',
  'TRANSPORT',
  'INTERNAL'
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface AppErrorShape {
  readonly code: ErrorCode
  /** Chinese, shown to the operator as it is. Never contains a full ID number or name. */
  readonly message: string
  /**
   * An argument the contract refused (INVALID_ARGUMENT): where it is in the call's arguments
   * ("pin", "order.lines.0.units") and the contract's words for it without that internal name,
   * for a form to show under the field. Absent for every other refusal.
   */
  readonly field?: { readonly path: string; readonly message: string }
}

/** Thrown by services for an expected refusal; the dispatcher turns it into `{ ok: false }`. */
export class AppError extends Error implements AppErrorShape {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'AppError'
    this.code = code
  }

  toShape(): AppErrorShape {
    return { code: this.code, message: this.message }
  }
}

export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AppErrorShape }

export function ok<T>(value: T): Result<T> {
  return { ok: true, value }
}

export function fail(code: ErrorCode, message: string, field?: AppErrorShape['field']): Result<never> {
  return { ok: false, error: field ? { code, message, field } : { code, message } }
}
