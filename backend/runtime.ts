import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import type { Clock } from '../core/time'
import { openDatabase, openReader } from '../db/connection'
import { removePlaintextBackups, PLAINTEXT_BACKUP_DAYS } from '../db/plaintext-backups'
import { migrateToLatest } from '../db/migrate'
import { createMigrations } from '../db/migrations/index'
import { createPersonalDataCipher, type PersonalDataCipher } from '../db/personal-data'
import { randomBytes } from 'node:crypto'
import { createAccountsRepository } from '../db/repositories/accounts'
import { createOperatorsRepository } from '../db/repositories/operators'
import { createRuleBundlesRepository } from '../db/repositories/rule-bundles'
import { createSalesRepository } from '../db/repositories/sales'
import { createReportsRepository } from '../db/repositories/reports'
import { createSupervisionRepository } from '../db/repositories/supervision'
import { DEMO_BUNDLE_ENVELOPES, DEMO_BUNDLE_REGIONS } from '../db/seeds/demo-bundles'
import { DEMO_OPERATORS } from '../db/seeds/demo-population'
import { DEMO_CENTRE_FILE_KEY } from '../db/seeds/demo-centre-file-key'
import { createSettingsRepository } from '../db/repositories/settings'
import { currentSnapshot } from '../db/repositories/snapshot'
import { seedDemoData } from '../db/seeds/demo'
import { createDispatcher, type Dispatch } from './api/dispatch'
import { createHandlers } from './api/handlers'
import { createAuthService } from './services/auth'
import { createCardholderService } from './services/cardholder'
import { createEligibilityService } from './services/eligibility'
import { createRuleStore } from './services/rule-store'
import { createSalesService } from './services/sales'
import { rawKeyOfPem } from './services/payment/pin-block'
import { createReportsService } from './services/reports'
import { createFileExchange, type FileExchange } from './services/file-exchange'
import { createReportExportService } from './services/report-export'
import { createSupervisionService } from './services/supervision'
import { readTrustFile, trustFor } from './services/rules/trust'
import type { Logger } from './services/log'
import { createPrinterSettingsService, createReaderSettingsService } from './services/terminal-settings'
import { createRecordsService } from './services/records'
import { createSyncStateRepository } from '../db/repositories/sync-state'
import { createSync, type Sync, type SyncOptions } from './services/sync'
import { loadPersonalDataKey, readKeyCheck, type KeyProtector } from './services/personal-data-key'

export const DATABASE_FILE_NAME = 'counter.sqlite3'

export interface RuntimeOptions {
  readonly dataDir: string
  readonly clock: Clock
  readonly log: Logger
  readonly appVersion: string
  /**
   * Where the installation's trusted centre keys may be (the first that exists is read): Electron
   * passes the file beside the app; COUNTER_TRUSTED_KEYS, when set, is looked at first.
   */
  readonly trustFiles?: readonly string[]
  /** Electron's safeStorage when it can encrypt; absent (browser mode, CLI, tests): a plain key file. */
  readonly personalDataProtector?: KeyProtector | null
  /** Tests shorten the sync interval and timeouts and fix the jitter. */
  readonly syncTuning?: SyncOptions['tuning']
  /** `clock` is browser mode's demo clock (COUNTER_TIME), not this machine's: AppInfo says so. */
  readonly demoClock?: boolean
}

/**
 * How long a sale at the counter waits for the centre's authorization, as the installation sets
 * it (`COUNTER_AUTHORIZATION_TIMEOUT_MS`, 500 to 30,000); unset or out of range: the default, 3 s.
 */
export function authorizationTimeoutFrom(
  env: Readonly<Record<string, string | undefined>>
): number | undefined {
  const value = Number(env.COUNTER_AUTHORIZATION_TIMEOUT_MS)
  return Number.isInteger(value) && value >= 500 && value <= 30_000 ? value : undefined
}

/**
 * How long a signed-in operator may leave the counter untouched before the session ends and the
 * PIN is asked again (`COUNTER_IDLE_MINUTES`, 1 to 240; default 15).
 */
export function idleMinutesFrom(env: Readonly<Record<string, string | undefined>>): number {
  const value = Number(env.COUNTER_IDLE_MINUTES)
  return Number.isInteger(value) && value >= 1 && value <= 240 ? value : 15
}

/** Everything behind the API, the same in Electron, in browser mode, in the CLI and in tests. */
export interface CounterRuntime {
  readonly dataDir: string
  readonly databaseFile: string
  readonly db: Knex
  /** Seals and hashes personal data for the tables (the snapshot import and the upload need it too). */
  readonly personalData: PersonalDataCipher
  readonly dispatch: Dispatch
  /** Sync with the centre; the shells start its schedule, the CLI and tests call it directly. */
  readonly sync: Sync
  /** Files the shells hand in: a package chosen (Electron) or uploaded (browser mode) for `files.importPackage`. */
  readonly files: Pick<FileExchange, 'stagePath' | 'receive'>
  close(): Promise<void>
}

/**
 * Opens (creating if needed) the terminal's database in `dataDir`, migrates it, seeds the demo
 * population into an empty one, and wires services to the API.
 */
export async function openCounterRuntime(options: RuntimeOptions): Promise<CounterRuntime> {
  const { dataDir, clock, log } = options
  await mkdir(dataDir, { recursive: true })
  const databaseFile = join(dataDir, DATABASE_FILE_NAME)
  const db = openDatabase(databaseFile)
  let reader: Knex | null = null
  try {
    // The key is checked against the database before anything is migrated or written with it.
    const personalDataKey = await loadPersonalDataKey({
      dataDir,
      protector: options.personalDataProtector ?? null,
      log,
      check: await readKeyCheck(db)
    })
    const cipher = createPersonalDataCipher(personalDataKey.key)
    const backupDir = join(dataDir, 'backups')
    const migration = await migrateToLatest(db, {
      backupDir,
      clock,
      migrations: createMigrations(cipher),
      lockFile: join(dataDir, 'migrating.pid')
    })
    if (migration.applied.length > 0) {
      log.info('database_migrated', {
        applied: migration.applied.join(','),
        backup: migration.backupFile !== null
      })
    }
    const expired = await removePlaintextBackups(backupDir, {
      takenBefore: new Date(clock.now().getTime() - PLAINTEXT_BACKUP_DAYS * 86_400_000)
    })
    if (expired > 0) log.info('plaintext_backups_removed', { count: expired, why: 'age' })
    const settings = createSettingsRepository(db)
    const configuredTrust = await readTrustFile(
      options.trustFiles ?? [],
      process.env.COUNTER_TRUSTED_KEYS?.trim() || null
    )
    if ((await settings.get('data_source')) === null) {
      // An installation with its own centre keys starts empty (the centre fills it); one without is a demo.
      if (configuredTrust !== null && process.env.COUNTER_DEMO !== '1')
        await settings.set('data_source', 'centre')
      else {
        await seedDemoData(db, clock, cipher)
        log.info('demo_data_seeded')
      }
    }
    const dataSource = await settings.get('data_source')
    // The demo key (its private half is public) is trusted only by a folder created as a demo.
    const trust = trustFor(configuredTrust, dataSource === 'demo')
    const trustedKeys = trust.keys
    let terminalId = await settings.get('terminal_id')
    if (terminalId === null) {
      // Made once per installation; registration with the centre (sync) may later replace it.
      terminalId = `T-${randomBytes(4).toString('hex').toUpperCase()}`
      await settings.set('terminal_id', terminalId)
    }
    // What the counter reads goes through read-only connections: a swipe never waits for the writer.
    reader = openReader(databaseFile)
    const accounts = createAccountsRepository(reader, cipher)
    const operators = createOperatorsRepository(db, cipher)
    const auth = createAuthService({
      operators,
      clock,
      terminalId,
      log,
      idleMs: idleMinutesFrom(process.env) * 60_000,
      setUpAllowed: async () => dataSource !== 'demo'
    })
    // Each demo operator that is missing (a first start killed halfway left some out): never "if none".
    if (dataSource === 'demo') {
      for (const operator of DEMO_OPERATORS)
        if (!(await operators.findByCode(operator.code))) await auth.createOperator(operator)
    }
    const bundles = createRuleBundlesRepository(db)
    const sales = createSalesRepository(db, cipher, reader)
    // Read on every quote: through the reader, like the rest of what a swipe reads.
    const syncState = createSyncStateRepository(reader)
    const rules = createRuleStore({
      bundles,
      trustedKeys,
      clock,
      log,
      checkedAt: async (region) => (await syncState.read()).rulesCheckedAt[region] ?? null,
      // Registered: the regions the centre granted. Before that: the regions of the local accounts.
      servedRegions: async () => {
        const granted = (await syncState.read()).regionCodes
        return granted.length > 0 ? granted : await db('regions').pluck('code')
      }
    })
    const eligibility = createEligibilityService({
      accounts,
      rules,
      sales,
      clock,
      // Asked per swipe, after the runtime is wired.
      centreReachable: () => sync.centreReachable(),
      heldRegions: async () => [...new Set((await bundles.list()).map((bundle) => bundle.regionCode))]
    })
    // Each demo region without rules gets its demo bundle (a region that has any keeps what it has).
    if (dataSource === 'demo') {
      const held = new Set((await bundles.list()).map((bundle) => bundle.regionCode))
      let imported = 0
      for (const [index, envelope] of DEMO_BUNDLE_ENVELOPES.entries()) {
        if (held.has(DEMO_BUNDLE_REGIONS[index])) continue
        await rules.import(envelope)
        imported += 1
      }
      if (imported > 0) log.info('demo_rules_imported', { bundles: imported })
    }
    // The audit log and close reports, checked before anyone signs in: a supervisor sees a break at once.
    const records = createRecordsService({ db, cipher, clock, log })
    await records.check()
    const sync = createSync({
      db,
      cipher,
      personalDataKey: personalDataKey.key,
      clock,
      log,
      rules,
      trustedKeys,
      terminalId,
      appVersion: options.appVersion,
      reportRecords: (send) => records.reportToCentre(send),
      heldRegions: async () => [...new Set((await bundles.list()).map((bundle) => bundle.regionCode))],
      tuning: {
        authorizationTimeoutMs: authorizationTimeoutFrom(process.env),
        ...options.syncTuning
      },
      // A full sync worked on the sealed database: the plain-text way back is no longer needed.
      afterSync: async () => {
        const removed = await removePlaintextBackups(backupDir)
        if (removed > 0) log.info('plaintext_backups_removed', { count: removed, why: 'synced' })
      }
    })
    const salesService = createSalesService({
      accounts,
      sales,
      operators,
      auth,
      rules,
      clock,
      terminalId,
      centreReachable: () => sync.centreReachable(),
      writeTransaction: (work) =>
        db.transaction((trx) =>
          work({
            accounts: createAccountsRepository(trx, cipher),
            sales: createSalesRepository(trx, cipher, trx)
          })
        ),
      pinKey: async () => {
        const key = (await sync.centreFileKey()) ?? (dataSource === 'demo' ? DEMO_CENTRE_FILE_KEY : null)
        return key ? { keyId: key.keyId, publicKey: rawKeyOfPem(key.publicKeyPem) } : null
      },
      authorize: (saleId) => sync.authorize(saleId),
      registered: () => sync.registered(),
      // Not awaited by the caller's answer beyond the start: unregistered or offline, it waits in the queue.
      uploadSoon: async () => void sync.uploadNow().catch(() => undefined)
    })
    const reports = createReportsService({
      reports: createReportsRepository(db, cipher, reader),
      operators,
      db,
      clock,
      terminalId,
      log,
      office: (range) => sync.officeReport(range),
      approveBySupervisor: (code, pin) => auth.approveBySupervisor(code, pin),
      requireShift: (caller) => auth.requireShift(caller)
    })
    const files = createFileExchange({ sync, dataDir, clock, terminalId })
    const handlers = createHandlers({
      files,
      auth,
      cardholders: createCardholderService({
        accounts,
        clock,
        products: async (regionCode, at) => {
          const held = await rules.select(regionCode, at)
          return new Map(held.ok ? held.value.bundle.products.map((product) => [product.code, product]) : [])
        }
      }),
      eligibility,
      sales: salesService,
      readerSettings: createReaderSettingsService({ settings, log }),
      printerSettings: createPrinterSettingsService({ settings, log }),
      sync,
      reports,
      reportExport: createReportExportService({ reports, operators, syncState, db, clock, terminalId }),
      records,
      supervision: createSupervisionService({
        operators,
        supervision: createSupervisionRepository(db, cipher),
        accounts,
        auth,
        clock
      }),
      appInfo: async () => ({
        version: options.appVersion,
        dataDir,
        schemaVersion: migration.schemaVersion,
        terminalId,
        // Demo data until the centre's first snapshot replaced it (the folder still trusts the demo key).
        demoData: dataSource === 'demo' && (await currentSnapshot(reader ?? db)).version === 0,
        needsSetUp: dataSource !== 'demo' && (await operators.count()) === 0,
        trust: { keyIds: Object.keys(trustedKeys), demoKey: trust.demoKeyTrusted, revoked: trust.revoked },
        personalDataProtection: personalDataKey.protection,
        recordsIntact: records.intact(),
        now: clock.now().toISOString(),
        demoClock: options.demoClock === true
      })
    })
    return {
      dataDir,
      databaseFile,
      db,
      personalData: cipher,
      dispatch: createDispatcher(
        handlers,
        log,
        (token, activity) => auth.session(token, { activity }),
        (token) => (auth.endedForIdleness(token) ? '长时间未操作，已自动退出：请重新登录' : null)
      ),
      sync,
      files,
      async close() {
        await sync.stop()
        await reader?.destroy()
        await db.destroy()
      }
    }
  } catch (error) {
    await reader?.destroy()
    await db.destroy()
    throw error
  }
}

/** Electron's userData folder, unless COUNTER_DATA_DIR names another (tests, a second terminal profile). */
export function resolveDataDir(env: NodeJS.ProcessEnv, fallback: string): string {
  const fromEnv = env.COUNTER_DATA_DIR?.trim()
  return fromEnv ? fromEnv : fallback
}
