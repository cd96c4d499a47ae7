import type { Knex } from 'knex'

/** Regions, the account snapshot synced from the centre, bound family members, terminal settings. */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('regions', (table) => {
    table.string('code', 6).primary()
    table.string('name').notNullable()
  })

  await db.schema.createTable('accounts', (table) => {
    table.increments('id')
    table.string('card_number', 9).notNullable().unique()
    table.string('id_number', 18).notNullable().unique()
    table.string('name').notNullable()
    table.string('region_code', 6).notNullable().references('code').inTable('regions')
    table.string('insurance_type').notNullable()
    table.string('status').notNullable()
    table.integer('balance_fen').notNullable()
    table.integer('historical_balance_fen').notNullable()
    table.string('balance_as_of').notNullable()
    table.string('updated_at').notNullable()
    table.check("insurance_type in ('employee_active', 'employee_retired', 'resident')")
    table.check("status in ('active', 'suspended', 'terminated')")
    // Money is integer fen: the database refuses a float or text amount outright.
    table.check("typeof(balance_fen) = 'integer' and balance_fen >= 0")
    table.check(
      "typeof(historical_balance_fen) = 'integer' and historical_balance_fen >= 0 and historical_balance_fen <= balance_fen"
    )
  })

  await db.schema.createTable('family_members', (table) => {
    table.increments('id')
    table.integer('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE')
    table.string('id_number', 18).notNullable()
    table.string('name').notNullable()
    table.string('relation').notNullable()
    table.string('bound_at').notNullable()
    table.unique(['account_id', 'id_number'])
    table.check("relation in ('spouse', 'child', 'parent', 'grandparent', 'grandchild', 'sibling')")
  })

  await db.schema.createTable('settings', (table) => {
    table.string('key').primary()
    table.text('value').notNullable()
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('settings')
  await db.schema.dropTable('family_members')
  await db.schema.dropTable('accounts')
  await db.schema.dropTable('regions')
}
