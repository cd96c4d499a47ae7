import type { Knex } from 'knex'
import type { Role } from '../../core/operators'
import type { PersonalDataCipher } from '../personal-data'
import { appendAudit } from '../record-chain'

export interface OperatorRecord {
  readonly id: number
  readonly code: string
  readonly name: string
  readonly role: Role
  readonly pinHash: string
  readonly active: boolean
  /** The PIN was set by someone else (new operator, reset): it must be changed at the next sign-in. */
  readonly pinChangeRequired: boolean
}

export interface ShiftRecord {
  readonly id: number
  readonly operatorId: number
  readonly terminalId: string
  readonly openedAt: string
}

export interface OperatorsRepository {
  findByCode(code: string): Promise<OperatorRecord | null>
  findById(id: number): Promise<OperatorRecord | null>
  count(): Promise<number>
  /** With an audit line: both written in one transaction, so no operator appears without it. */
  create(
    operator: {
      code: string
      name: string
      role: Role
      pinHash: string
      createdAt: string
      pinChangeRequired?: boolean
    },
    audit?: {
      at: string
      operatorId: number | null
      action: string
      subject: string
      details?: Record<string, unknown>
    }
  ): Promise<number>
  openShift(operatorId: number, terminalId: string, at: string): Promise<ShiftRecord>
  openShiftOf(operatorId: number, terminalId: string): Promise<ShiftRecord | null>
  audit(entry: {
    at: string
    operatorId: number | null
    action: string
    subject?: string
    details?: Record<string, unknown>
  }): Promise<void>
  /** Every operator, by code, with when they were created (the PIN hash stays out of it). */
  list(): Promise<
    Array<Omit<OperatorRecord, 'pinHash' | 'pinChangeRequired'> & { readonly createdAt: string }>
  >
  /** Changes the operator and writes the audit line in one transaction. */
  setActive(
    id: number,
    active: boolean,
    audit: { at: string; operatorId: number; action: string; subject: string }
  ): Promise<void>
  /** `mustChange`: a PIN someone else chose (a reset); false when the operator chose it. */
  setPinHash(
    id: number,
    pinHash: string,
    audit: { at: string; operatorId: number; action: string; subject: string },
    mustChange: boolean
  ): Promise<void>
  activeSupervisorCount(): Promise<number>
}

type OperatorRow = {
  id: number
  code: string
  name: string
  role: Role
  pin_hash: string
  active: number | boolean
  pin_change_required: number | boolean
}
type ShiftRow = { id: number; operator_id: number; terminal_id: string; opened_at: string }

const toOperator = (row: OperatorRow): OperatorRecord => ({
  id: row.id,
  code: row.code,
  name: row.name,
  role: row.role,
  pinHash: row.pin_hash,
  active: Boolean(row.active),
  pinChangeRequired: Boolean(row.pin_change_required)
})
const toShift = (row: ShiftRow): ShiftRecord => ({
  id: row.id,
  operatorId: row.operator_id,
  terminalId: row.terminal_id,
  openedAt: row.opened_at
})

export function createOperatorsRepository(db: Knex, cipher: PersonalDataCipher): OperatorsRepository {
  return {
    async findByCode(code) {
      const row = await db('operators').where({ code }).first<OperatorRow | undefined>()
      return row ? toOperator(row) : null
    },
    async findById(id) {
      const row = await db('operators').where({ id }).first<OperatorRow | undefined>()
      return row ? toOperator(row) : null
    },
    async count() {
      const [{ n }] = await db('operators').count<Array<{ n: number }>>({ n: '*' })
      return n
    },
    async create(operator, audit) {
      return db.transaction(async (trx) => {
        const [{ id }] = await trx('operators')
          .insert({
            code: operator.code,
            name: operator.name,
            role: operator.role,
            pin_hash: operator.pinHash,
            active: true,
            pin_change_required: operator.pinChangeRequired ?? false,
            created_at: operator.createdAt
          })
          .returning<Array<{ id: number }>>('id')
        if (audit) await appendAudit(trx, cipher, audit)
        return id
      })
    },
    async openShift(operatorId, terminalId, at) {
      const [{ id }] = await db('shifts')
        .insert({ operator_id: operatorId, terminal_id: terminalId, opened_at: at })
        .returning<Array<{ id: number }>>('id')
      return { id, operatorId, terminalId, openedAt: at }
    },
    async openShiftOf(operatorId, terminalId) {
      const row = await db('shifts')
        .where({ operator_id: operatorId, terminal_id: terminalId })
        .whereNull('closed_at')
        .orderBy('id', 'desc')
        .first<ShiftRow | undefined>()
      return row ? toShift(row) : null
    },
    async audit(entry) {
      await db.transaction((trx) => appendAudit(trx, cipher, entry))
    },
    async list() {
      const rows = await db('operators')
        .select<Array<OperatorRow & { created_at: string }>>(
          'id',
          'code',
          'name',
          'role',
          'active',
          'created_at'
        )
        .orderBy('code')
      return rows.map((row) => ({
        id: row.id,
        code: row.code,
        name: row.name,
        role: row.role,
        active: Boolean(row.active),
        createdAt: row.created_at
      }))
    },
    async setActive(id, active, audit) {
      await db.transaction(async (trx) => {
        await trx('operators').where({ id }).update({ active })
        await appendAudit(trx, cipher, audit)
      })
    },
    async setPinHash(id, pinHash, audit, mustChange) {
      await db.transaction(async (trx) => {
        await trx('operators').where({ id }).update({ pin_hash: pinHash, pin_change_required: mustChange })
        await appendAudit(trx, cipher, audit)
      })
    },
    async activeSupervisorCount() {
      const [{ n }] = await db('operators')
        .where({ role: 'supervisor', active: true })
        .count<Array<{ n: number }>>({ n: '*' })
      return Number(n)
    }
  }
}
