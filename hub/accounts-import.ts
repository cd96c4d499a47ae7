import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { parse as parseCsv } from 'csv-parse'
import type { Knex } from 'knex'
import { z } from 'zod'
import { INSURANCE_TYPES, ENROLMENT_STATUSES, RELATIONS } from '../core/cardholder'
import { parseResidentId } from '../core/identifiers'
import { shanghaiDate, type Clock } from '../core/time'
import { dialectOf, rawWrite, refreshStatistics } from './db/dialect'
import { nextVersion } from './db/state'

/**
 * The insured population from the medical-insurance platform's export (`npm run hub --
 * import-accounts <file>`): CSV or NDJSON, millions of rows, read as a stream, every row checked,
 * applied all or nothing in one transaction. A later export of the same regions is applied as the
 * changes it holds: an account that is the same keeps its snapshot version, so the next deltas
 * carry only what changed; an account of those regions that the export no longer holds is removed.
 * Messages name a line, never a person.
 */

export class ImportRefused extends Error {
  override readonly name = 'ImportRefused'
}

export interface ImportedAccount {
  readonly accountNo: string
  readonly cardNumber: string
  readonly idNumber: string
  readonly name: string
  readonly regionCode: string
  readonly insuranceType: (typeof INSURANCE_TYPES)[number]
  readonly status: (typeof ENROLMENT_STATUSES)[number]
  readonly balanceFen: number
  readonly historicalBalanceFen: number
  readonly fitnessCardTransfersFen: number
  readonly family: ReadonlyArray<{ idNumber: string; name: string; relation: (typeof RELATIONS)[number] }>
}

export interface ImportSummary {
  readonly rows: number
  readonly regions: readonly string[]
  readonly added: number
  readonly changed: number
  readonly unchanged: number
  readonly removed: number
  /** The snapshot version the changes took; null when nothing changed. */
  readonly version: number | null
}

/** The columns of the CSV form, in this order, with a header line naming them. */
export const ACCOUNT_EXPORT_COLUMNS = [
  'account_no',
  'card_number',
  'id_number',
  'name',
  'region_code',
  'insurance_type',
  'status',
  'balance_fen',
  'historical_balance_fen',
  'fitness_card_transfers_fen',
  'family'
] as const

const zhCN = z.locales.zhCN().localeError

/** A removal of more than this share of a region's accounts is taken for a cut-off export unless allowed. */
const REMOVAL_SHARE_CHECKED = 0.05

const personName = z
  .string()
  .min(1, '姓名为空')
  .max(50, '姓名超过 50 个字符')
  .refine((name) => !/[\p{Cc}]/u.test(name), '姓名含控制字符')
const fen = (what: string) =>
  z
    .number({ error: `${what}应为整数（分）` })
    .int(`${what}应为整数（分）`)
    .min(0, `${what}不能为负`)
    .max(2_000_000_000, `${what}超出范围`)

function rowSchema(today: string) {
  const idNumber = (what: string) =>
    z.string().superRefine((value, ctx) => {
      const parsed = parseResidentId(value, today)
      if (!parsed.ok || parsed.value.idNumber !== value || parsed.value.convertedFrom15)
        ctx.addIssue({
          code: 'custom',
          message: `${what}：${parsed.ok ? '应为 18 位大写形式' : parsed.reason}`
        })
    })
  return z
    .strictObject({
      accountNo: z.string().regex(/^[0-9A-Z]{6,32}$/, '账户号应为 6–32 位数字或大写字母'),
      cardNumber: z.string().regex(/^[0-9A-Z]{9}$/, '社会保障卡号应为 9 位数字或大写字母'),
      idNumber: idNumber('身份证号'),
      name: personName,
      regionCode: z.string().regex(/^\d{6}$/, '地区代码应为 6 位数字'),
      insuranceType: z.enum(INSURANCE_TYPES, { error: '参保类型不正确' }),
      status: z.enum(ENROLMENT_STATUSES, { error: '参保状态不正确' }),
      balanceFen: fen('余额'),
      historicalBalanceFen: fen('历年结余'),
      fitnessCardTransfersFen: fen('健身卡划转').default(0),
      family: z
        .array(
          z.strictObject({
            idNumber: idNumber('家庭成员身份证号'),
            name: personName,
            relation: z.enum(RELATIONS, { error: '家庭成员关系不正确' })
          })
        )
        .max(20, '家庭成员超过 20 人')
        .default([])
    })
    .superRefine((row, ctx) => {
      if (row.historicalBalanceFen > row.balanceFen)
        ctx.addIssue({ code: 'custom', message: '历年结余大于余额' })
      const members = new Set(row.family.map((member) => member.idNumber))
      if (members.size !== row.family.length) ctx.addIssue({ code: 'custom', message: '家庭成员重复' })
      if (members.has(row.idNumber)) ctx.addIssue({ code: 'custom', message: '本人列在自己的家庭成员中' })
    })
}

/** `spouse|330802…|周慧;child|…|…`: a CSV cell cannot hold a list, so the family is one. */
function familyOfCell(cell: string): unknown[] {
  if (cell.trim() === '') return []
  return cell.split(';').map((member) => {
    const [relation, idNumber, name, ...rest] = member.split('|')
    if (rest.length > 0 || name === undefined) return { malformed: true }
    return { relation, idNumber, name }
  })
}

function wholeNumber(cell: string | undefined): unknown {
  return cell !== undefined && /^\d{1,12}$/.test(cell) ? Number(cell) : cell
}

/** The rows of an export, each with its line number, as plain objects in the NDJSON form. */
async function* rawRows(
  file: string,
  format: 'csv' | 'ndjson'
): AsyncGenerator<{ line: number; value: unknown }> {
  if (format === 'ndjson') {
    const lines = createInterface({
      input: createReadStream(file, { encoding: 'utf8' }),
      crlfDelay: Infinity
    })
    let line = 0
    for await (const text of lines) {
      line += 1
      if (text.trim() === '') continue
      try {
        yield { line, value: JSON.parse(text) as unknown }
      } catch {
        throw new ImportRefused(`第 ${line} 行不是完整的 JSON：文件可能不完整或被改动`)
      }
    }
    return
  }
  const parser = createReadStream(file).pipe(
    parseCsv({ bom: true, columns: false, relax_column_count: false, skip_empty_lines: true, info: true })
  )
  let header: string[] | null = null
  try {
    for await (const record of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = record.record
      if (header === null) {
        header = cells.map((cell) => cell.trim())
        if (JSON.stringify(header) !== JSON.stringify(ACCOUNT_EXPORT_COLUMNS))
          throw new ImportRefused(`第 1 行应为表头：${ACCOUNT_EXPORT_COLUMNS.join(',')}`)
        continue
      }
      const at = (column: (typeof ACCOUNT_EXPORT_COLUMNS)[number]) =>
        cells[ACCOUNT_EXPORT_COLUMNS.indexOf(column)]
      yield {
        line: record.info.lines,
        value: {
          accountNo: at('account_no'),
          cardNumber: at('card_number'),
          idNumber: at('id_number'),
          name: at('name'),
          regionCode: at('region_code'),
          insuranceType: at('insurance_type'),
          status: at('status'),
          balanceFen: wholeNumber(at('balance_fen')),
          historicalBalanceFen: wholeNumber(at('historical_balance_fen')),
          fitnessCardTransfersFen: wholeNumber(at('fitness_card_transfers_fen')),
          family: familyOfCell(at('family') ?? '')
        }
      }
    }
  } catch (error) {
    if (error instanceof ImportRefused) throw error
    const line = error && typeof error === 'object' && 'lines' in error ? Number(error.lines) : null
    throw new ImportRefused(`${line ? `第 ${line} 行` : '文件'}不是有效的 CSV：列数不符或引号不成对`)
  }
  if (header === null) throw new ImportRefused('文件是空的：没有表头，也没有账户')
}

/** Every row checked; the first that is wrong refuses the file, by its line and what is wrong. */
export async function* readAccountExport(
  file: string,
  options: { today: string; format?: 'csv' | 'ndjson' }
): AsyncGenerator<{ line: number; account: ImportedAccount }> {
  const format = options.format ?? (/\.csv$/i.test(file) ? 'csv' : 'ndjson')
  const schema = rowSchema(options.today)
  for await (const { line, value } of rawRows(file, format)) {
    const parsed = schema.safeParse(value, { error: zhCN })
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const field = issue.path.length > 0 ? `（${issue.path.join('.')}）` : ''
      // The issue's own message only: zod's default ones may quote the value, which may be personal.
      const known = [
        'custom',
        'invalid_format',
        'invalid_type',
        'invalid_value',
        'too_big',
        'too_small'
      ].includes(issue.code)
      throw new ImportRefused(`第 ${line} 行${field}：${known ? issue.message : '内容不符合导出格式'}`)
    }
    yield { line, account: parsed.data }
  }
}

const STAGING_ROWS = 400

/**
 * Reads the export into staging tables, then applies it with a few set-wise statements: removed,
 * changed, added. Everything inside one transaction; a refusal anywhere changes nothing.
 */
export async function importAccounts(
  db: Knex,
  file: string,
  options: { clock: Clock; allowManyRemovals?: boolean; format?: 'csv' | 'ndjson' }
): Promise<ImportSummary> {
  const now = options.clock.now().toISOString()
  const today = shanghaiDate(options.clock.now())
  const postgres = dialectOf(db) === 'postgres'
  return db.transaction(async (trx) => {
    const temporary = postgres ? 'on commit drop' : ''
    if (!postgres) {
      await trx.raw('drop table if exists temp.import_accounts')
      await trx.raw('drop table if exists temp.import_family')
    }
    await trx.raw(`create temporary table import_accounts (
        line integer not null, account_no varchar(32) not null, card_number varchar(9) not null,
        id_number varchar(18) not null, name varchar(50) not null, region_code varchar(6) not null,
        insurance_type varchar(20) not null, status varchar(20) not null, balance_fen integer not null,
        historical_balance_fen integer not null, fitness_card_transfers_fen integer not null) ${temporary}`)
    await trx.raw(`create temporary table import_family (
        account_no varchar(32) not null, id_number varchar(18) not null, name varchar(50) not null,
        relation varchar(20) not null) ${temporary}`)
    try {
      let rows = 0
      let accounts: Record<string, unknown>[] = []
      let family: Record<string, unknown>[] = []
      const flush = async () => {
        if (accounts.length > 0) await trx('import_accounts').insert(accounts)
        for (let i = 0; i < family.length; i += STAGING_ROWS)
          await trx('import_family').insert(family.slice(i, i + STAGING_ROWS))
        accounts = []
        family = []
      }
      for await (const { line, account } of readAccountExport(file, { today, format: options.format })) {
        rows += 1
        accounts.push({
          line,
          account_no: account.accountNo,
          card_number: account.cardNumber,
          id_number: account.idNumber,
          name: account.name,
          region_code: account.regionCode,
          insurance_type: account.insuranceType,
          status: account.status,
          balance_fen: account.balanceFen,
          historical_balance_fen: account.historicalBalanceFen,
          fitness_card_transfers_fen: account.fitnessCardTransfersFen
        })
        for (const member of account.family)
          family.push({
            account_no: account.accountNo,
            id_number: member.idNumber,
            name: member.name,
            relation: member.relation
          })
        if (accounts.length >= STAGING_ROWS) await flush()
      }
      await flush()
      if (rows === 0) throw new ImportRefused('文件中没有账户：未做任何改动')
      await trx.raw('create index import_accounts_no on import_accounts (account_no)')
      await trx.raw('create index import_family_no on import_family (account_no)')
      await refuseDuplicates(trx)

      const regions = await trx('import_accounts')
        .distinct('region_code')
        .orderBy('region_code')
        .pluck<string[]>('region_code')
      const known = new Set(await trx('regions').whereIn('code', regions).pluck<string[]>('code'))
      const unknown = regions.filter((code) => !known.has(code))
      if (unknown.length > 0)
        throw new ImportRefused(`地区 ${unknown.join('、')} 不在中心的地区表中：请先加入地区，再导入其账户`)

      // Removed: accounts of these regions that the export no longer holds.
      const leaving = trx('accounts as a')
        .whereIn('a.region_code', regions)
        .whereNotExists(
          trx('import_accounts as s').whereRaw('s.account_no = a.account_no').select(trx.raw('1'))
        )
      const [{ n: removedCount }] = await leaving.clone().count<Array<{ n: number }>>({ n: '*' })
      const [{ n: held }] = await trx('accounts')
        .whereIn('region_code', regions)
        .count<Array<{ n: number }>>({ n: '*' })
      if (!options.allowManyRemovals && removedCount > Math.max(100, held * REMOVAL_SHARE_CHECKED))
        throw new ImportRefused(
          `本次导入将删除 ${removedCount} 个账户（这些地区现有 ${held} 个）：导出文件可能不完整。确认无误请加 --allow-removals 重新导入`
        )
      const removed: Array<{ id: number; account_no: string; region_code: string }> = await leaving
        .clone()
        .select('a.id', 'a.account_no', 'a.region_code')

      // Marked with version -1 until the version is taken, last (hub/db/state.ts nextVersion).
      const CHANGED = -1
      // Every column of the export the account row holds, but the key it is matched on.
      const differs = ACCOUNT_EXPORT_COLUMNS.filter(
        (column) => column !== 'account_no' && column !== 'family'
      )
      for (let i = 0; i < removed.length; i += 500)
        await trx('accounts')
          .whereIn(
            'id',
            removed.slice(i, i + 500).map((row) => row.id)
          )
          .delete()
      const changed = await rawWrite(
        trx,
        `update accounts set ${differs.map((column) => `${column} = s.${column}`).join(', ')}, version = ?, updated_at = ?
               from import_accounts s
              where accounts.account_no = s.account_no and (${differs.map((column) => `accounts.${column} <> s.${column}`).join(' or ')})`,
        [CHANGED, now]
      )
      const added = await rawWrite(
        trx,
        `insert into accounts (account_no, ${differs.join(', ')}, version, updated_at)
             select s.account_no, ${differs.map((column) => `s.${column}`).join(', ')}, ?, ?
               from import_accounts s
              where not exists (select 1 from accounts a where a.account_no = s.account_no)`,
        [CHANGED, now]
      )
      // Family: an account whose bound members differ in any way is changed too.
      const familyChanged = await rawWrite(
        trx,
        `update accounts set version = ?, updated_at = ?
              where version <> ? and account_no in (select account_no from import_accounts)
                and (exists (select f.id_number, f.name, f.relation from family_members f where f.account_id = accounts.id
                             except select i.id_number, i.name, i.relation from import_family i where i.account_no = accounts.account_no)
                  or exists (select i.id_number, i.name, i.relation from import_family i where i.account_no = accounts.account_no
                             except select f.id_number, f.name, f.relation from family_members f where f.account_id = accounts.id))`,
        [CHANGED, now, CHANGED]
      )
      await trx.raw(
        `delete from family_members
          where account_id in (select id from accounts where version = ?)
            and not exists (select 1 from import_family i join accounts a on a.account_no = i.account_no
                             where a.id = family_members.account_id and i.id_number = family_members.id_number
                               and i.name = family_members.name and i.relation = family_members.relation)`,
        [CHANGED]
      )
      await trx.raw(
        `insert into family_members (account_id, id_number, name, relation, bound_at)
         select a.id, i.id_number, i.name, i.relation, ?
           from import_family i join accounts a on a.account_no = i.account_no
          where a.version = ?
            and not exists (select 1 from family_members f where f.account_id = a.id and f.id_number = i.id_number)`,
        [now, CHANGED]
      )
      await refreshStatistics(trx, ['accounts', 'family_members'])
      let version: number | null = null
      if (removed.length + changed + added + familyChanged > 0) {
        version = await nextVersion(trx)
        await trx('accounts').where({ version: CHANGED }).update({ version })
        for (let i = 0; i < removed.length; i += 500)
          await trx('removals').insert(
            removed
              .slice(i, i + 500)
              .map((row) => ({ account_no: row.account_no, region_code: row.region_code, version }))
          )
      }
      return {
        rows,
        regions,
        added,
        changed: changed + familyChanged,
        unchanged: rows - added - changed - familyChanged,
        removed: removed.length,
        version
      }
    } finally {
      if (!postgres) {
        await trx.raw('drop table if exists temp.import_accounts')
        await trx.raw('drop table if exists temp.import_family')
      }
    }
  })
}

/** The same account, card or person twice in one export: refused, naming both lines. */
async function refuseDuplicates(trx: Knex.Transaction): Promise<void> {
  for (const [column, what] of [
    ['account_no', '账户号'],
    ['card_number', '社会保障卡号'],
    ['id_number', '身份证号']
  ] as const) {
    const twice = await trx('import_accounts')
      .select(column)
      .min({ first: 'line' })
      .max({ last: 'line' })
      .groupBy(column)
      .havingRaw('count(*) > 1')
      .orderBy('first')
      .first<{ first: number; last: number } | undefined>()
    if (twice)
      throw new ImportRefused(
        `第 ${twice.first} 行与第 ${twice.last} 行的${what}相同：一个${what}只能有一个账户`
      )
  }
}
