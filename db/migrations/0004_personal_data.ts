import type { Knex } from 'knex'
import { KEY_CHECK_SETTING, sealKeyCheck, type PersonalDataCipher } from '../personal-data'

/**
 * Personal data at rest: card numbers, ID numbers and names leave the tables as plain text. Each is
 * kept as a keyed hash (to find a row) and sealed (to show it), with the snapshot fields the sync
 * fills: the centre's account number, this year's spending, holdings, the snapshot's version.
 *
 * Dropping UNIQUE, indexed or FK-referenced columns needs SQLite's 12-step table rebuild, with
 * foreign keys off; `PRAGMA foreign_keys` does nothing inside a transaction, so this migration runs
 * outside knex's (config.transaction = false) and keeps its own. Afterwards the file is vacuumed and
 * the WAL truncated, so no freed page still holds the old plain text.
 *
 * Frozen once shipped: it writes the sealed records in their version-1 form itself, rather than
 * through repository code that may change later.
 */

const PAGE = 500
/** Rows per INSERT: 15 columns × 100 stays far below SQLite's limit of bound variables. */
const INSERT_ROWS = 100

const ACCOUNT_CHECKS = `
  check (insurance_type in ('employee_active', 'employee_retired', 'resident')),
  check (status in ('active', 'suspended', 'terminated')),
  check (typeof(balance_fen) = 'integer' and balance_fen >= 0),
  check (typeof(historical_balance_fen) = 'integer' and historical_balance_fen >= 0 and historical_balance_fen <= balance_fen),
  check (typeof(spent_this_year_fen) = 'integer' and spent_this_year_fen >= 0),
  check (typeof(fitness_card_transfers_fen) = 'integer' and fitness_card_transfers_fen >= 0)`

const SCHEMA = {
  accounts: `create table accounts_new (
    id integer not null primary key autoincrement,
    account_no varchar(32) not null,
    card_hash blob not null,
    id_hash blob not null,
    pii blob not null,
    region_code varchar(6) not null references regions (code),
    insurance_type varchar(255) not null,
    status varchar(255) not null,
    balance_fen integer not null,
    historical_balance_fen integer not null,
    spent_this_year_fen integer not null default 0,
    fitness_card_transfers_fen integer not null default 0,
    balance_as_of varchar(255) not null,
    updated_at varchar(255) not null,
    removed_at varchar(255),${ACCOUNT_CHECKS}
  )`,
  accountsIndexes: [
    'create unique index accounts_account_no_unique on accounts (account_no)',
    // Unique among accounts still in the snapshot: a removed account kept for its sales must not
    // stop the same card or person from arriving again under another account.
    'create unique index accounts_card_hash_unique on accounts (card_hash) where removed_at is null',
    'create unique index accounts_id_hash_unique on accounts (id_hash) where removed_at is null'
  ],
  familyMembers: `create table family_members_new (
    id integer not null primary key autoincrement,
    account_id integer not null references accounts (id) on delete cascade,
    id_hash blob not null,
    pii blob not null,
    relation varchar(255) not null,
    bound_at varchar(255) not null,
    check (relation in ('spouse', 'child', 'parent', 'grandparent', 'grandchild', 'sibling'))
  )`,
  familyMembersIndexes: [
    'create unique index family_members_account_id_id_hash_unique on family_members (account_id, id_hash)'
  ],
  saleLines: `create table sale_lines_new (
    id integer not null primary key autoincrement,
    sale_id varchar(36) not null references sales (id),
    line_no integer not null,
    insured_relation varchar(255) not null,
    insured_id_hash blob not null,
    insured_pii blob not null,
    product_code varchar(255) not null,
    product_name varchar(255) not null,
    units integer,
    premium_fen integer not null,
    cover_from varchar(255) not null,
    cover_to varchar(255) not null,
    proof_seen boolean not null,
    decision_json text not null,
    check (typeof(premium_fen) = 'integer' and premium_fen > 0)
  )`,
  saleLinesIndexes: [
    'create unique index sale_lines_sale_id_line_no_unique on sale_lines (sale_id, line_no)',
    'create index sale_lines_insured_id_hash_product_code_index on sale_lines (insured_id_hash, product_code)'
  ],
  outbox: `create table outbox_new (
    id varchar(36) not null primary key,
    kind varchar(255) not null,
    sale_id varchar(36) not null references sales (id),
    payload_sealed blob not null,
    created_at varchar(255) not null,
    state varchar(255) not null default 'pending',
    attempts integer not null default 0,
    check (kind in ('sale', 'reversal')),
    check (state in ('pending', 'sent', 'cancelled'))
  )`,
  holdings: [
    // What each person already holds in its cover year, per the centre (any channel).
    `create table holdings (
      id integer not null primary key autoincrement,
      account_id integer not null references accounts (id) on delete cascade,
      id_hash blob not null,
      product_code varchar(40) not null,
      cover_from varchar(255) not null,
      cover_to varchar(255) not null
    )`,
    'create index holdings_id_hash_product_code_index on holdings (id_hash, product_code)',
    'create index holdings_account_id_index on holdings (account_id)'
  ],
  snapshotState: [
    // One row: which snapshot the accounts are. Version 0 is none from the centre (fresh or demo).
    `create table snapshot_state (
      id integer not null primary key check (id = 1),
      version integer not null default 0 check (typeof(version) = 'integer' and version >= 0),
      "full" boolean not null default 0,
      balances_as_of varchar(255),
      received_at varchar(255)
    )`,
    `insert into snapshot_state (id, version, "full", balances_as_of, received_at) values (1, 0, 0, null, null)`
  ]
}

/** Copies a table page by page through `convert`, in id order, into `<table>_new`. */
async function copyRows<Row extends { id: number | string }>(
  trx: Knex.Transaction,
  table: string,
  convert: (row: Row) => Record<string, unknown>
): Promise<void> {
  let after: number | string | null = null
  for (;;) {
    const rows = (
      after === null
        ? await trx.raw(`select * from ${table} order by id limit ?`, [PAGE])
        : await trx.raw(`select * from ${table} where id > ? order by id limit ?`, [after, PAGE])
    ) as Row[]
    if (rows.length === 0) return
    const converted = rows.map(convert)
    for (let start = 0; start < converted.length; start += INSERT_ROWS)
      await trx(`${table}_new`).insert(converted.slice(start, start + INSERT_ROWS))
    after = rows[rows.length - 1].id
  }
}

/** Drops the old table and puts the new one in its place (steps 6–8 of SQLite's table rebuild). */
async function swap(trx: Knex.Transaction, table: string, indexes: readonly string[]): Promise<void> {
  const [sequence] = (await trx.raw('select seq from sqlite_sequence where name = ?', [table])) as Array<{
    seq: number
  }>
  await trx.raw(`drop table ${table}`)
  await trx.raw(`alter table ${table}_new rename to ${table}`)
  for (const sql of indexes) await trx.raw(sql)
  // Ids never come back: a deleted row's id stays used, as AUTOINCREMENT promised before.
  if (sequence)
    await trx.raw('update sqlite_sequence set seq = max(seq, ?) where name = ?', [sequence.seq, table])
}

interface OldAccount {
  id: number
  card_number: string
  id_number: string
  name: string
  region_code: string
  insurance_type: string
  status: string
  balance_fen: number
  historical_balance_fen: number
  balance_as_of: string
  updated_at: string
  fitness_card_transfers_fen: number
}

interface OldMember {
  id: number
  account_id: number
  id_number: string
  name: string
  relation: string
  bound_at: string
}

type OldLine = { id: number; insured_id_number: string; insured_name: string } & Record<string, unknown>
type OldOutbox = { id: string; payload_json: string } & Record<string, unknown>

export async function up(db: Knex, cipher: PersonalDataCipher): Promise<void> {
  await db.raw('PRAGMA foreign_keys = OFF')
  try {
    await db.transaction(async (trx) => {
      // One connection (db/connection.ts), so the pragma above holds here; make sure it does.
      const [{ foreign_keys: enforced }] = (await trx.raw('PRAGMA foreign_keys')) as Array<{
        foreign_keys: number
      }>
      if (enforced !== 0)
        throw new Error('0004_personal_data: foreign keys still enforced; the table rebuild would cascade')
      // Committed but not recorded (a crash before knex wrote its row): nothing left to do.
      if (await trx.schema.hasColumn('accounts', 'pii')) return

      await trx.raw(SCHEMA.accounts)
      // The number the snapshot will later replace with the centre's own. The card's letter was
      // left out, so two cards differing only in it (C33080001, X33080001) gave one number and the
      // upgrade failed on every start; the second keeps its letter.
      const accountNumbers = new Set<string>()
      const accountNoOf = (row: OldAccount) => {
        const short = row.region_code + row.card_number.slice(1)
        const accountNo = accountNumbers.has(short) ? row.region_code + row.card_number : short
        accountNumbers.add(accountNo)
        return accountNo
      }
      await copyRows<OldAccount>(trx, 'accounts', (row) => ({
        id: row.id,
        account_no: accountNoOf(row),
        card_hash: cipher.lookupHash(row.card_number),
        id_hash: cipher.lookupHash(row.id_number),
        pii: cipher.seal(JSON.stringify({ c: row.card_number, i: row.id_number, n: row.name })),
        region_code: row.region_code,
        insurance_type: row.insurance_type,
        status: row.status,
        balance_fen: row.balance_fen,
        historical_balance_fen: row.historical_balance_fen,
        spent_this_year_fen: 0,
        fitness_card_transfers_fen: row.fitness_card_transfers_fen,
        balance_as_of: row.balance_as_of,
        updated_at: row.updated_at,
        removed_at: null
      }))
      await swap(trx, 'accounts', SCHEMA.accountsIndexes)

      await trx.raw(SCHEMA.familyMembers)
      await copyRows<OldMember>(trx, 'family_members', (row) => ({
        id: row.id,
        account_id: row.account_id,
        id_hash: cipher.lookupHash(row.id_number),
        pii: cipher.seal(JSON.stringify({ i: row.id_number, n: row.name })),
        relation: row.relation,
        bound_at: row.bound_at
      }))
      await swap(trx, 'family_members', SCHEMA.familyMembersIndexes)

      await trx.raw(SCHEMA.saleLines)
      await copyRows<OldLine>(
        trx,
        'sale_lines',
        ({ insured_id_number: idNumber, insured_name: name, ...rest }) => ({
          ...rest,
          insured_id_hash: cipher.lookupHash(idNumber),
          insured_pii: cipher.seal(JSON.stringify({ i: idNumber, n: name }))
        })
      )
      await swap(trx, 'sale_lines', SCHEMA.saleLinesIndexes)

      await trx.raw(SCHEMA.outbox)
      await copyRows<OldOutbox>(trx, 'outbox', ({ payload_json: payload, ...rest }) => ({
        ...rest,
        payload_sealed: cipher.seal(payload)
      }))
      await swap(trx, 'outbox', [])

      for (const sql of [...SCHEMA.holdings, ...SCHEMA.snapshotState]) await trx.raw(sql)
      // Proves on every later start that the key in use is the one this data was sealed with.
      await trx('settings').insert({ key: KEY_CHECK_SETTING, value: sealKeyCheck(cipher) })

      const broken = (await trx.raw('PRAGMA foreign_key_check')) as unknown[]
      if (broken.length > 0)
        throw new Error(
          `0004_personal_data: ${broken.length} rows would break a foreign key; nothing was changed`
        )
    })
  } finally {
    await db.raw('PRAGMA foreign_keys = ON')
  }
  // Dropped tables leave their pages, plain text included, on the free list; VACUUM rewrites the
  // file without them, and the checkpoint empties the WAL of older page images.
  await db.raw('VACUUM')
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)')
}

export async function down(): Promise<void> {
  // Writing personal data back in plain text is not offered; the copy taken before 0004 is the way back.
  throw new Error(
    '0004_personal_data cannot be undone: restore the backup copy taken before it (backups/…-before-0004_personal_data.sqlite3)'
  )
}
