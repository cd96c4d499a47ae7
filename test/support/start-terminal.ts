/**
 * A terminal starting on a data folder and nothing else, for the start-crash test: it prints
 * "STARTING" just before opening (migrations, first-run seeding) and "OPENED" once open. The test
 * kills it at a random moment in between.
 */
import { systemClock } from '../../core/time'
import { silentLogger } from '../../backend/services/log'
import { openCounterRuntime } from '../../backend/runtime'

async function main(dataDir: string): Promise<void> {
  process.stdout.write('STARTING\n')
  const runtime = await openCounterRuntime({
    dataDir,
    clock: systemClock,
    log: silentLogger,
    appVersion: 'start-test'
  })
  process.stdout.write('OPENED\n')
  await runtime.close()
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
