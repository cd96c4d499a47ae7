import type { Knex } from 'knex'
import { wholeAtLeast } from '../dialect'

/**
 * The reference centre's own schema (its own file, never the terminal's): the population it
 * settles against, what every terminal was told, and every upload result, kept for good.
 *
 * Snapshot versions: `hub_state.snapshot_version` counts committed changes. Each account row
 * carries the version it last changed at, and an account that leaves a region leaves a row in
 * `removals`, so "changed after v" is one indexed range per region.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('hub_state', (table) => {
    table.string('key').primary()
    table.integer('value').notNullable()
  })
  // Version 1 is the empty population: a snapshot version is always positive.
  await db('hub_state').insert([
    { key: 'snapshot_version', value: 1 },
    // Deltas are complete only for `since` at or after this (removals before it may be pruned).
    { key: 'delta_floor', value: 0 }
  ])

  await db.schema.createTable('regions', (table) => {
    table.string('code', 6).primary()
    table.string('name').notNullable()
  })

  await db.schema.createTable('accounts', (table) => {
    table.increments('id')
    table.string('account_no', 32).notNullable().unique()
    table.string('card_number', 9).notNullable().unique()
    table.string('id_number', 18).notNullable().unique()
    table.string('name').notNullable()
    table.string('region_code', 6).notNullable().references('code').inTable('regions')
    table.string('insurance_type').notNullable()
    table.string('status').notNullable()
    table.integer('balance_fen').notNullable()
    table.integer('historical_balance_fen').notNullable()
    table.integer('fitness_card_transfers_fen').notNullable().defaultTo(0)
    table.integer('version').notNullable()
    table.string('updated_at').notNullable()
    table.check("insurance_type in ('employee_active', 'employee_retired', 'resident')")
    table.check("status in ('active', 'suspended', 'terminated')")
    table.check(wholeAtLeast(db, 'balance_fen', 0))
    table.check(`${wholeAtLeast(db, 'historical_balance_fen', 0)} and historical_balance_fen <= balance_fen`)
    table.check(wholeAtLeast(db, 'fitness_card_transfers_fen', 0))
  })
  // (region, version, rowid): a snapshot pages through one region in version order, full or delta.
  await db.schema.raw('create index accounts_region_version on accounts (region_code, version)')

  await db.schema.createTable('family_members', (table) => {
    table.increments('id')
    table.integer('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE')
    table.string('id_number', 18).notNullable()
    table.string('name').notNullable()
    table.string('relation').notNullable()
    table.string('bound_at').notNullable()
    table.unique(['account_id', 'id_number'])
    table.index(['id_number'])
    table.check("relation in ('spouse', 'child', 'parent', 'grandparent', 'grandchild', 'sibling')")
  })

  await db.schema.createTable('removals', (table) => {
    table.string('account_no', 32).notNullable()
    table.string('region_code', 6).notNullable()
    table.integer('version').notNullable()
    table.index(['region_code', 'version'])
  })

  await db.schema.createTable('spending_years', (table) => {
    table.integer('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE')
    /** First day of the settlement year, YYYY-MM-DD (Shanghai). */
    table.string('year_from', 10).notNullable()
    table.integer('spent_fen').notNullable()
    table.primary(['account_id', 'year_from'])
    table.check(wholeAtLeast(db, 'spent_fen', 0))
  })

  await db.schema.createTable('rule_bundles', (table) => {
    table.string('region_code', 6).notNullable()
    table.integer('version').notNullable()
    table.string('effective_from').notNullable()
    table.string('key_id').notNullable()
    table.text('envelope').notNullable()
    table.string('received_at').notNullable()
    /** A withdrawn version is no longer served, and sales made under it are refused (RULES_WITHDRAWN). */
    table.string('withdrawn_at')
    table.string('withdrawn_reason')
    table.primary(['region_code', 'version'])
  })

  await db.schema.createTable('enrolment_codes', (table) => {
    table.string('code').primary()
    table.text('region_codes_json').notNullable()
    /** Demo codes only: any number of terminals may register with it. */
    table.boolean('reusable').notNullable().defaultTo(false)
    table.string('used_by')
    table.string('used_at')
    table.string('created_at').notNullable()
  })

  await db.schema.createTable('terminals', (table) => {
    table.string('id').primary()
    table.string('territory').notNullable()
    table.string('app_version').notNullable()
    table.text('public_key_pem').notNullable()
    /** SHA-256 of the refresh secret (32 random bytes: a slow hash adds nothing). */
    table.string('refresh_secret_hash', 64).notNullable()
    table.text('region_codes_json').notNullable()
    /** The snapshot version at which the region set last changed: a delta from before it would miss regions. */
    table.integer('regions_since_version').notNullable()
    table.string('registered_at').notNullable()
    table.string('updated_at').notNullable()
  })

  await db.schema.createTable('tokens', (table) => {
    table.string('token_hash', 64).primary()
    table.string('terminal_id').notNullable().references('id').inTable('terminals').onDelete('CASCADE')
    table.string('expires_at').notNullable()
    table.index(['terminal_id'])
  })

  await db.schema.createTable('hub_sales', (table) => {
    table.string('sale_id', 36).primary()
    table.string('terminal_id').notNullable()
    table.integer('account_id').references('id').inTable('accounts').onDelete('SET NULL')
    table.integer('total_fen').notNullable()
    table.integer('from_historical_fen').notNullable()
    table.integer('from_current_fen').notNullable()
    table.string('year_from', 10).notNullable()
    table.string('created_at').notNullable()
    table.string('settled_at').notNullable()
    table.string('reversed_at')
    table.string('reversal_id', 36)
    table.check('from_historical_fen + from_current_fen = total_fen')
    table.index(['account_id'])
  })

  /** What each person holds, from any channel: a sale here adds its lines, a reversal removes them. */
  await db.schema.createTable('holdings', (table) => {
    table.increments('id')
    table.string('insured_id_number', 18).notNullable()
    table.string('product_code').notNullable()
    table.string('cover_from').notNullable()
    table.string('cover_to').notNullable()
    table.integer('payer_account_id').references('id').inTable('accounts').onDelete('SET NULL')
    table.string('sale_id', 36).references('sale_id').inTable('hub_sales')
    table.string('bought_at').notNullable()
    table.index(['insured_id_number'])
    table.index(['payer_account_id'])
    table.index(['sale_id'])
  })

  /** Every decided upload item, for good: a resend gets the same answer. */
  await db.schema.createTable('item_results', (table) => {
    table.string('item_id', 36).primary()
    table.string('terminal_id').notNullable()
    table.string('type').notNullable()
    table.string('outcome').notNullable()
    table.string('code')
    /** Up to 500 characters (text: PostgreSQL would hold a varchar to 255). */
    table.text('message')
    table.string('settled_at').notNullable()
    /** SHA-256 of the item as first received: a resend with other content is logged. */
    table.string('content_sha256', 64).notNullable()
    table.check("type in ('sale', 'reversal')")
    table.check("outcome in ('accepted', 'rejected')")
  })
}

export async function down(db: Knex): Promise<void> {
  for (const table of [
    'item_results',
    'holdings',
    'hub_sales',
    'tokens',
    'terminals',
    'enrolment_codes',
    'rule_bundles',
    'spending_years',
    'removals',
    'family_members',
    'accounts',
    'regions',
    'hub_state'
  ]) {
    await db.schema.dropTable(table)
  }
}
