import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import type { Knex } from 'knex'
import { describe, expect, it } from 'vitest'
import { uuidv7 } from '../../../core/ids'
import { instalmentCoverOf } from '../../../core/rules/cover'
import type { RuleBundle } from '../../../core/rules/bundle'
import type { CancellationItem, SaleItem } from '../../../core/sync/protocol'
import { DEMO_TRUSTED_KEYS } from '../../../backend/services/rules/keys'
import { verifyBundle } from '../../../backend/services/rules/load'
import { DEMO_BUNDLE_ENVELOPES } from '../../../db/seeds/demo-bundles'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import { DEMO_INSTALMENT } from '../../../hub/db/seed'
import { statementLines, writeInsurerStatements } from '../../../hub/statement'
import { owedFen } from '../../../core/report/insurer-statement'
import { tempDir, TEST_NOW } from '../../support/helpers'
import { hubCli } from '../../support/hub-cli'
import { openTestHub, register, reversalOf, saleFor, upload } from '../../support/hub'
import { centreDatabase } from '../../support/postgres'

const yunnan = (() => {
  for (const envelope of DEMO_BUNDLE_ENVELOPES) {
    const verified = verifyBundle(envelope, DEMO_TRUSTED_KEYS)
    if (verified.ok && verified.value.bundle.region.code === '539900') return verified.value.bundle
  }
  throw new Error('no Yunnan bundle')
})()
const PACIFIC = yunnan.products.find((p) => p.code === 'YN-JRAK')?.insurer ?? ''
const EXAMPLE_INSURER = '承保保险公司（示例）'

/** The demo policy's second instalment, as the counter would send it. */
async function secondInstalment(db: Knex, bundle: RuleBundle, terminalId: string): Promise<SaleItem> {
  const policy = await db('policies')
    .where({ policy_no: DEMO_INSTALMENT.policyNo })
    .first<{ sale_id: string; next_due_at: string; units: number }>('sale_id', 'next_due_at', 'units')
  const product = bundle.products.find((p) => p.code === DEMO_INSTALMENT.productCode)
  const amount = product?.afterSale?.instalments?.amountPerUnitFen
  if (!policy || !product || !amount) throw new Error('no demo instalment policy')
  const premiumFen = amount * policy.units
  const sale = saleFor(
    DEMO_INSTALMENT.cardNumber,
    [{ productCode: product.code, premiumFen, units: policy.units }],
    {
      terminalId
    }
  )
  const cover = instalmentCoverOf(product, policy.next_due_at)
  return {
    ...sale,
    lines: [
      {
        ...sale.lines[0],
        coverFrom: cover.from,
        coverTo: cover.to,
        instalment: { saleId: policy.sale_id, lineNo: 1, sequence: 2 }
      }
    ]
  }
}

function cancellationOf(sale: SaleItem, lineNo: number): CancellationItem {
  const line = sale.lines.find((l) => l.lineNo === lineNo)
  if (!line) throw new Error('no line')
  return {
    type: 'cancellation',
    cancellationId: uuidv7(Date.parse(TEST_NOW), Buffer.alloc(10, 3)),
    saleId: sale.saleId,
    lineNos: [lineNo],
    terminalId: sale.terminalId,
    operatorCode: '1001',
    approvedBy: '9001',
    payerCardNumber: sale.payer.cardNumber,
    at: TEST_NOW,
    reason: '犹豫期内退保',
    refundFen: line.premiumFen
  }
}

describe('hub: the insurers’ settlement statements', () => {
  it('per insurer, new policies and instalments less refunds and reversals, reconciling to the sale lines', async () => {
    const { url, db, clock } = await openTestHub()
    const terminal = await register(url, 'T-STATE001')
    const id = terminal.terminalId
    const kept = saleFor('A53000003', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], { terminalId: id })
    const voided = saleFor('A53000003', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], { terminalId: id })
    const family = saleFor(
      'C33080001',
      [
        { productCode: 'QZ-HQB-2027', premiumFen: 10_000 },
        { relation: 'spouse', productCode: 'QZ-HQB-2027', premiumFen: 10_000 }
      ],
      { terminalId: id }
    )
    const instalment = await secondInstalment(db, yunnan, id)
    const settled = await upload(url, terminal.token, id, [kept, voided, family, instalment])
    expect(settled.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'accepted'])
    const after = await upload(url, terminal.token, id, [reversalOf(voided), cancellationOf(family, 2)])
    expect(after.map((r) => r.outcome)).toEqual(['accepted', 'accepted'])

    const period = { from: '2026-11-22', to: '2026-11-22' }
    const lines = await statementLines(db, period)
    const of = (insurer: string, kind: string) =>
      lines.filter((line) => line.insurer === insurer && line.kind === kind).map((line) => line.premiumFen)
    expect(of(PACIFIC, 'new')).toEqual([50_000, 50_000])
    expect(of(PACIFIC, 'reversal')).toEqual([50_000])
    expect(of(PACIFIC, 'instalment')).toEqual([instalment.totalFen])
    expect(of(EXAMPLE_INSURER, 'new')).toEqual([10_000, 10_000])
    expect(of(EXAMPLE_INSURER, 'cancellation')).toEqual([10_000])
    // New and instalment lines are exactly the accepted sale lines of the period.
    const [{ s: acceptedFen }] = await db('received_sale_lines as l')
      .join('item_results as r', 'r.item_id', 'l.sale_id')
      .where({ 'r.outcome': 'accepted' })
      .sum<Array<{ s: number }>>({ s: 'l.premium_fen' })
    expect(
      lines.filter((l) => l.kind === 'new' || l.kind === 'instalment').reduce((s, l) => s + l.premiumFen, 0)
    ).toBe(Number(acceptedFen))

    const dir = await tempDir('statements-')
    const written = await writeInsurerStatements(db, { period, dir, clock })
    expect(written.map((w) => [w.insurer, w.owedFen])).toEqual(
      [
        [PACIFIC, 50_000 + instalment.totalFen],
        [EXAMPLE_INSURER, 10_000]
      ].sort(([a], [b]) => String(a).localeCompare(String(b), 'zh-CN'))
    )
    // The workbook's totals are the same figures, in yuan, and each sheet's lines add up to them.
    const pacific = written.find((w) => w.insurer === PACIFIC)
    const xlsx = pacific?.files.find((file) => file.endsWith('.xlsx')) ?? ''
    const workbook = new ExcelJS.Workbook()
    await workbook.xlsx.readFile(xlsx)
    const detail = workbook.getWorksheet('结算明细')
    if (!detail) throw new Error('no detail sheet')
    const amounts: number[] = []
    detail.eachRow((row, n) => {
      if (n > 1) amounts.push(Number(row.getCell(9).value))
    })
    const total = amounts.pop()
    expect(amounts).toHaveLength(4)
    expect(Math.round(amounts.reduce((s, a) => s + a, 0) * 100)).toBe(Math.round((total ?? 0) * 100))
    expect(Math.round((total ?? 0) * 100)).toBe(pacific?.owedFen)
    const summary = workbook.getWorksheet('汇总')
    const cells: string[] = []
    summary?.eachRow((row) => row.eachCell((cell) => cells.push(String(cell.value))))
    expect(cells).toContain(PACIFIC)
    expect(cells).toContain('按地区与产品')
    // The CSV carries the same lines; no one's name or ID number is in either file.
    const csv = await readFile(pacific?.files.find((file) => file.endsWith('.csv')) ?? '', 'utf8')
    expect(csv).toContain('冲正')
    expect(csv).toContain('续期')
    expect(csv).toContain(DEMO_INSTALMENT.policyNo)
    for (const file of await readdir(dir)) {
      const bytes = await readFile(join(dir, file))
      const text = file.endsWith('.csv') ? bytes.toString('utf8') : bytes.toString('latin1')
      for (const account of DEMO_ACCOUNTS) {
        expect(text, file).not.toContain(account.idNumber)
        if (file.endsWith('.csv')) expect(text, file).not.toContain(account.name)
      }
    }
    expect(lines.reduce((s, l) => s + owedFen(l), 0)).toBe(written.reduce((s, w) => s + w.owedFen, 0))
  })

  it('is written from the command line for one insurer, and says so when a period has nothing', async () => {
    const dataDir = await tempDir('statement-cli-')
    const database = await centreDatabase()
    const centre = await openTestHub({ dir: dataDir, databaseUrl: database.url })
    const terminal = await register(centre.url, 'T-STATE002')
    const sale = saleFor('A53000003', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
      terminalId: terminal.terminalId
    })
    await upload(centre.url, terminal.token, terminal.terminalId, [sale])
    const out = join(dataDir, 'out')
    const hub = (...args: string[]) => hubCli(dataDir, database.env, 'statement', ...args)
    const made = await hub('--from', '2026-11-01', '--to', '2026-11-30', '--out', out, '--insurer', PACIFIC)
    expect(made.stderr).toBe('')
    expect(made.stdout).toContain(`${PACIFIC}：1 笔，应结 500.00 元`)
    expect((await readdir(out)).sort()).toEqual([
      `结算对账单-${PACIFIC}-2026-11-01-2026-11-30.csv`,
      `结算对账单-${PACIFIC}-2026-11-01-2026-11-30.xlsx`
    ])
    const empty = await hub('--from', '2026-10-01', '--to', '2026-10-31', '--out', out)
    expect(empty.stdout).toBe('2026-10-01 至 2026-10-31 没有结算业务，未生成对账单\n')
    const bad = await hub('--from', '2026-11-30', '--to', '2026-11-01', '--out', out)
    expect(bad.status).toBe(2)
  }, 60_000)
})
