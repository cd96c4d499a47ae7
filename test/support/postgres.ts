import { randomBytes } from 'node:crypto'
import { onTestFinished } from 'vitest'
import { openPostgres } from '../../hub/db/postgres'

/**
 * The PostgreSQL server the machines this project is built on run (127.0.0.1:5432, trust
 * authentication, database `test`). Each test gets a schema of its own, dropped after it; the
 * `centre-pg` test project (HUB_TEST_DATABASE=postgres) runs the centre's tests on it.
 */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://127.0.0.1:5432/test'

/** Schemas of this prefix are the tests' own: a run that was killed leaves them, the next removes them. */
export const TEST_SCHEMA_PREFIX = 'hubtest_'

export function centreOnPostgres(): boolean {
  return process.env.HUB_TEST_DATABASE === 'postgres'
}

/**
 * The database a centre of this test runs on: a fresh PostgreSQL schema in the `centre-pg`
 * project, otherwise undefined (the SQLite file in its data folder). `env` is what the centre's
 * CLI needs to open the same database.
 */
export async function centreDatabase(): Promise<{ url: string | undefined; env: Record<string, string> }> {
  const url = centreOnPostgres() ? await freshPostgresUrl() : undefined
  return { url, env: url ? { DATABASE_URL: url } : {} }
}

/** The URL of a database as its own new schema, dropped when the test ends (`keep`: the caller drops it). */
export async function freshPostgresUrl(options: { keep?: boolean } = {}): Promise<string> {
  const schema = `${TEST_SCHEMA_PREFIX}${randomBytes(6).toString('hex')}`
  await adminQuery(`create schema ${schema}`)
  if (!options.keep) onTestFinished(() => dropSchema(schema))
  const url = new URL(TEST_POSTGRES_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

export async function dropSchema(schema: string): Promise<void> {
  if (!new RegExp(`^${TEST_SCHEMA_PREFIX}[0-9a-f]+$`).test(schema))
    throw new Error(`not a test schema: ${schema}`)
  await adminQuery(`drop schema if exists ${schema} cascade`)
}

/** Every test schema left over (by a run killed before its cleanup). */
export async function dropAllTestSchemas(): Promise<void> {
  const db = openPostgres(TEST_POSTGRES_URL, 1)
  try {
    const schemas: string[] = await db('information_schema.schemata')
      .where('schema_name', 'like', `${TEST_SCHEMA_PREFIX}%`)
      .pluck('schema_name')
    for (const schema of schemas) await db.raw(`drop schema if exists ${schema} cascade`)
  } finally {
    await db.destroy()
  }
}

async function adminQuery(sql: string): Promise<void> {
  const db = openPostgres(TEST_POSTGRES_URL, 1)
  try {
    await db.raw(sql)
  } finally {
    await db.destroy()
  }
}
