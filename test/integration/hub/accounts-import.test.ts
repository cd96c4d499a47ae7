import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { describe, expect, it } from 'vitest'
import { demoIdNumber } from '../../../db/seeds/demo-population'
import { importAccounts, ImportRefused, type ImportedAccount } from '../../../hub/accounts-import'
import { seedSyntheticAccounts } from '../../../hub/db/seed'
import { tempDir } from '../../support/helpers'
import { hubCli } from '../../support/hub-cli'
import { openTestHub, register, snapshot } from '../../support/hub'
import { demoExport, writeCsvExport, writeNdjsonExport } from '../../support/account-export'
import { centreDatabase } from '../../support/postgres'

/** What an import may change, hashed row by row: equal before and after means it changed nothing. */
async function population(db: Knex): Promise<string> {
  const hash = createHash('sha256')
  for (const table of ['accounts', 'family_members', 'removals', 'hub_state']) {
    const rows = (await db(table).select()).map((row: Record<string, unknown>) => JSON.stringify(row)).sort()
    hash.update(`${table}\n${rows.join('\n')}`)
  }
  return hash.digest('hex')
}

function changedExport(): { rows: ImportedAccount[]; gone: ImportedAccount } {
  const rows = demoExport()
  const gone = rows.find((row) => row.cardNumber === 'A53000003')
  if (!gone) throw new Error('no A53000003')
  return {
    gone,
    rows: [
      ...rows
        .filter((row) => row !== gone)
        .map((row) => {
          if (row.cardNumber === 'A53000002')
            return { ...row, balanceFen: 120_000, historicalBalanceFen: 90_000 }
          if (row.cardNumber === 'C33080001')
            return { ...row, family: row.family.filter((member) => member.relation !== 'parent') }
          return row
        }),
      {
        accountNo: '53990053000901',
        cardNumber: 'A53000901',
        idNumber: demoIdNumber('530102', '19850707', '051'),
        name: '杨新户',
        regionCode: '539900',
        insuranceType: 'employee_active',
        status: 'active',
        balanceFen: 300_000,
        historicalBalanceFen: 200_000,
        fitnessCardTransfersFen: 0,
        family: []
      }
    ]
  }
}

describe('hub: importing the platform’s account export', () => {
  it('applies a later export as its changes: the next delta carries only those, the same file again nothing', async () => {
    const { url, db, clock } = await openTestHub()
    const terminal = await register(url, 'T-IMPORT01')
    const before = await snapshot(url, terminal.token)
    const dir = await tempDir('import-')
    const { rows, gone } = changedExport()
    const csv = join(dir, 'accounts.csv')
    await writeCsvExport(csv, rows)

    const summary = await importAccounts(db, csv, { clock })
    expect(summary).toMatchObject({
      rows: rows.length,
      added: 1,
      changed: 2,
      unchanged: rows.length - 3,
      removed: 1
    })
    const delta = await snapshot(url, terminal.token, before.header.snapshotVersion)
    expect(delta.header).toMatchObject({ full: false, snapshotVersion: summary.version })
    expect(delta.accounts.map((a) => a.cardNumber).sort()).toEqual(['A53000002', 'A53000901', 'C33080001'])
    expect(delta.removed).toEqual([gone.accountNo])
    const changed = delta.accounts.find((a) => a.cardNumber === 'A53000002')
    expect(changed).toMatchObject({ balanceFen: 120_000, historicalBalanceFen: 90_000 })
    expect(
      delta.accounts
        .find((a) => a.cardNumber === 'C33080001')
        ?.family.map((m) => m.relation)
        .sort()
    ).toEqual(['child', 'spouse'])

    // The same population as NDJSON: nothing to change, no new version, an empty delta.
    const ndjson = join(dir, 'accounts.ndjson')
    await writeNdjsonExport(ndjson, rows)
    const fingerprint = await population(db)
    expect(await importAccounts(db, ndjson, { clock })).toMatchObject({
      added: 0,
      changed: 0,
      removed: 0,
      unchanged: rows.length,
      version: null
    })
    expect(await population(db)).toBe(fingerprint)
    const none = await snapshot(url, terminal.token, delta.header.snapshotVersion)
    expect(none.accounts).toEqual([])
  })

  it('refuses a file with any bad row whole, by line and without naming anyone, and changes nothing', async () => {
    const { db, clock } = await openTestHub()
    const dir = await tempDir('import-')
    const rows = demoExport()
    const fingerprint = await population(db)
    const cases: Array<{
      how: string
      form: 'csv' | 'ndjson'
      write: (file: string) => Promise<void>
      expected: RegExp
    }> = [
      {
        how: 'a wrong check character',
        form: 'csv',
        write: (file) =>
          writeCsvExport(
            file,
            rows.map((row, i) =>
              i === 3
                ? { ...row, idNumber: `${row.idNumber.slice(0, 17)}${row.idNumber[17] === '0' ? '1' : '0'}` }
                : row
            )
          ),
        expected: /^第 5 行（idNumber）：身份证号：身份证号校验位不符/
      },
      {
        how: 'one card twice',
        form: 'ndjson',
        write: (file) =>
          writeNdjsonExport(
            file,
            rows.map((row, i) => (i === 6 ? { ...row, cardNumber: rows[2].cardNumber } : row))
          ),
        expected: /^第 3 行与第 7 行的社会保障卡号相同/
      },
      {
        how: 'more historical than balance',
        form: 'csv',
        write: (file) =>
          writeCsvExport(
            file,
            rows.map((row, i) => (i === 0 ? { ...row, historicalBalanceFen: row.balanceFen + 1 } : row))
          ),
        expected: /^第 2 行：历年结余大于余额/
      },
      {
        how: 'a cut-off last line',
        form: 'ndjson',
        write: async (file) => {
          await writeNdjsonExport(file, rows)
          const text = await readFile(file, 'utf8')
          await writeFile(file, text.slice(0, text.length - 40))
        },
        expected: new RegExp(`^第 ${rows.length} 行不是完整的 JSON`)
      },
      {
        how: 'a fractional balance',
        form: 'csv',
        write: (file) =>
          writeCsvExport(
            file,
            rows.map((row, i) => (i === 1 ? { ...row, balanceFen: 10.5 } : row))
          ),
        expected: /^第 3 行（balanceFen）：余额应为整数（分）/
      },
      {
        how: 'an unknown region',
        form: 'ndjson',
        write: (file) =>
          writeNdjsonExport(file, [
            ...rows,
            {
              ...rows[0],
              accountNo: '99990099990001',
              cardNumber: 'Z99990001',
              idNumber: demoIdNumber('110101', '19900101', '011'),
              regionCode: '999900'
            }
          ]),
        expected: /^地区 999900 不在中心的地区表中/
      },
      {
        how: 'a wrong header',
        form: 'csv',
        write: async (file) => {
          await writeCsvExport(file, rows)
          const text = await readFile(file, 'utf8')
          await writeFile(file, text.replace('card_number', 'card'))
        },
        expected: /^第 1 行应为表头/
      },
      {
        how: 'an empty file',
        form: 'csv',
        write: (file) => writeFile(file, ''),
        expected: /没有/
      }
    ]
    for (const [n, bad] of cases.entries()) {
      const file = join(dir, `bad-${n}.${bad.form}`)
      await bad.write(file)
      const refused = await importAccounts(db, file, { clock }).then(
        () => null,
        (error: unknown) => error
      )
      expect(refused, bad.how).toBeInstanceOf(ImportRefused)
      const message = (refused as ImportRefused).message
      expect(message, bad.how).toMatch(bad.expected)
      for (const row of rows) {
        expect(message).not.toContain(row.name)
        expect(message).not.toContain(row.idNumber)
      }
      expect(await population(db), bad.how).toBe(fingerprint)
    }
  })

  it('takes a cut-off export that would remove a region’s accounts only when told to', async () => {
    const { db, clock } = await openTestHub()
    await seedSyntheticAccounts(db, 300, { clock, regionCodes: ['539900'] })
    const file = join(await tempDir('import-'), 'accounts.ndjson')
    await writeNdjsonExport(file, demoExport())
    const fingerprint = await population(db)
    await expect(importAccounts(db, file, { clock })).rejects.toThrow(/将删除 300 个账户.*--allow-removals/)
    expect(await population(db)).toBe(fingerprint)
    expect(await importAccounts(db, file, { clock, allowManyRemovals: true })).toMatchObject({ removed: 300 })
    const [{ n }] = await db('accounts')
      .where({ region_code: '539900' })
      .count<Array<{ n: number }>>({ n: '*' })
    expect(n).toBe(demoExport().filter((row) => row.regionCode === '539900').length)
  })

  it('runs from the command line, saying what changed and nothing about anyone', async () => {
    const dataDir = await tempDir('import-cli-')
    const database = await centreDatabase()
    const { rows } = changedExport()
    const good = join(dataDir, 'accounts.csv')
    await writeCsvExport(good, rows)
    const bad = join(dataDir, 'bad.csv')
    await writeCsvExport(
      bad,
      rows.map((row, i) => (i === 4 ? { ...row, status: 'unknown' as ImportedAccount['status'] } : row))
    )
    const hub = (...args: string[]) => hubCli(dataDir, database.env, ...args)
    const refused = await hub('import-accounts', bad)
    expect(refused.status).toBe(1)
    expect(refused.stderr.trim()).toBe('导入被拒绝，未做任何改动：第 6 行（status）：参保状态不正确')
    const imported = await hub('import-accounts', good)
    expect(imported.stderr).toBe('')
    expect(imported.status).toBe(0)
    expect(imported.stdout).toMatch(
      /^已导入 \d+ 行（地区 .*）：新增 1，变更 2，未变 \d+，删除 1；快照版本 \d+，用时/
    )
    for (const row of rows) expect(imported.stdout + refused.stderr).not.toContain(row.idNumber)
  }, 60_000)
})
