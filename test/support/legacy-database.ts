/**
 * A terminal's database as release 0003 left it: the demo population, operators and one queued
 * sale, with card numbers, ID numbers and names in plain text, written as that release's seed and
 * sale service wrote them. Migration tests open it with today's runtime.
 */
import { join } from 'node:path'
import type { Clock } from '../../core/time'
import { openDatabase } from '../../db/connection'
import { migrateToLatest } from '../../db/migrate'
import { createMigrations } from '../../db/migrations/index'
import { DEMO_ACCOUNTS, DEMO_OPERATORS, DEMO_REGIONS } from '../../db/seeds/demo-population'
import { hashPin } from '../../backend/services/pin-hash'
import { DATABASE_FILE_NAME } from '../../backend/runtime'
import { testCipher } from './helpers'

export const LEGACY_SALE_ID = '019ab1c2-3d4e-7f00-8a00-000000000001'
export const LEGACY_TERMINAL_ID = 'T-0003CAFE'
/** 徐卫东 (Quzhou) insured himself and his spouse 周慧 with 惠衢保 2027. */
export const LEGACY_PAYER =
  DEMO_ACCOUNTS.find((account) => account.cardNumber === 'C33080001') ?? DEMO_ACCOUNTS[0]
export const LEGACY_SPOUSE = LEGACY_PAYER.family[0]

export async function buildLegacyDatabase(dataDir: string, clock: Clock): Promise<void> {
  const db = openDatabase(join(dataDir, DATABASE_FILE_NAME))
  try {
    await migrateToLatest(db, {
      backupDir: join(dataDir, 'backups'),
      clock,
      migrations: createMigrations(testCipher()).slice(0, 3)
    })
    const now = clock.now().toISOString()
    await db.transaction(async (trx) => {
      await trx('regions').insert(DEMO_REGIONS.map(({ code, name }) => ({ code, name })))
      for (const account of DEMO_ACCOUNTS) {
        const [{ id }] = await trx('accounts')
          .insert({
            card_number: account.cardNumber,
            id_number: account.idNumber,
            name: account.name,
            region_code: account.regionCode,
            insurance_type: account.insuranceType,
            status: account.status,
            balance_fen: account.balanceFen,
            historical_balance_fen: account.historicalBalanceFen,
            fitness_card_transfers_fen: account.fitnessCardTransfersFen ?? 0,
            balance_as_of: now,
            updated_at: now
          })
          .returning<Array<{ id: number }>>('id')
        for (const member of account.family) {
          await trx('family_members').insert({
            account_id: id,
            id_number: member.idNumber,
            name: member.name,
            relation: member.relation,
            bound_at: now
          })
        }
      }
      await trx('settings').insert([
        { key: 'data_source', value: 'demo' },
        { key: 'terminal_id', value: LEGACY_TERMINAL_ID }
      ])
    })
    for (const operator of DEMO_OPERATORS) {
      await db('operators').insert({
        code: operator.code,
        name: operator.name,
        role: operator.role,
        pin_hash: await hashPin(operator.pin),
        active: true,
        created_at: now
      })
    }

    const clerk = await db('operators').where({ code: '1001' }).first<{ id: number }>('id')
    const payer = await db('accounts')
      .where({ card_number: LEGACY_PAYER.cardNumber })
      .first<{ id: number }>('id')
    const [{ id: shiftId }] = await db('shifts')
      .insert({ terminal_id: LEGACY_TERMINAL_ID, operator_id: clerk.id, opened_at: now })
      .returning<Array<{ id: number }>>('id')
    const cover = { coverFrom: '2026-12-31T16:00:00.000Z', coverTo: '2027-12-31T16:00:00.000Z' }
    const lines = [
      { lineNo: 1, relation: 'self', insuredIdNumber: LEGACY_PAYER.idNumber, insuredName: LEGACY_PAYER.name },
      {
        lineNo: 2,
        relation: 'spouse',
        insuredIdNumber: LEGACY_SPOUSE.idNumber,
        insuredName: LEGACY_SPOUSE.name
      }
    ].map((line) => ({ ...line, productCode: 'QZ-HQB-2027', units: 1, premiumFen: 10_000, ...cover }))
    const payload = {
      type: 'sale',
      saleId: LEGACY_SALE_ID,
      terminalId: LEGACY_TERMINAL_ID,
      operatorCode: '1001',
      createdAt: now,
      payer: {
        cardNumber: LEGACY_PAYER.cardNumber,
        idNumber: LEGACY_PAYER.idNumber,
        regionCode: LEGACY_PAYER.regionCode
      },
      rules: { regionCode: '330800', version: 1 },
      totalFen: 20_000,
      lines
    }
    await db.transaction(async (trx) => {
      await trx('sales').insert({
        id: LEGACY_SALE_ID,
        terminal_id: LEGACY_TERMINAL_ID,
        shift_id: shiftId,
        operator_id: clerk.id,
        account_id: payer.id,
        region_code: '330800',
        rules_version: 1,
        total_fen: 20_000,
        status: 'queued',
        created_at: now,
        terms_acknowledged_at: now,
        signature_svg: '<svg xmlns="http://www.w3.org/2000/svg"><path d="M10 50 L80 20"/></svg>'
      })
      await trx('sale_lines').insert(
        lines.map((line) => ({
          sale_id: LEGACY_SALE_ID,
          line_no: line.lineNo,
          insured_relation: line.relation,
          insured_id_number: line.insuredIdNumber,
          insured_name: line.insuredName,
          product_code: line.productCode,
          product_name: '惠衢保（2027年度，示例）',
          units: 1,
          premium_fen: line.premiumFen,
          cover_from: line.coverFrom,
          cover_to: line.coverTo,
          proof_seen: false,
          decision_json: JSON.stringify({ checks: [], allowed: { premiumFen: line.premiumFen } })
        }))
      )
      await trx('ledger').insert({
        account_id: payer.id,
        sale_id: LEGACY_SALE_ID,
        kind: 'reserve',
        amount_fen: -20_000,
        at: now
      })
      await trx('outbox').insert({
        id: '019ab1c2-3d4e-7f00-9a00-000000000001',
        kind: 'sale',
        sale_id: LEGACY_SALE_ID,
        payload_json: JSON.stringify(payload),
        created_at: now
      })
      await trx('audit_log').insert({
        at: now,
        operator_id: clerk.id,
        action: 'sale',
        subject: LEGACY_SALE_ID
      })
    })
  } finally {
    await db.destroy()
  }
}
