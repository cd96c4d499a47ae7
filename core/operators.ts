/** Who works the counter. A clerk sells at a service hall, an agent on home visits, a supervisor approves and closes. */
export const ROLES = ['clerk', 'agent', 'supervisor'] as const
export type Role = (typeof ROLES)[number]

export interface OperatorView {
  readonly code: string
  readonly name: string
  readonly role: Role
}

export interface ShiftView {
  readonly id: number
  readonly openedAt: string
  readonly operatorCode: string
}

export interface SessionView {
  readonly token: string
  readonly operator: OperatorView
  /** The operator's open shift on this terminal, or null until one is opened. */
  readonly shift: ShiftView | null
  readonly terminalId: string
  /** The PIN was set by someone else: nothing but changing it is allowed until it is changed. */
  readonly pinChangeRequired: boolean
}

/** Six to twelve digits: typed on the numeric keypad, never a word. */
export const PIN_PATTERN = /^\d{6,12}$/

/**
 * A PIN anyone would try first: one digit repeated (000000, 111111) or a straight run up or down
 * (123456, 654321). Refused when a supervisor sets one; the demo seed's are for demos only.
 */
export function isTrivialPin(pin: string): boolean {
  const digits = [...pin].map(Number)
  const steps = new Set(digits.slice(1).map((digit, i) => digit - digits[i]))
  return steps.size === 1 && [0, 1, -1].includes([...steps][0])
}
