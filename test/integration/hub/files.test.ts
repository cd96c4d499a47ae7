import { createHash, createPublicKey, verify } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PACKAGE_FILE_FORMAT, packagePayloadSchema, signedFileSchema } from '../../../core/sync/protocol'
import { DEMO_KEY_ID, DEMO_TRUSTED_KEYS } from '../../../backend/services/rules/keys'
import { verifyBundle } from '../../../backend/services/rules/load'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import { openHubDatabase } from '../../../hub/db/open'
import { centreDatabase } from '../../support/postgres'
import { FileRefused, importQueueFile } from '../../../hub/files'
import { createBundleCache } from '../../../hub/rules'
import { startHub } from '../../../hub/server'
import { tempDir } from '../../support/helpers'
import { hubCli } from '../../support/hub-cli'
import {
  accountAtCentre,
  openPackageFile,
  openTestHub,
  parseSnapshot,
  queueFile,
  register,
  reversalOf,
  saleFor,
  testClock,
  upload,
  exportDemoPackage
} from '../../support/hub'

describe('hub: queue files from agents out of reach', () => {
  it('imports a signed queue file with the same settlement and deduplication; importing it again changes nothing', async () => {
    const { url, db, clock } = await openTestHub()
    const terminal = await register(url, 'T-AGENT001', 'DEMO-330800')
    const family = saleFor(
      'C33080001',
      [
        { productCode: 'QZ-HQB-2027', premiumFen: 10_000 },
        { relation: 'spouse', productCode: 'QZ-HQB-2027', premiumFen: 10_000 }
      ],
      { terminalId: 'T-AGENT001' }
    )
    const tooMuch = saleFor('C33080002', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }], {
      terminalId: 'T-AGENT001'
    })
    const voided = saleFor(
      'C33080001',
      [{ relation: 'child', productCode: 'QZ-HQB-2027', premiumFen: 10_000 }],
      { terminalId: 'T-AGENT001' }
    )
    const text = queueFile(terminal, [family, tooMuch, voided, reversalOf(voided)])
    const bundles = createBundleCache()

    const first = await importQueueFile(db, text, { clock, bundles })
    expect(first.terminalId).toBe('T-AGENT001')
    expect(first.results.map((r) => r.outcome)).toEqual(['accepted', 'rejected', 'accepted', 'accepted'])
    expect(first.summary).toEqual({ accepted: 3, 'rejected:INSUFFICIENT_BALANCE': 1 })

    const second = await importQueueFile(db, text, { clock, bundles })
    expect(second.summary).toEqual({ alreadyAccepted: 3, 'rejected:INSUFFICIENT_BALANCE': 1 })
    expect(await accountAtCentre(url, terminal.token, 'C33080001')).toMatchObject({
      balanceFen: 78_000,
      historicalBalanceFen: 15_000
    })
    // What the file settled, an upload of the same items learns as already settled.
    expect((await upload(url, terminal.token, 'T-AGENT001', [family]))[0].outcome).toBe('alreadyAccepted')
  })

  it('refuses a tampered file, one signed with another key and one for an unregistered terminal, settling nothing', async () => {
    const { url, db, clock } = await openTestHub()
    const terminal = await register(url, 'T-AGENT001', 'DEMO-539900')
    const impostor = await register(url, 'T-AGENT002', 'DEMO-ALL')
    const sale = saleFor('A53000001', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
      terminalId: 'T-AGENT001'
    })
    const bundles = createBundleCache()
    const text = queueFile(terminal, [sale])

    const tampered = text.replace('\\"premiumFen\\":50000', '\\"premiumFen\\":5000')
    expect(tampered).not.toBe(text)
    await expect(importQueueFile(db, tampered, { clock, bundles })).rejects.toThrow(FileRefused)
    await expect(importQueueFile(db, tampered, { clock, bundles })).rejects.toThrow(/签名验证失败/)
    const signedByOther = queueFile({ ...impostor, terminalId: 'T-AGENT001' }, [sale])
    await expect(importQueueFile(db, signedByOther, { clock, bundles })).rejects.toThrow(/签名验证失败/)
    const unregistered = queueFile({ ...terminal, terminalId: 'T-NOBODY01' }, [
      { ...sale, terminalId: 'T-NOBODY01' }
    ])
    await expect(importQueueFile(db, unregistered, { clock, bundles })).rejects.toThrow(/未在中心注册/)
    await expect(importQueueFile(db, '{"format":', { clock, bundles })).rejects.toThrow(FileRefused)

    expect((await accountAtCentre(url, terminal.token, 'A53000001')).balanceFen).toBe(180_000)
  })
})

describe('hub: sync packages', () => {
  it('exports rules, a full snapshot and the terminal’s results in one file the DEMO centre key verifies', async () => {
    const { url, db, clock } = await openTestHub()
    const terminal = await register(url, 'T-AGENT001', 'DEMO-330800')
    const sale = saleFor('C33080001', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }], {
      terminalId: 'T-AGENT001'
    })
    await upload(url, terminal.token, 'T-AGENT001', [sale])
    const file = join(await tempDir(), 'T-AGENT001.package')
    await exportDemoPackage(db, clock, 'T-AGENT001', file)

    // On the stick: the centre's signed header and ciphertext; no card number, name or ID in clear.
    const {
      header: sealedHeader,
      sealed,
      plain: text
    } = await openPackageFile(file, terminal.filePrivateKeyPem)
    expect(sealedHeader).toMatchObject({
      terminalId: 'T-AGENT001',
      recipientKeyId: expect.stringMatching(/^TFK-/)
    })
    const onDisk = await readFile(file, 'utf8')
    const holder = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')
    for (const planted of ['C33080001', holder?.name ?? '?', holder?.idNumber ?? '?', '"accounts"'])
      expect(onDisk.includes(planted), planted).toBe(false)
    expect(sealed.length).toBe(sealedHeader.ciphertextBytes)

    const newline = text.indexOf('\n')
    const header = signedFileSchema.parse(JSON.parse(text.slice(0, newline)))
    expect(header).toMatchObject({ format: PACKAGE_FILE_FORMAT, keyId: DEMO_KEY_ID })
    expect(
      verify(
        null,
        Buffer.from(header.payload, 'utf8'),
        createPublicKey(DEMO_TRUSTED_KEYS[DEMO_KEY_ID]),
        Buffer.from(header.signature, 'base64')
      )
    ).toBe(true)
    const payload = packagePayloadSchema.parse(JSON.parse(header.payload))
    expect(payload).toMatchObject({ terminalId: 'T-AGENT001', createdAt: '2026-11-22T02:30:00.000Z' })
    expect(
      payload.ruleEnvelopes.map((e) => {
        const v = verifyBundle(e, DEMO_TRUSTED_KEYS)
        return v.ok && v.value.bundle.region.code
      })
    ).toEqual(['330800'])
    expect(payload.results).toEqual([
      {
        itemId: sale.saleId,
        outcome: 'accepted',
        settledAt: '2026-11-22T02:30:00.000Z',
        reference: expect.stringMatching(/^ZX20261122\d{8}$/)
      }
    ])

    const snapshotText = text.slice(newline + 1)
    const snapshot = parseSnapshot(snapshotText)
    expect(snapshot.header).toMatchObject({ full: true, regionCodes: ['330800'] })
    expect(snapshot.end.sha256).toBe(payload.snapshotSha256)
    const body = snapshotText.slice(0, snapshotText.lastIndexOf('{"type":"end"'))
    expect(createHash('sha256').update(body).digest('hex')).toBe(payload.snapshotSha256)
    expect(snapshot.accounts.find((a) => a.cardNumber === 'C33080001')?.balanceFen).toBe(88_000)
  })

  it('a package made before the terminal called again after registering carries the newest rule bundles', async () => {
    const { url, db, clock } = await openTestHub()
    // Registered, then out of reach at once: no other call told the centre its protocol.
    const terminal = await register(url, 'T-AGENT003', 'DEMO-ALL')
    const file = join(await tempDir(), 'T-AGENT003.package')
    await exportDemoPackage(db, clock, 'T-AGENT003', file)
    const { plain } = await openPackageFile(file, terminal.filePrivateKeyPem)
    const header = signedFileSchema.parse(JSON.parse(plain.slice(0, plain.indexOf('\n'))))
    const versions = packagePayloadSchema.parse(JSON.parse(header.payload)).ruleEnvelopes.map((envelope) => {
      const verified = verifyBundle(envelope, DEMO_TRUSTED_KEYS)
      return verified.ok
        ? `${verified.value.bundle.region.code}/${verified.value.bundle.version}`
        : 'unverified'
    })
    const newest: Array<{ region_code: string; version: number }> = await db('rule_bundles')
      .whereNull('withdrawn_at')
      .select('region_code')
      .max({ version: 'version' })
      .groupBy('region_code')
    expect(versions.sort()).toEqual(newest.map((row) => `${row.region_code}/${row.version}`).sort())
  })

  it('npm run hub -- import-queue and export-package work on the hub’s data folder, and say why a file is refused', async () => {
    const dataDir = await tempDir()
    // Registered while the hub runs; the commands then work on the folder it leaves.
    const clock = testClock()
    const database = await centreDatabase()
    const db = await openHubDatabase(dataDir, { clock, databaseUrl: database.url })
    const hub = await startHub({ db, clock })
    const terminal = await register(hub.url, 'T-AGENT001', 'DEMO-539900')
    await hub.close()
    await db.destroy()
    const sale = saleFor('A53000001', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
      terminalId: 'T-AGENT001'
    })
    const queue = join(dataDir, 'queue.json')
    await writeFile(queue, queueFile(terminal, [sale]))

    const imported = await hubCli(dataDir, database.env, 'import-queue', queue)
    expect(imported.stderr).not.toContain('中心出错')
    expect(imported.status).toBe(0)
    expect(imported.stdout).toContain('accepted：1')

    await writeFile(
      queue,
      (await readFile(queue, 'utf8')).replace('\\"premiumFen\\":50000', '\\"premiumFen\\":5000')
    )
    const refused = await hubCli(dataDir, database.env, 'import-queue', queue)
    expect(refused.status).toBe(1)
    expect(refused.stderr).toContain('签名验证失败')

    const packageFile = join(dataDir, 'out.package')
    const exported = await hubCli(
      dataDir,
      database.env,
      'export-package',
      '--terminal',
      'T-AGENT001',
      packageFile
    )
    expect(exported.status).toBe(0)
    const yunnan = DEMO_ACCOUNTS.filter((a) => a.regionCode === '539900').length
    expect(exported.stdout).toContain(`账户 ${yunnan} 个`)
    const text = (await openPackageFile(packageFile, terminal.filePrivateKeyPem)).plain
    expect(
      parseSnapshot(text.slice(text.indexOf('\n') + 1)).accounts.find((a) => a.cardNumber === 'A53000001')
        ?.balanceFen
    ).toBe(130_000)
    // Nothing about the people in the output.
    expect(imported.stdout + exported.stdout).not.toMatch(/张建国|53010219680415/)
  }, 60_000)
})
