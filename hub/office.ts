import type { Knex } from 'knex'
import type { RuleBundle } from '../core/rules/bundle'
import type {
  OfficeReportLine,
  OfficeReportRequest,
  OfficeReportResponse,
  ProtocolVersion
} from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { type TrustedKeys, verifyBundle } from '../backend/shared'
import { hubTrustedKeys } from './file-key'

/**
 * The office report (`POST /v1/reports/office`): every sale line the centre received from the
 * terminals of the caller's office (网点), for a range of Shanghai dates. An office is the set of
 * terminals registered with the same territory, compared trimmed. Read-only; nothing personal.
 */

interface LineRow {
  terminal_id: string
  sale_id: string
  created_at: string
  operator_code: string
  region_code: string
  rules_region_code: string
  rules_version: number
  relation: OfficeReportLine['relation']
  product_code: string
  premium_fen: number
  instalment_no: number | null
  outcome: 'accepted' | 'rejected'
  reversed_at: string | null
}

/** The UTC instant a Shanghai date starts (always +08:00). */
export const dayStartUtc = (date: string) => new Date(`${date}T00:00:00+08:00`).toISOString()

export function dayAfter(date: string): string {
  const next = new Date(`${date}T00:00:00Z`)
  next.setUTCDate(next.getUTCDate() + 1)
  return next.toISOString().slice(0, 10)
}

/** Region and product names from the bundles the sales were made under (withdrawn ones too: a name is still a name). */
export function createNames(db: Knex, trustedKeys: TrustedKeys) {
  const bundles = new Map<string, RuleBundle | null>()
  async function bundle(regionCode: string, version: number): Promise<RuleBundle | null> {
    const key = `${regionCode}/${version}`
    if (!bundles.has(key)) {
      const row = await db('rule_bundles')
        .where({ region_code: regionCode, version })
        .first<{ envelope: string } | undefined>('envelope')
      const verified = row ? verifyBundle(row.envelope, trustedKeys) : null
      bundles.set(key, verified?.ok ? verified.value.bundle : null)
    }
    return bundles.get(key) ?? null
  }
  return { bundle }
}

export async function officeReport(
  db: Knex,
  terminalId: string,
  request: OfficeReportRequest,
  options: { clock: Clock; trustedKeys?: TrustedKeys; protocol: ProtocolVersion }
): Promise<OfficeReportResponse> {
  const own = await db('terminals')
    .where({ id: terminalId })
    .first<{ territory: string } | undefined>('territory')
  if (!own) throw new Error('authenticated terminal not found')
  const territory = own.territory.trim()
  const terminals = (await db('terminals')
    .whereRaw('trim(territory) = ?', [territory])
    .orderBy('id')
    .pluck('id')) as string[]
  const rows: LineRow[] = await db('received_sales as s')
    .join('received_sale_lines as l', 'l.sale_id', 's.sale_id')
    .join('item_results as r', 'r.item_id', 's.sale_id')
    .leftJoin('hub_sales as h', 'h.sale_id', 's.sale_id')
    .whereIn('s.terminal_id', terminals)
    .where('s.created_at', '>=', dayStartUtc(request.from))
    .where('s.created_at', '<', dayStartUtc(dayAfter(request.to)))
    .orderBy([{ column: 's.created_at' }, { column: 's.sale_id' }, { column: 'l.line_no' }])
    .select(
      's.terminal_id',
      's.sale_id',
      's.created_at',
      's.operator_code',
      's.region_code',
      's.rules_region_code',
      's.rules_version',
      'l.relation',
      'l.product_code',
      'l.premium_fen',
      'l.instalment_no',
      'r.outcome',
      'h.reversed_at'
    )
  const names = createNames(db, options.trustedKeys ?? hubTrustedKeys())
  const regionNames = new Map(
    ((await db('regions').select('code', 'name')) as Array<{ code: string; name: string }>).map((r) => [
      r.code,
      r.name
    ])
  )
  const lines: OfficeReportLine[] = []
  for (const row of rows) {
    const bundle = await names.bundle(row.rules_region_code, row.rules_version)
    lines.push({
      terminalId: row.terminal_id,
      saleId: row.sale_id,
      createdAt: row.created_at,
      // A settled sale whose reversal was accepted is voided; a refused one stays refused.
      status: row.outcome === 'rejected' ? 'rejected' : row.reversed_at !== null ? 'voided' : 'accepted',
      operatorCode: row.operator_code,
      operatorName: row.operator_code,
      regionCode: row.region_code,
      regionName:
        regionNames.get(row.region_code) ??
        (bundle?.region.code === row.region_code ? bundle.region.name : row.region_code),
      productCode: row.product_code,
      productName: bundle?.products.find((p) => p.code === row.product_code)?.name ?? row.product_code,
      relation: row.relation,
      premiumFen: row.premium_fen,
      rulesVersion: row.rules_version,
      // Version 2 only: a version-1 terminal refuses a field it does not know.
      ...(options.protocol >= 2 && row.instalment_no !== null ? { instalmentNo: row.instalment_no } : {})
    })
  }
  return { territory, generatedAt: options.clock.now().toISOString(), terminals, lines }
}
