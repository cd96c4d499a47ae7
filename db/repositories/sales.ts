import type { Knex } from 'knex'
import { appendAudit } from '../record-chain'
import type { LocalSpending } from '../../core/spending'
import type { SaleStatus } from '../../core/sale'
import type { PersonalDataCipher } from '../personal-data'
import { openPerson, sealPerson } from '../sealed-records'
import { snapshotHoldingQuery } from './accounts'

export interface NewSale {
  readonly id: string
  readonly terminalId: string
  readonly shiftId: number
  readonly operatorId: number
  readonly accountId: number
  readonly regionCode: string
  readonly rulesVersion: number
  readonly totalFen: number
  readonly createdAt: string
  readonly termsAcknowledgedAt: string
  readonly signatureSvg: string
  /** How the payer was verified; a keyed sale names the supervisor who approved it. */
  readonly payerProof: 'swiped' | 'keyed' | 'voucher'
  readonly keyedApprovedBy: number | null
  /** The applicant's mobile (11 digits), sealed at rest; null when not given. */
  readonly applicantMobile: string | null
  readonly lines: ReadonlyArray<{
    readonly lineNo: number
    readonly relation: string
    readonly insuredIdNumber: string
    readonly insuredName: string
    readonly productCode: string
    readonly productName: string
    readonly units: number | null
    readonly premiumFen: number
    readonly coverFrom: string
    readonly coverTo: string
    readonly proofSeen: boolean
    readonly decisionJson: string
    /**
     * A policy paid yearly: which instalment this line is (1: the line begins the policy), of how
     * many, the contract's grace days, and for a later instalment the line the policy began with.
     */
    readonly instalment: LineInstalment | null
  }>
  readonly outbox: { readonly id: string; readonly payloadJson: string }
}

/**
 * A line of a policy paid yearly: which instalment it is (1: the line begins the policy), of how
 * many, the contract's grace days, and for a later instalment the line the policy began with and
 * its number when known.
 */
export interface LineInstalment {
  readonly no: number
  readonly years: number
  readonly graceDays: number
  readonly policyRef: { readonly saleId: string; readonly lineNo: number } | null
  readonly policyNo: string | null
}

export interface SaleRow {
  id: string
  terminal_id: string
  shift_id: number
  operator_id: number
  account_id: number
  region_code: string
  rules_version: number
  total_fen: number
  status: SaleStatus
  created_at: string
  voided_at: string | null
  void_reason: string | null
  reversal_queued_at: string | null
  settled_at: string | null
  result_code: string | null
  result_message: string | null
  reversal_settled_at: string | null
  reversal_result_code: string | null
  reversal_result_message: string | null
  payer_proof: 'swiped' | 'keyed' | 'voucher' | 'legacy'
  keyed_approved_by: number | null
  centre_reference: string | null
}

/** A stored line with the insured person unsealed. */
export interface SaleLineRow {
  line_no: number
  insured_relation: string
  insured_id_number: string
  insured_name: string
  product_code: string
  product_name: string
  units: number | null
  premium_fen: number
  cover_from: string
  cover_to: string
  /** The insurer's policy number once the centre passed it on; null before. */
  policy_no: string | null
  policy_issued_at: string | null
  /** When the centre accepted the line's cooling-off cancellation; null while in force. */
  cancelled_at: string | null
  /** A policy paid yearly: which instalment (1 begins the policy), of how many; null otherwise. */
  instalment_no: number | null
  instalment_years: number | null
  /** A later instalment: the sale line its policy began with. */
  policy_sale_id: string | null
  policy_line_no: number | null
}

export interface CancellationRow {
  id: string
  sale_id: string
  line_nos_json: string
  refund_fen: number
  reason: string
  requested_at: string
  status: 'queued' | 'accepted' | 'rejected'
  settled_at: string | null
  result_code: string | null
  result_message: string | null
  approver_code: string
  approver_name: string
}

export interface SalesRepository {
  /** Sale, lines, the ledger reservation and the outbox entry: all of it, or (on any failure) none. */
  insert(sale: NewSale): Promise<void>
  find(id: string): Promise<SaleRow | null>
  lines(id: string): Promise<SaleLineRow[]>
  /** The applicant's mobile, unsealed; null when none was given. */
  applicantMobile(id: string): Promise<string | null>
  /**
   * Policy numbers the centre passed on, kept on their lines (each line once: a number already
   * kept is not replaced). How many lines got one.
   */
  applyPolicies(
    issues: ReadonlyArray<{ saleId: string; lineNo: number; policyNo: string; issuedAt: string }>
  ): Promise<number>
  /** This terminal's sales to the account that still hold money (not voided). */
  spendingOf(accountId: number): Promise<LocalSpending[]>
  /** Persons this payer has insured through this terminal (not voided sales). */
  insuredBy(accountId: number): Promise<Array<{ idNumber: string; productCode: string; at: string }>>
  /** Whether the person holds the product for a cover period not yet over at `at`: bought here, or per the centre's snapshot. */
  holds(idNumber: string, productCode: string, at: string): Promise<boolean>
  /** Sales waiting in the outbox for upload: how many, and their total. */
  queued(): Promise<{ count: number; totalFen: number }>
  search(filter: {
    saleId?: string
    accountId?: number
    shiftId?: number
    fromUtc?: string
    toUtc?: string
    status?: SaleStatus
  }): Promise<Array<SaleRow & { line_count: number; operator_code: string }>>
  /**
   * The centre refused the sale while the customer was at the counter, and the clerk told them
   * there: recorded as followed up, so it does not wait in the supervisor's list of rejections.
   */
  refusedAtCounter(id: string, change: { at: string; operatorId: number }): Promise<void>
  /**
   * A cooling-off cancellation of lines of an accepted sale, queued for the centre with its audit
   * line, in one transaction. False (nothing written) when the sale is no longer accepted, a void is
   * under way, or one of the lines is cancelled or waiting to be.
   */
  queueCancellation(cancellation: {
    id: string
    saleId: string
    lineNos: readonly number[]
    refundFen: number
    reason: string
    at: string
    operatorId: number
    approvedBy: number
    approverCode: string
    outboxId: string
    payloadJson: string
  }): Promise<boolean>
  /** The sale's cancellations, oldest first. */
  cancellationsOf(saleId: string): Promise<CancellationRow[]>
  voidQueued(
    id: string,
    change: {
      at: string
      reason: string
      voidedBy: number
      approvedBy: number
      /** The approving supervisor's code, as the audit log shows it. */
      approverCode: string
      accountId: number
      totalFen: number
    }
  ): Promise<boolean>
  queueReversal(
    id: string,
    change: {
      at: string
      reason: string
      voidedBy: number
      approvedBy: number
      /** The approving supervisor's code, as the audit log shows it. */
      approverCode: string
      outboxId: string
      payloadJson: string
    }
  ): Promise<boolean>
}

/**
 * `reads`: where the lookups go (the runtime's read-only connection, so a swipe's quote never waits
 * for a long write such as a snapshot's apply); writes and the reads inside them use `db`.
 */
export function createSalesRepository(
  db: Knex,
  cipher: PersonalDataCipher,
  reads: Knex = db
): SalesRepository {
  return {
    async insert(sale) {
      await db.transaction(async (trx) => {
        await trx('sales').insert({
          id: sale.id,
          terminal_id: sale.terminalId,
          shift_id: sale.shiftId,
          operator_id: sale.operatorId,
          account_id: sale.accountId,
          region_code: sale.regionCode,
          rules_version: sale.rulesVersion,
          total_fen: sale.totalFen,
          status: 'queued',
          created_at: sale.createdAt,
          terms_acknowledged_at: sale.termsAcknowledgedAt,
          signature_svg: sale.signatureSvg,
          payer_proof: sale.payerProof,
          keyed_approved_by: sale.keyedApprovedBy,
          applicant_mobile_sealed: sale.applicantMobile === null ? null : cipher.seal(sale.applicantMobile)
        })
        await trx('sale_lines').insert(
          sale.lines.map((line) => {
            const insured = sealPerson(cipher, { idNumber: line.insuredIdNumber, name: line.insuredName })
            return {
              sale_id: sale.id,
              line_no: line.lineNo,
              insured_relation: line.relation,
              insured_id_hash: insured.id_hash,
              insured_pii: insured.pii,
              product_code: line.productCode,
              product_name: line.productName,
              units: line.units,
              premium_fen: line.premiumFen,
              cover_from: line.coverFrom,
              cover_to: line.coverTo,
              proof_seen: line.proofSeen,
              decision_json: line.decisionJson,
              instalment_no: line.instalment?.no ?? null,
              instalment_years: line.instalment?.years ?? null,
              instalment_grace_days: line.instalment?.graceDays ?? null,
              policy_sale_id: line.instalment?.policyRef?.saleId ?? null,
              policy_line_no: line.instalment?.policyRef?.lineNo ?? null,
              policy_no: line.instalment?.policyNo ?? null
            }
          })
        )
        await trx('ledger').insert({
          account_id: sale.accountId,
          sale_id: sale.id,
          kind: 'reserve',
          amount_fen: -sale.totalFen,
          at: sale.createdAt
        })
        await trx('outbox').insert({
          id: sale.outbox.id,
          kind: 'sale',
          sale_id: sale.id,
          payload_sealed: cipher.seal(sale.outbox.payloadJson),
          created_at: sale.createdAt
        })
        await appendAudit(trx, cipher, {
          at: sale.createdAt,
          operatorId: sale.operatorId,
          action: 'sale',
          subject: sale.id,
          details: {
            payerProof: sale.payerProof,
            ...(sale.keyedApprovedBy !== null ? { keyedApprovedBy: sale.keyedApprovedBy } : {})
          }
        })
      })
    },
    async find(id) {
      return (await reads('sales').where({ id }).first<SaleRow | undefined>()) ?? null
    },
    async applicantMobile(id) {
      const row = await reads('sales')
        .where({ id })
        .first<{ applicant_mobile_sealed: Buffer | null } | undefined>('applicant_mobile_sealed')
      return row?.applicant_mobile_sealed ? cipher.open(row.applicant_mobile_sealed) : null
    },
    async applyPolicies(issues) {
      if (issues.length === 0) return 0
      return db.transaction(async (trx) => {
        let kept = 0
        for (const issue of issues) {
          kept += await trx('sale_lines')
            .where({ sale_id: issue.saleId, line_no: issue.lineNo })
            .whereNull('policy_no')
            .update({ policy_no: issue.policyNo, policy_issued_at: issue.issuedAt })
          // Instalments paid here before the number came are for the same policy.
          await trx('sale_lines')
            .where({ policy_sale_id: issue.saleId, policy_line_no: issue.lineNo })
            .whereNull('policy_no')
            .update({ policy_no: issue.policyNo, policy_issued_at: issue.issuedAt })
        }
        return kept
      })
    },
    async lines(id) {
      const rows = await reads('sale_lines')
        .where({ sale_id: id })
        .orderBy('line_no')
        .select<Array<Omit<SaleLineRow, 'insured_id_number' | 'insured_name'> & { insured_pii: Buffer }>>(
          'line_no',
          'insured_relation',
          'insured_pii',
          'product_code',
          'product_name',
          'units',
          'premium_fen',
          'cover_from',
          'cover_to',
          'policy_no',
          'policy_issued_at',
          'cancelled_at',
          'instalment_no',
          'instalment_years',
          'policy_sale_id',
          'policy_line_no'
        )
      return rows.map(({ insured_pii: sealed, ...line }) => {
        const insured = openPerson(cipher, sealed)
        return { ...line, insured_id_number: insured.idNumber, insured_name: insured.name }
      })
    },
    async spendingOf(accountId) {
      const rows = await reads('sales')
        .where({ account_id: accountId })
        .whereNotIn('status', ['voided', 'rejected'])
        .select<
          Array<{ total_fen: number; created_at: string; status: SaleStatus; settled_at: string | null }>
        >('total_fen', 'created_at', 'status', 'settled_at')
      // A refund the centre accepted is spending given back: negative, in the sale's year, settled when it was.
      const refunds = await reads('cancellations as c')
        .join('sales as s', 's.id', 'c.sale_id')
        .where({ 's.account_id': accountId, 'c.status': 'accepted' })
        .select<Array<{ refund_fen: number; created_at: string; settled_at: string }>>(
          'c.refund_fen',
          's.created_at',
          'c.settled_at'
        )
      return [
        ...rows.map((row) => ({
          amountFen: row.total_fen,
          at: row.created_at,
          status: row.status,
          settledAt: row.settled_at
        })),
        ...refunds.map((row) => ({
          amountFen: -row.refund_fen,
          at: row.created_at,
          status: 'accepted' as const,
          settledAt: row.settled_at
        }))
      ]
    },
    async insuredBy(accountId) {
      const rows = await reads('sale_lines as l')
        .join('sales as s', 's.id', 'l.sale_id')
        .where('s.account_id', accountId)
        .whereNotIn('s.status', ['voided', 'rejected'])
        .whereNull('l.cancelled_at')
        .select<Array<{ insured_pii: Buffer; product_code: string; created_at: string }>>(
          'l.insured_pii',
          'l.product_code',
          's.created_at'
        )
      return rows.map((row) => ({
        idNumber: openPerson(cipher, row.insured_pii).idNumber,
        productCode: row.product_code,
        at: row.created_at
      }))
    },
    async holds(idNumber, productCode, at) {
      const idHash = cipher.lookupHash(idNumber)
      if ((await snapshotHoldingQuery(reads, idHash, productCode, at).first('h.id')) !== undefined)
        return true
      const row = await reads('sale_lines as l')
        .join('sales as s', 's.id', 'l.sale_id')
        .where({ 'l.insured_id_hash': idHash, 'l.product_code': productCode })
        .whereNotIn('s.status', ['voided', 'rejected'])
        .whereNull('l.cancelled_at')
        .where('l.cover_to', '>', at)
        .first('l.id')
      return row !== undefined
    },
    async queued() {
      const [row] = await reads('outbox as o')
        .join('sales as s', 's.id', 'o.sale_id')
        .where({ 'o.kind': 'sale', 'o.state': 'pending' })
        .select<Array<{ count: number; total: number | null }>>(
          reads.raw('count(*) as count'),
          reads.raw('sum(s.total_fen) as total')
        )
      return { count: row.count, totalFen: row.total ?? 0 }
    },
    async search(filter) {
      const query = reads('sales as s')
        .join('operators as o', 'o.id', 's.operator_id')
        .select<Array<SaleRow & { line_count: number; operator_code: string }>>(
          's.*',
          'o.code as operator_code',
          reads.raw('(select count(*) from sale_lines l where l.sale_id = s.id) as line_count')
        )
        .orderBy('s.created_at', 'desc')
        .limit(500)
      if (filter.saleId) query.where('s.id', filter.saleId)
      if (filter.accountId !== undefined) query.where('s.account_id', filter.accountId)
      if (filter.shiftId !== undefined) query.where('s.shift_id', filter.shiftId)
      if (filter.fromUtc) query.where('s.created_at', '>=', filter.fromUtc)
      if (filter.toUtc) query.where('s.created_at', '<', filter.toUtc)
      if (filter.status) query.where('s.status', filter.status)
      return query
    },
    async refusedAtCounter(id, change) {
      await db.transaction(async (trx) => {
        const updated = await trx('sales')
          .where({ id, status: 'rejected' })
          .whereNull('followed_up_at')
          .update({
            followed_up_at: change.at,
            followed_up_by: change.operatorId,
            follow_up_note: '联机授权被拒，已在柜台当场告知客户'
          })
        if (updated === 1)
          await appendAudit(trx, cipher, {
            at: change.at,
            operatorId: change.operatorId,
            action: 'rejection_told_at_counter',
            subject: id
          })
      })
    },
    async queueCancellation(c) {
      return db.transaction(async (trx) => {
        // Checked inside the write: two cancellations of the same line at once cannot both be queued.
        const sale = await trx('sales')
          .where({ id: c.saleId, status: 'accepted' })
          .whereNull('reversal_queued_at')
          .first('id')
        if (!sale) return false
        const lines = await trx('sale_lines')
          .where({ sale_id: c.saleId })
          .whereIn('line_no', c.lineNos)
          .whereNull('cancelled_at')
          .count<Array<{ n: number }>>({ n: '*' })
        if (lines[0].n !== c.lineNos.length) return false
        const pending = await trx('cancellations')
          .where({ sale_id: c.saleId, status: 'queued' })
          .pluck<string[]>('line_nos_json')
        if (pending.some((json) => (JSON.parse(json) as number[]).some((n) => c.lineNos.includes(n))))
          return false
        await trx('cancellations').insert({
          id: c.id,
          sale_id: c.saleId,
          line_nos_json: JSON.stringify(c.lineNos),
          refund_fen: c.refundFen,
          reason: c.reason,
          requested_at: c.at,
          operator_id: c.operatorId,
          approved_by: c.approvedBy
        })
        await trx('outbox').insert({
          id: c.outboxId,
          kind: 'cancellation',
          sale_id: c.saleId,
          payload_sealed: cipher.seal(c.payloadJson),
          created_at: c.at
        })
        await appendAudit(trx, cipher, {
          at: c.at,
          operatorId: c.operatorId,
          action: 'cancellation_queued',
          subject: c.id,
          details: { approvedBy: c.approverCode, refundFen: c.refundFen }
        })
        return true
      })
    },
    async cancellationsOf(saleId) {
      return reads('cancellations as c')
        .join('operators as a', 'a.id', 'c.approved_by')
        .where({ 'c.sale_id': saleId })
        .orderBy('c.requested_at')
        .select<CancellationRow[]>(
          'c.id',
          'c.sale_id',
          'c.line_nos_json',
          'c.refund_fen',
          'c.reason',
          'c.requested_at',
          'c.status',
          'c.settled_at',
          'c.result_code',
          'c.result_message',
          'a.code as approver_code',
          'a.name as approver_name'
        )
    },
    async voidQueued(id, change) {
      return db.transaction(async (trx) => {
        // Only a sale still waiting to be uploaded can be voided outright; the state is checked in the write itself.
        const updated = await trx('sales').where({ id, status: 'queued' }).update({
          status: 'voided',
          voided_at: change.at,
          void_reason: change.reason,
          voided_by: change.voidedBy,
          void_approved_by: change.approvedBy
        })
        if (updated !== 1) return false
        await trx('outbox')
          .where({ sale_id: id, kind: 'sale', state: 'pending' })
          .update({ state: 'cancelled' })
        await trx('ledger').insert({
          account_id: change.accountId,
          sale_id: id,
          kind: 'release',
          amount_fen: change.totalFen,
          at: change.at
        })
        await appendAudit(trx, cipher, {
          at: change.at,
          operatorId: change.voidedBy,
          action: 'void',
          subject: id,
          details: { approvedBy: change.approverCode, reason: change.reason }
        })
        return true
      })
    },
    async queueReversal(id, change) {
      return db.transaction(async (trx) => {
        const updated = await trx('sales')
          .where({ id })
          .whereIn('status', ['uploaded', 'accepted'])
          .whereNull('reversal_queued_at')
          .update({
            reversal_queued_at: change.at,
            void_reason: change.reason,
            voided_by: change.voidedBy,
            void_approved_by: change.approvedBy
          })
        if (updated !== 1) return false
        await trx('outbox').insert({
          id: change.outboxId,
          kind: 'reversal',
          sale_id: id,
          payload_sealed: cipher.seal(change.payloadJson),
          created_at: change.at
        })
        await appendAudit(trx, cipher, {
          at: change.at,
          operatorId: change.voidedBy,
          action: 'reversal_queued',
          subject: id,
          details: { approvedBy: change.approverCode, reason: change.reason }
        })
        return true
      })
    }
  }
}
