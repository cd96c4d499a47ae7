import { dropAllTestSchemas } from './postgres'

/** vitest globalSetup of the centre-pg project: no test schema survives a run, even a killed one. */
export async function setup(): Promise<void> {
  await dropAllTestSchemas()
}

export async function teardown(): Promise<void> {
  await dropAllTestSchemas()
}
