import { createHash, createPublicKey } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import { ENCRYPTED_PACKAGE_FORMAT, type SignedFile } from '../../../core/sync/protocol'
import type { CounterRuntime } from '../../../backend/runtime'
import { signPayload } from '../../../backend/services/rules/envelope'
import { DEMO_KEY_ID } from '../../../backend/services/rules/keys'
import { packageEncryptor } from '../../../backend/services/sync/files/file-crypto'
import { DEMO_CENTRE_PRIVATE_KEY_FILE, importQueueFile } from '../../../hub/files'
import { addRuleBundle, createBundleCache } from '../../../hub/rules'
import { setAccountStatus } from '../../../hub/db/accounts'
import { DEMO_ACCOUNTS, demoAccountNo } from '../../../db/seeds/demo-population'
import { openTestRuntime, signedIn, tempDir } from '../../support/helpers'
import { exportDemoPackage, openPackageFile, openTestHub, type TestHub } from '../../support/hub'
import { accountIdOf, commit, onShift } from '../../support/sale-fixtures'
import { sourceFileOf } from '../../support/rule-fixtures'
import { ok, registerTerminal } from '../../support/sync'

/**
 * Mutated files through the product's own import paths (#15): rule bundles through `rules.import`,
 * snapshots through the store the download feeds, sync packages through `import-package`'s
 * function, queue files through the centre's import. Each mutation is refused with nothing changed,
 * or (a change the format does not see, such as the envelope's whitespace) taken with exactly the
 * genuine content. Seeded, so a failure replays.
 */

const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 40)

/** mulberry32: small, seedable, good enough to pick bytes. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One mutation of the kind bad luck or an attacker makes: a flipped bit, a cut, a digit, a line moved. */
function mutate(input: Buffer, next: () => number): { bytes: Buffer; how: string } {
  const at = Math.floor(next() * input.length)
  const kind = Math.floor(next() * 6)
  const lines = input.toString('utf8').split('\n')
  const line = Math.floor(next() * lines.length)
  switch (kind) {
    case 0: {
      const bytes = Buffer.from(input)
      bytes[at] ^= 1 << Math.floor(next() * 8)
      return { bytes, how: `bit flipped at ${at}` }
    }
    case 1:
      return { bytes: input.subarray(0, at), how: `cut at ${at}` }
    case 2: {
      // A digit changed: a balance, a version, a premium.
      const text = input.toString('latin1')
      const digits = [...text.matchAll(/\d/g)].map((m) => m.index ?? 0)
      const where = digits[Math.floor(next() * digits.length)] ?? at
      const swapped = String((Number(text[where]) + 1 + Math.floor(next() * 8)) % 10)
      return {
        bytes: Buffer.from(text.slice(0, where) + swapped + text.slice(where + 1), 'latin1'),
        how: `digit at ${where}`
      }
    }
    case 3:
      return {
        bytes: Buffer.from(lines.filter((_, i) => i !== line).join('\n'), 'utf8'),
        how: `line ${line} removed`
      }
    case 4:
      return {
        bytes: Buffer.from(
          [...lines.slice(0, line + 1), lines[line], ...lines.slice(line + 1)].join('\n'),
          'utf8'
        ),
        how: `line ${line} repeated`
      }
    default: {
      const bytes = Buffer.concat([
        input.subarray(0, at),
        Buffer.from([Math.floor(next() * 256)]),
        input.subarray(at)
      ])
      return { bytes, how: `byte inserted at ${at}` }
    }
  }
}

/** Every row of the tables an import may touch, hashed: equal before and after means nothing changed. */
async function fingerprint(db: Knex, tables: readonly string[]): Promise<string> {
  const hash = createHash('sha256')
  for (const table of tables) {
    // Row by row, sorted: the same rows in any storage order give the same print.
    const rows = (await db(table).select())
      .map((row: Record<string, unknown>) =>
        JSON.stringify(row, (_key, value: unknown) =>
          Buffer.isBuffer(value) ? value.toString('hex') : value
        )
      )
      .sort()
    hash.update(table)
    hash.update(rows.join('\n'))
  }
  return hash.digest('hex')
}

const SUSPENDABLE = (() => {
  const account = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080002')
  if (!account) throw new Error('no demo account C33080002')
  return account
})()

const TERMINAL_TABLES = [
  'accounts',
  'family_members',
  'regions',
  'rule_bundles',
  'settings',
  'sales',
  'outbox'
]

/** A registered terminal with a queued sale, its centre, a genuine package and queue file. */
async function scene(): Promise<{
  centre: TestHub
  runtime: CounterRuntime
  supervisor: CallContext
  packageFile: string
  queueText: string
  filePrivateKeyPem: string
}> {
  const centre = await openTestHub()
  const runtime = await openTestRuntime({ clock: centre.clock, syncTuning: { random: () => 0.5 } })
  await registerTerminal(runtime, centre.url)
  const clerk = await onShift(runtime)
  // Registration starts a sync: joined here, so nothing writes behind the mutations' backs.
  await ok(runtime.dispatch('sync.now', {}, clerk))
  const accountId = await accountIdOf(runtime, clerk, 'C33080001')
  // The centre cannot be reached: the sale waits in the queue, for the queue file.
  centre.faults.unavailable = 1_000
  await ok(
    commit(
      runtime,
      clerk,
      { accountId, lines: [{ insured: { relation: 'self' }, productCode: 'QZ-HQB-2027', units: 1 }] },
      'C33080001'
    )
  )
  centre.faults.unavailable = 0
  const dir = await tempDir('fuzz-')
  const queueFile = join(dir, 'queue.json')
  await runtime.sync.exportQueue(queueFile)
  const terminalId = (
    await runtime.db('settings').where({ key: 'terminal_id' }).first<{ value: string }>('value')
  ).value
  // Newer than what the terminal holds, in the package: a bundle, and accounts (one changed at the
  // centre), so a refusal that is not whole would leave something taken.
  expect(await setAccountStatus(centre.db, demoAccountNo(SUSPENDABLE), 'suspended', centre.clock)).toBe(true)
  const source = JSON.parse(await readFile(sourceFileOf('330800'), 'utf8')) as Record<string, unknown>
  const centreKey = await readFile(DEMO_CENTRE_PRIVATE_KEY_FILE, 'utf8')
  await addRuleBundle(
    centre.db,
    signPayload(JSON.stringify({ ...source, version: 3 }), centreKey, DEMO_KEY_ID),
    centre.clock
  )
  centre.clock.advance(60_000)
  const packageFile = join(dir, 'genuine.package')
  await exportDemoPackage(centre.db, centre.clock, terminalId, packageFile)
  const sealed = await runtime
    .db('settings')
    .where({ key: 'sync.file_key' })
    .first<{ value: string }>('value')
  return {
    centre,
    runtime,
    supervisor: await signedIn(runtime, 'supervisor'),
    packageFile,
    queueText: await readFile(queueFile, 'utf8'),
    filePrivateKeyPem: runtime.personalData.open(Buffer.from(sealed.value, 'base64'))
  }
}

/** Seals `plain` as the centre would (signed with the demo key the terminal trusts): only the inner checks remain. */
function resealed(plain: Buffer, terminalId: string, filePrivateKeyPem: string): Promise<Buffer> {
  const publicPem = createPublicKey(filePrivateKeyPem).export({ type: 'spki', format: 'pem' }).toString()
  const sealing = packageEncryptor(terminalId, publicPem, '2026-11-22T02:30:00.000Z')
  const ciphertext = Buffer.concat([sealing.cipher.update(plain), sealing.cipher.final()])
  return readFile(DEMO_CENTRE_PRIVATE_KEY_FILE, 'utf8').then((key) => {
    const text = JSON.stringify(
      sealing.header({
        sha256: createHash('sha256').update(ciphertext).digest('hex'),
        bytes: ciphertext.length
      })
    )
    const { signature } = JSON.parse(signPayload(text, key, DEMO_KEY_ID)) as { signature: string }
    const first: SignedFile = {
      format: ENCRYPTED_PACKAGE_FORMAT,
      keyId: DEMO_KEY_ID,
      payload: text,
      signature
    }
    return Buffer.concat([Buffer.from(`${JSON.stringify(first)}\n`, 'utf8'), ciphertext])
  })
}

describe('mutated files through the real import paths', () => {
  it('rule bundles: refused unless the signed payload is the genuine one, and nothing changes', async () => {
    const { runtime, supervisor } = await scene()
    const genuine = await readFile(join(import.meta.dirname, '../../../bundles/signed/330800-v2.bundle.json'))
    const payload = (JSON.parse(genuine.toString('utf8')) as { payload: string }).payload
    const next = random(1501)
    let refused = 0
    for (let round = 0; round < ROUNDS; round++) {
      const { bytes, how } = mutate(genuine, next)
      const before = await fingerprint(runtime.db, TERMINAL_TABLES)
      const result = await runtime.dispatch('rules.import', { envelope: bytes.toString('utf8') }, supervisor)
      if (result.ok) {
        // Only a change outside the signed bytes (the envelope's whitespace) may pass, as "unchanged".
        expect((JSON.parse(bytes.toString('utf8')) as { payload: string }).payload, how).toBe(payload)
        expect(result.value, how).toMatchObject({ status: 'unchanged' })
      } else {
        refused += 1
        expect(['RULES_REFUSED', 'INVALID_ARGUMENT'], how).toContain(result.error.code)
      }
      expect(await fingerprint(runtime.db, TERMINAL_TABLES), how).toBe(before)
    }
    expect(refused).toBeGreaterThan(ROUNDS / 2)
  })

  it('snapshots: every mutation is refused whole and the accounts stay as they were', async () => {
    const { runtime, packageFile, filePrivateKeyPem } = await scene()
    const { plain } = await openPackageFile(packageFile, filePrivateKeyPem)
    const genuine = Buffer.from(plain.slice(plain.indexOf('\n') + 1), 'utf8')
    const next = random(2602)
    for (let round = 0; round < ROUNDS; round++) {
      const { bytes, how } = mutate(genuine, next)
      if (bytes.equals(genuine)) continue
      const before = await fingerprint(runtime.db, TERMINAL_TABLES)
      await expect(
        runtime.sync.snapshots.importSnapshot(
          (async function* () {
            yield bytes
          })()
        ),
        how
      ).rejects.toMatchObject({ code: 'SNAPSHOT_REFUSED' })
      expect(await fingerprint(runtime.db, TERMINAL_TABLES), how).toBe(before)
    }
    // The genuine one still goes in: the refusals left nothing half-done in the way.
    expect(
      await runtime.sync.snapshots.importSnapshot(
        (async function* () {
          yield genuine
        })()
      )
    ).toMatchObject({ accounts: expect.any(Number) })
  })

  it('packages: a changed file is refused before decryption; a changed inside, even re-sealed, is refused whole', async () => {
    const { runtime, packageFile, filePrivateKeyPem } = await scene()
    const genuine = await readFile(packageFile)
    const { plain, header } = await openPackageFile(packageFile, filePrivateKeyPem)
    const next = random(3703)
    const file = join(await tempDir('fuzz-'), 'mutated.package')
    for (let round = 0; round < ROUNDS; round++) {
      // Half the rounds change the file on the stick; half change what is inside and seal it again.
      const outside = round % 2 === 0
      const mutated = mutate(outside ? genuine : Buffer.from(plain, 'utf8'), next)
      const bytes = outside
        ? mutated.bytes
        : await resealed(mutated.bytes, header.terminalId, filePrivateKeyPem)
      if (outside ? bytes.equals(genuine) : mutated.bytes.equals(Buffer.from(plain, 'utf8'))) continue
      await writeFile(file, bytes)
      const before = await fingerprint(runtime.db, TERMINAL_TABLES)
      const how = `${outside ? 'file' : 'inside'}: ${mutated.how}`
      // A changed file never reaches the inside: refused on its signature or digest.
      await expect(runtime.sync.importPackage(file), how).rejects.toMatchObject({
        code: outside
          ? 'FILE_REFUSED'
          : expect.stringMatching(/^(FILE_REFUSED|SNAPSHOT_REFUSED|RULES_REFUSED)$/)
      })
      expect(await fingerprint(runtime.db, TERMINAL_TABLES), how).toBe(before)
    }
    expect(await runtime.sync.importPackage(packageFile)).toMatchObject({
      rules: expect.arrayContaining([{ regionCode: '330800', version: 3, status: 'new' }])
    })
  })

  it('queue files: the centre settles nothing from a mutated file, then the genuine one once', async () => {
    const { centre, queueText } = await scene()
    const genuine = Buffer.from(queueText, 'utf8')
    const next = random(4804)
    const centreTables = ['item_results', 'accounts', 'received_sales']
    for (let round = 0; round < ROUNDS; round++) {
      const { bytes, how } = mutate(genuine, next)
      if (bytes.equals(genuine)) continue
      const before = await fingerprint(centre.db, centreTables)
      const outcome = await importQueueFile(centre.db, bytes.toString('utf8'), {
        clock: centre.clock,
        bundles: createBundleCache()
      }).then(
        () => 'accepted',
        (error: unknown) => (error instanceof Error ? error.name : 'unknown')
      )
      expect(outcome, how).toBe('FileRefused')
      expect(await fingerprint(centre.db, centreTables), how).toBe(before)
    }
    const settled = await importQueueFile(centre.db, queueText, {
      clock: centre.clock,
      bundles: createBundleCache()
    })
    expect(settled.summary).toMatchObject({ accepted: 1 })
  })
})
