import type { Knex } from 'knex'

/**
 * Everything the centre does differently on PostgreSQL and on SQLite, in one place. The rest of
 * the centre runs the same queries on both; what differs is how a transaction keeps out a
 * concurrent one (SQLite has one writer; PostgreSQL has many, in several processes), a few scalar
 * functions, the shape of a raw query's answer and where settlement numbers come from.
 */

export type HubDialect = 'sqlite' | 'postgres'

/** Of a knex instance, a transaction or a query (each knows the client it runs on). */
export function dialectOf(db: { readonly client: unknown }): HubDialect {
  const client = (db.client as { config: Knex.Config }).config.client
  return client === 'pg' || client === 'postgres' || client === 'postgresql' ? 'postgres' : 'sqlite'
}

/** The rows of `db.raw(select …)`: SQLite answers with the rows, pg with `{ rows }`. */
export function rowsOf<Row>(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[]
  if (result && typeof result === 'object' && 'rows' in result && Array.isArray(result.rows))
    return result.rows as Row[]
  throw new Error('数据库返回了无法识别的查询结果')
}

/** `max(column - ?, 0)` and friends: SQLite's two-argument max is PostgreSQL's greatest. */
export function greatestOf(db: Knex | Knex.Transaction, expression: string, bindings: readonly number[]) {
  const fn = dialectOf(db) === 'postgres' ? 'greatest' : 'max'
  return db.raw(`${fn}(${expression})`, [...bindings])
}

/**
 * A CHECK that a column holds a whole number at least `min`. SQLite stores whatever it is given
 * (a column typed integer still takes 1.5 or '1'), so it checks the type too; PostgreSQL's
 * integer column does that itself.
 */
export function wholeAtLeast(db: Knex, column: string, min: number): string {
  const bound = `${column} >= ${min}`
  return dialectOf(db) === 'postgres' ? bound : `typeof(${column}) = 'integer' and ${bound}`
}

/**
 * Keeps other transactions out of what this one settles, until it commits: the payer's account,
 * each insured person (two payers may buy for the same child at once), a sale. On PostgreSQL a
 * transaction-scoped advisory lock per key, taken in a fixed order so two transactions asking for
 * the same keys cannot deadlock; SQLite's single writer already runs one transaction at a time.
 */
export async function lockKeys(trx: Knex.Transaction, keys: Iterable<string>): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return
  const sorted = [...new Set(keys)].sort()
  if (sorted.length === 0) return
  // One round trip, taken in the array's order.
  await trx.raw(
    'select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest(?::text[]) with ordinality as t(k, n) order by n',
    [sorted]
  )
}

/**
 * The lock on `key` if no one holds it, else false at once (PostgreSQL); SQLite's lone writer
 * always has it. For work one process may do for all, such as issuing policy numbers.
 */
export async function tryLockKey(trx: Knex.Transaction, key: string): Promise<boolean> {
  if (dialectOf(trx) !== 'postgres') return true
  const [{ locked }] = rowsOf<{ locked: boolean }>(
    await trx.raw('select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as locked', [key])
  )
  return locked
}

/** Locks these rows until commit, in id order (PostgreSQL; SQLite's writer is alone anyway). */
export async function lockRowsById(
  trx: Knex.Transaction,
  table: string,
  ids: readonly number[]
): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return
  const sorted = [...ids].sort((a, b) => a - b)
  for (let i = 0; i < sorted.length; i += 500)
    await trx(table)
      .whereIn('id', sorted.slice(i, i + 500))
      .orderBy('id')
      .forUpdate()
      .select('id')
}

/** `select … for update` on PostgreSQL: the row read is the latest committed and stays so until commit. */
export function forUpdate<Q extends Knex.QueryBuilder>(query: Q): Q {
  return dialectOf(query) === 'postgres' ? (query.forUpdate() as Q) : query
}

/**
 * A read that must see one moment of the database throughout (a snapshot's pages, its counter):
 * SQLite's read transaction on its own connection is that already; PostgreSQL's default (read
 * committed) gives every statement a newer view, so the read asks for repeatable read.
 */
export function readConsistently<T>(reader: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return dialectOf(reader) === 'postgres'
    ? reader.transaction(work, { isolationLevel: 'repeatable read', readOnly: true })
    : reader.transaction(work)
}

const RETRYABLE = new Set([
  // serialization_failure, deadlock_detected: PostgreSQL undid this transaction for another's sake.
  '40001',
  '40P01',
  // unique_violation: a concurrent transaction inserted the same item first; the retry finds it.
  '23505'
])

/** How often a transaction that lost a race to another process is tried again. */
const ATTEMPTS = 8

/**
 * Runs `work` in a transaction, again from the start when PostgreSQL undid it for a concurrent
 * one (a deadlock, or the same item settled by another process a moment earlier). `work` must
 * start from nothing each time: what it changes outside the database it resets itself.
 */
export async function transactionWithRetry<T>(
  db: Knex,
  work: (trx: Knex.Transaction, attempt: number) => Promise<T>
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((trx) => work(trx, attempt))
    } catch (error) {
      if (attempt >= ATTEMPTS || dialectOf(db) !== 'postgres' || !RETRYABLE.has(codeOf(error))) throw error
      // A little apart, so two processes that collided do not collide again at once.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt))
    }
  }
}

function codeOf(error: unknown): string {
  return error && typeof error === 'object' && 'code' in error && typeof error.code === 'string'
    ? error.code
    : ''
}

/** Rows per multi-row insert or update: well inside both servers' limits on bound values. */
const ROWS_AT_ONCE = 500

/**
 * Stores decided items' results, each with its settlement reference (ZX…) when `referenceOf` gives
 * one for its number; answers the references in the rows' order. The numbers: PostgreSQL's own
 * sequence, which hands them out without making concurrent transactions wait for each other;
 * SQLite's rowid of the stored result (the numbers issued so far came from it; its lone writer makes
 * the largest one plus one the next). All rows in one insert.
 */
export async function insertResults<Row extends Record<string, unknown>>(
  trx: Knex.Transaction,
  rows: readonly Row[],
  referenceOf: (row: Row, n: number) => string | null
): Promise<Array<string | null>> {
  if (rows.length === 0) return []
  const query = settlementNumbersQuery(trx, rows.length)
  const drawn = query ? drawnNumbers(rowsOf<{ n: number | string }>(await query)) : []
  const numbered = numberedResults(trx, rows, drawn, referenceOf)
  await insertAll(trx, 'item_results', numbered.rows)
  return numbered.references
}

/** `count` numbers, one a row: each of `next` on PostgreSQL, `last` + 1, + 2, … on SQLite (`bindings` for either). */
function drawQuery(
  trx: Knex.Transaction,
  count: number,
  next: string,
  last: string,
  bindings: readonly Knex.RawBinding[]
): Knex.Raw | null {
  if (count === 0) return null
  return dialectOf(trx) === 'postgres'
    ? trx.raw(`select ${next} as n from generate_series(1, ?)`, [...bindings, count])
    : trx.raw(
        `with recursive k(i) as (select 1 union all select i + 1 from k where i < ?) select (${last}) + i as n from k`,
        [count, ...bindings]
      )
}

/**
 * Draws `count` settlement numbers (insertResults), to be read with readTogether: PostgreSQL's
 * sequence; on SQLite the rowids after item_results' last.
 */
export function settlementNumbersQuery(trx: Knex.Transaction, count: number): Knex.Raw | null {
  return drawQuery(
    trx,
    count,
    "nextval('settlement_numbers')",
    'select coalesce(max(rowid), 0) from item_results',
    []
  )
}

/**
 * Draws `count` ids of `table`'s serial id column, so rows that refer to each other can be written
 * in one statement: PostgreSQL's sequence of the column; SQLite's autoincrement counter, which
 * never gives a deleted row's id again (its lone writer holds it until commit).
 */
export function nextIdsQuery(trx: Knex.Transaction, table: string, count: number): Knex.Raw | null {
  return drawQuery(
    trx,
    count,
    "nextval(pg_get_serial_sequence(?, 'id'))",
    'select coalesce((select seq from sqlite_sequence where name = ?), 0)',
    [table]
  )
}

/** The numbers such a query drew, in order. */
export function drawnNumbers(rows: ReadonlyArray<{ readonly n: number | string }>): number[] {
  return rows.map((row) => Number(row.n)).sort((a, b) => a - b)
}

/** Results as stored, each with its number's reference (and on SQLite the number as its rowid). */
export function numberedResults<Row extends Record<string, unknown>>(
  trx: Knex.Transaction,
  rows: readonly Row[],
  numbers: readonly number[],
  referenceOf: (row: Row, n: number) => string | null
): { rows: Array<Record<string, unknown>>; references: Array<string | null> } {
  const postgres = dialectOf(trx) === 'postgres'
  const references = rows.map((row, index) => referenceOf(row, numbers[index]))
  return {
    rows: rows.map((row, index) => ({
      ...row,
      reference: references[index],
      ...(postgres ? {} : { rowid: numbers[index] })
    })),
    references
  }
}

/** A multi-row insert, in slices of ROWS_AT_ONCE. */
export async function insertAll(
  trx: Knex.Transaction,
  table: string,
  rows: ReadonlyArray<Record<string, unknown>>
): Promise<void> {
  for (const statement of insertStatements(trx, table, rows)) await statement
}

/**
 * The statements of insertAll, for writeTogether. On PostgreSQL the rows go as one JSON value,
 * made into the table's own row type there: planned the same for one row or thousands (a list of
 * values is planned anew for each length, and planning was a third of the database's time under
 * bench:centre). Rows that do not all name the same columns with values (one left out or
 * undefined gets the column's default in a list of values) are inserted that way on both.
 */
export function insertStatements(
  trx: Knex.Transaction,
  table: string,
  rows: ReadonlyArray<Record<string, unknown>>
): Array<Knex.QueryBuilder | Knex.Raw> {
  if (rows.length === 0) return []
  const columns = Object.keys(rows[0])
  const alike = rows.every(
    (row) =>
      Object.keys(row).length === columns.length && columns.every((column) => row[column] !== undefined)
  )
  if (dialectOf(trx) === 'postgres' && alike) {
    const names = columns.map(() => '??').join(', ')
    const statements: Knex.Raw[] = []
    for (let i = 0; i < rows.length; i += ROWS_AT_ONCE)
      statements.push(
        trx.raw(`insert into ?? (${names}) select ${names} from json_populate_recordset(null::??, ?)`, [
          table,
          ...columns,
          ...columns,
          table,
          JSON.stringify(rows.slice(i, i + ROWS_AT_ONCE))
        ])
      )
    return statements
  }
  const statements: Knex.QueryBuilder[] = []
  for (let i = 0; i < rows.length; i += ROWS_AT_ONCE)
    statements.push(trx(table).insert(rows.slice(i, i + ROWS_AT_ONCE)))
  return statements
}

/** How a value of `updateRows` is typed: PostgreSQL cannot infer a bare parameter's type in a union. */
export type ColumnType = 'whole' | 'text'

/**
 * Sets columns of many rows, each row to its own values: `update … from` the values (SQLite 3.33
 * and later has it too; there a list of selects, one statement per slice; on PostgreSQL one array
 * a column, one statement), matching `key` (the table's id, or another column: every row with
 * that value is set).
 */
export async function updateRows<Row extends Readonly<Record<string, number | string | null>>>(
  trx: Knex.Transaction,
  table: string,
  key: { readonly column: string; readonly type: ColumnType },
  columns: Readonly<Record<string, ColumnType>>,
  rows: readonly Row[]
): Promise<void> {
  for (const statement of updateStatements(trx, table, key, columns, rows)) await statement
}

/** The statements of updateRows, for writeTogether. */
export function updateStatements<Row extends Readonly<Record<string, number | string | null>>>(
  trx: Knex.Transaction,
  table: string,
  key: { readonly column: string; readonly type: ColumnType },
  columns: Readonly<Record<string, ColumnType>>,
  rows: readonly Row[]
): Knex.Raw[] {
  const sqlType = { whole: 'bigint', text: 'text' } as const
  const set = Object.keys(columns)
  const typed = [[key.column, key.type] as const, ...Object.entries(columns)]
  const assignments = set.map(() => '?? = v.??').join(', ')
  if (rows.length === 0) return []
  if (dialectOf(trx) === 'postgres') {
    // One array a column: planned the same for one row or thousands. A union of 500 selects took
    // PostgreSQL's planner about 100 ms, more than the update itself (pg_stat_statements).
    const bindings: Knex.RawBinding[] = [table, ...set.flatMap((column) => [column, column])]
    for (const [name] of typed) bindings.push(rows.map((row) => row[name]) as Knex.Value)
    bindings.push(...typed.map(([name]) => name), table, key.column, key.column)
    return [
      trx.raw(
        `update ?? set ${assignments} from unnest(${typed.map(([, type]) => `?::${sqlType[type]}[]`).join(', ')}) as v(${typed.map(() => '??').join(', ')}) where ??.?? = v.??`,
        bindings
      )
    ]
  }
  const select = `select ${typed.map(([, type]) => `cast(? as ${sqlType[type]}) as ??`).join(', ')}`
  const statements: Knex.Raw[] = []
  for (let i = 0; i < rows.length; i += ROWS_AT_ONCE) {
    const slice = rows.slice(i, i + ROWS_AT_ONCE)
    const bindings: Knex.RawBinding[] = [table, ...set.flatMap((column) => [column, column])]
    for (const row of slice) for (const [name] of typed) bindings.push(row[name], name)
    bindings.push(table, key.column, key.column)
    statements.push(
      trx.raw(
        `update ?? set ${assignments} from (${slice.map(() => select).join(' union all ')}) as v where ??.?? = v.??`,
        bindings
      )
    )
  }
  return statements
}

/** A query of `readTogether`, or null for one with nothing to ask (its answer is no rows). */
export type ReadQuery = Knex.QueryBuilder | Knex.Raw | null

/**
 * Independent reads in one round trip: PostgreSQL answers one row whose columns are the queries'
 * rows as JSON arrays (a settlement run's facts were six round trips, and under load each round
 * trip waits for both processes to be scheduled again). SQLite, in this process, runs them one
 * after another. Every query sees what was committed before the call; the values come back as
 * JSON has them (text as strings, integer columns as numbers), as both drivers give them.
 */
export async function readTogether<Rows extends Record<string, readonly unknown[]>>(
  trx: Knex.Transaction,
  queries: { readonly [Name in keyof Rows]: ReadQuery }
): Promise<Rows> {
  const names = Object.keys(queries) as Array<keyof Rows & string>
  const answers: Record<string, unknown[]> = Object.fromEntries(names.map((name) => [name, []]))
  const asked = names.flatMap((name) => {
    const query = queries[name]
    return query ? [{ name, query }] : []
  })
  if (asked.length === 0) return answers as unknown as Rows
  if (dialectOf(trx) !== 'postgres') {
    for (const { name, query } of asked) answers[name] = rowsOf<unknown>(await query)
    return answers as unknown as Rows
  }
  const bindings: Knex.RawBinding[] = []
  const columns = asked.map(({ name, query }) => {
    const { sql, bindings: own } = query.toSQL()
    bindings.push(...(own as Knex.RawBinding[]))
    return `(select coalesce(json_agg(r), '[]'::json) from (${sql}) as r) as "${name}"`
  })
  const [row] = rowsOf<Record<string, unknown[]>>(await trx.raw(`select ${columns.join(', ')}`, bindings))
  for (const { name } of asked) answers[name] = row[name]
  return answers as unknown as Rows
}

/** Bound values in one statement of writeTogether: PostgreSQL takes at most 65,535. */
const BINDINGS_AT_ONCE = 30_000

/**
 * Writes in one round trip on PostgreSQL: the statements as the parts of one `with`, each run in
 * full (they do not see each other's rows, and need not: none reads what another writes; foreign
 * keys are checked at the statement's end). Given in an order they could run in one after another
 * (a row before the rows that refer to it): SQLite runs them so, and PostgreSQL splits a call too
 * big for one statement in that order.
 */
export async function writeTogether(
  trx: Knex.Transaction,
  statements: ReadonlyArray<Knex.QueryBuilder | Knex.Raw>
): Promise<void> {
  if (dialectOf(trx) !== 'postgres') {
    for (const statement of statements) await statement
    return
  }
  let parts: string[] = []
  let bindings: Knex.RawBinding[] = []
  const flush = async () => {
    if (parts.length === 0) return
    await trx.raw(`with ${parts.join(', ')} select 1`, bindings)
    parts = []
    bindings = []
  }
  for (const statement of statements) {
    const { sql, bindings: own } = statement.toSQL()
    if (parts.length > 0 && bindings.length + own.length > BINDINGS_AT_ONCE) await flush()
    parts.push(`w${parts.length} as (${sql})`)
    bindings.push(...(own as Knex.RawBinding[]))
  }
  await flush()
}

/** A raw insert, update or delete, answering how many rows it touched (SQLite's driver does not say; it is asked). */
export async function rawWrite(
  trx: Knex.Transaction,
  sql: string,
  bindings: readonly unknown[]
): Promise<number> {
  const result: unknown = await trx.raw(sql, bindings as Knex.RawBinding[])
  if (dialectOf(trx) === 'postgres')
    return result && typeof result === 'object' && 'rowCount' in result ? Number(result.rowCount) : 0
  const [{ n }] = rowsOf<{ n: number }>(await trx.raw('select changes() as n'))
  return Number(n)
}

/**
 * After a bulk load (an import, synthetic accounts): PostgreSQL plans by table statistics, and a
 * table it last saw empty is planned as empty until autovacuum comes round. SQLite needs nothing.
 */
export async function refreshStatistics(
  db: Knex | Knex.Transaction,
  tables: readonly string[]
): Promise<void> {
  if (dialectOf(db) !== 'postgres') return
  for (const table of tables) await db.raw(`analyze ${table}`)
}
