import type { Knex } from 'knex'
import type { PersonalDataCipher } from '../personal-data'
import { appendAudit } from '../record-chain'

export interface AuditRow {
  readonly id: number
  readonly at: string
  readonly action: string
  readonly subject: string | null
  readonly details_json: string | null
  readonly operator_code: string | null
  readonly operator_name: string | null
}

export interface RejectionRow {
  readonly id: string
  readonly account_id: number
  readonly created_at: string
  readonly total_fen: number
  readonly settled_at: string | null
  readonly result_code: string | null
  readonly result_message: string | null
  readonly operator_code: string
  readonly operator_name: string
  readonly followed_up_at: string | null
  readonly follow_up_note: string | null
  readonly follow_up_code: string | null
  readonly follow_up_name: string | null
  /** Opened from the sealed column: only ever shown masked, or whole through revealMobile. */
  readonly applicant_mobile: string | null
}

/** What a supervisor reads and records: the audit log and the sales the centre rejected. */
export interface SupervisionRepository {
  auditLog(filter: {
    fromUtc?: string
    toUtc?: string
    operatorCode?: string
    action?: string
    limit: number
  }): Promise<AuditRow[]>
  /** Sales with status rejected, newest first; `followedUp` narrows to followed up (true) or open (false). */
  rejections(filter: { followedUp?: boolean }): Promise<RejectionRow[]>
  /**
   * The applicant's whole mobile of a rejected sale, for the supervisor to call, with an audit line
   * naming who looked (in the same transaction); null when the sale is no rejection or has none.
   */
  revealMobile(saleId: string, change: { at: string; operatorId: number }): Promise<string | null>
  /** Records the follow-up and its audit line in one transaction; false when the sale is not an open rejection. */
  followUp(saleId: string, change: { at: string; operatorId: number; note: string }): Promise<boolean>
}

export function createSupervisionRepository(db: Knex, cipher: PersonalDataCipher): SupervisionRepository {
  return {
    async auditLog(filter) {
      const query = db('audit_log as l')
        .leftJoin('operators as o', 'o.id', 'l.operator_id')
        .select<AuditRow[]>(
          'l.id',
          'l.at',
          'l.action',
          'l.subject',
          'l.details_json',
          'o.code as operator_code',
          'o.name as operator_name'
        )
        .orderBy('l.id', 'desc')
        .limit(filter.limit)
      if (filter.fromUtc) query.where('l.at', '>=', filter.fromUtc)
      if (filter.toUtc) query.where('l.at', '<', filter.toUtc)
      if (filter.operatorCode) query.where('o.code', filter.operatorCode)
      if (filter.action) query.where('l.action', filter.action)
      return query
    },
    async rejections(filter) {
      const query = db('sales as s')
        .join('operators as o', 'o.id', 's.operator_id')
        .leftJoin('operators as f', 'f.id', 's.followed_up_by')
        .where('s.status', 'rejected')
        .select(
          's.id',
          's.account_id',
          's.created_at',
          's.total_fen',
          's.settled_at',
          's.result_code',
          's.result_message',
          'o.code as operator_code',
          'o.name as operator_name',
          's.followed_up_at',
          's.follow_up_note',
          'f.code as follow_up_code',
          'f.name as follow_up_name',
          's.applicant_mobile_sealed'
        )
        .orderBy('s.created_at', 'desc')
      if (filter.followedUp === true) query.whereNotNull('s.followed_up_at')
      if (filter.followedUp === false) query.whereNull('s.followed_up_at')
      const rows = (await query) as Array<
        Omit<RejectionRow, 'applicant_mobile'> & { applicant_mobile_sealed: Buffer | null }
      >
      return rows.map(({ applicant_mobile_sealed: sealed, ...row }) => ({
        ...row,
        applicant_mobile: sealed ? cipher.open(sealed) : null
      }))
    },
    async revealMobile(saleId, change) {
      return db.transaction(async (trx) => {
        const row = await trx('sales')
          .where({ id: saleId, status: 'rejected' })
          .first<{ applicant_mobile_sealed: Buffer | null } | undefined>('applicant_mobile_sealed')
        if (!row?.applicant_mobile_sealed) return null
        await appendAudit(trx, cipher, {
          at: change.at,
          operatorId: change.operatorId,
          action: 'applicant_mobile_revealed',
          subject: saleId
        })
        return cipher.open(row.applicant_mobile_sealed)
      })
    },
    async followUp(saleId, change) {
      return db.transaction(async (trx) => {
        const updated = await trx('sales')
          .where({ id: saleId, status: 'rejected' })
          .whereNull('followed_up_at')
          .update({
            followed_up_at: change.at,
            followed_up_by: change.operatorId,
            follow_up_note: change.note
          })
        if (updated !== 1) return false
        // The note is the supervisor's free text: it may name the customer, so it stays with the sale, not in the log.
        await appendAudit(trx, cipher, {
          at: change.at,
          operatorId: change.operatorId,
          action: 'rejection_followed_up',
          subject: saleId
        })
        return true
      })
    }
  }
}
