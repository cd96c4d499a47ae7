import type { Knex } from 'knex'

/**
 * The policy's life after the sale (#17): the format of each stored bundle (a terminal of
 * protocol 1 is given only format 1), the protocol each terminal last spoke, the applicant's
 * mobile for the insurer, and the policies the insurer issues for accepted lines.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('rule_bundles', (table) => {
    table.integer('format_version').notNullable().defaultTo(1)
  })
  // Bundles stored before: their format from the signed payload (every one so far is format 1).
  const rows: Array<{ region_code: string; version: number; envelope: string }> = await db(
    'rule_bundles'
  ).select('region_code', 'version', 'envelope')
  for (const row of rows) {
    const format = formatVersionOfEnvelope(row.envelope)
    if (format !== 1)
      await db('rule_bundles')
        .where({ region_code: row.region_code, version: row.version })
        .update({ format_version: format })
  }
  await db.schema.alterTable('terminals', (table) => {
    table.integer('protocol_version').notNullable().defaultTo(1)
  })
  await db.schema.alterTable('holdings', (table) => {
    table.integer('line_no')
    table.string('policy_no', 40)
  })
  await db.schema.createTable('sale_applicants', (table) => {
    table.string('sale_id', 36).primary()
    table.string('mobile', 11).notNullable()
  })
  await db.schema.createTable('policies', (table) => {
    table.increments('id')
    table.string('sale_id', 36).notNullable()
    table.integer('line_no').notNullable()
    table.string('terminal_id').notNullable()
    table.string('region_code', 6).notNullable()
    table.string('product_code').notNullable()
    table.string('insured_id_number', 18).notNullable()
    table.string('cover_from').notNullable()
    table.string('cover_to').notNullable()
    table.integer('premium_fen').notNullable()
    /** When the insurer issues it (the reference centre's configurable delay after acceptance). */
    table.string('issue_due_at').notNullable()
    table.string('policy_no', 40).unique()
    table.string('issued_at')
    /** The order of issue: terminals ask for what was issued after the last they saw. */
    table.integer('issued_seq').unique()
    table.unique(['sale_id', 'line_no'])
    table.index(['terminal_id', 'issued_seq'])
    table.index(['issue_due_at'])
  })
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('policies')
  await db.schema.dropTable('sale_applicants')
  await db.schema.alterTable('holdings', (table) => {
    table.dropColumn('line_no')
    table.dropColumn('policy_no')
  })
  await db.schema.alterTable('terminals', (table) => {
    table.dropColumn('protocol_version')
  })
  await db.schema.alterTable('rule_bundles', (table) => {
    table.dropColumn('format_version')
  })
}

/** 1 or 2, from the payload's `format`; 1 when it cannot be read (it was verified when stored). */
export function formatVersionOfEnvelope(envelope: string): number {
  try {
    const payload = (JSON.parse(envelope) as { payload?: unknown }).payload
    const format = typeof payload === 'string' ? (JSON.parse(payload) as { format?: unknown }).format : null
    const match = typeof format === 'string' ? /^yibao-rule-bundle\/(\d+)$/.exec(format) : null
    return match ? Number(match[1]) : 1
  } catch {
    return 1
  }
}
