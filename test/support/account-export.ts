import { writeFile } from 'node:fs/promises'
import { ACCOUNT_EXPORT_COLUMNS, type ImportedAccount } from '../../hub/accounts-import'
import { DEMO_ACCOUNTS, demoAccountNo } from '../../db/seeds/demo-population'

/** The demo population as the platform would export it. */
export function demoExport(): ImportedAccount[] {
  return DEMO_ACCOUNTS.map((account) => ({
    accountNo: demoAccountNo(account),
    cardNumber: account.cardNumber,
    idNumber: account.idNumber,
    name: account.name,
    regionCode: account.regionCode,
    insuranceType: account.insuranceType,
    status: account.status,
    balanceFen: account.balanceFen,
    historicalBalanceFen: account.historicalBalanceFen,
    fitnessCardTransfersFen: account.fitnessCardTransfersFen ?? 0,
    family: account.family.map(({ idNumber, name, relation }) => ({ idNumber, name, relation }))
  }))
}

export async function writeNdjsonExport(file: string, rows: readonly ImportedAccount[]): Promise<void> {
  await writeFile(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''))
}

const quoted = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell)

export async function writeCsvExport(file: string, rows: readonly ImportedAccount[]): Promise<void> {
  const lines = rows.map((row) =>
    [
      row.accountNo,
      row.cardNumber,
      row.idNumber,
      row.name,
      row.regionCode,
      row.insuranceType,
      row.status,
      String(row.balanceFen),
      String(row.historicalBalanceFen),
      String(row.fitnessCardTransfersFen),
      row.family.map((member) => `${member.relation}|${member.idNumber}|${member.name}`).join(';')
    ]
      .map(quoted)
      .join(',')
  )
  await writeFile(file, `${ACCOUNT_EXPORT_COLUMNS.join(',')}\n${lines.join('\n')}\n`)
}
