import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../../core/api/contract'
import type { CardholderView } from '../../../core/cardholder'
import { AppError } from '../../../core/errors'
import type { ReceiptView } from '../../../core/sale'
import { DEMO_ACCOUNTS, demoAccountNo } from '../../../db/seeds/demo-population'
import type { CounterRuntime } from '../../../backend/runtime'
import { FILE_KEY_FILE } from '../../../backend/services/personal-data-key'
import { currentSnapshot } from '../../../db/repositories/snapshot'
import {
  importSnapshot,
  STAGING_BATCH_LINES,
  type SnapshotImportOptions,
  type SnapshotImportResult
} from '../../../backend/services/sync/snapshot/import'
import { openTestRuntime, recordingLogger, signedIn, TEST_NOW } from '../../support/helpers'
import { commit, onShift } from '../../support/sale-fixtures'
import {
  chunked,
  createSnapshotWriter,
  snapshotText,
  syntheticAccount,
  syntheticAccounts,
  syntheticCardNumber,
  syntheticIdNumber,
  type HeaderInput,
  type SnapshotEntry
} from '../../../fixtures/snapshot-writer'

const REGIONS = ['330800', '320500']
const AS_OF_1 = '2026-11-21T16:00:00.000Z'
const AS_OF_2 = '2026-11-22T01:00:00.000Z'

function full(version: number, balancesAsOf = AS_OF_1): HeaderInput {
  return { snapshotVersion: version, full: true, regionCodes: REGIONS, balancesAsOf }
}

function delta(version: number, baseVersion: number): HeaderInput {
  return { snapshotVersion: version, full: false, baseVersion, regionCodes: REGIONS, balancesAsOf: AS_OF_2 }
}

type Source = string | Buffer | AsyncIterable<Uint8Array | string>

async function run(
  runtime: CounterRuntime,
  source: Source,
  options?: SnapshotImportOptions,
  personalDataKey?: Uint8Array
) {
  const log = recordingLogger()
  const result = await importSnapshot(
    {
      db: runtime.db,
      cipher: runtime.personalData,
      clock: { now: () => new Date(TEST_NOW) },
      log,
      personalDataKey
    },
    typeof source === 'string' || Buffer.isBuffer(source) ? chunked(source) : source,
    options
  )
  return { result, log }
}

/** The runtime's personal-data key, as a test terminal keeps it (a plain file: no OS protection in tests). */
async function keyOf(runtime: CounterRuntime): Promise<Buffer> {
  return Buffer.from((await readFile(join(runtime.dataDir, FILE_KEY_FILE), 'utf8')).trim(), 'base64')
}

async function refusal(
  runtime: CounterRuntime,
  source: Source,
  options?: SnapshotImportOptions,
  personalDataKey?: Uint8Array
): Promise<AppError> {
  const error = await run(runtime, source, options, personalDataKey).then(
    () => null,
    (caught: unknown) => caught
  )
  expect(error).toBeInstanceOf(AppError)
  expect((error as AppError).code).toBe('SNAPSHOT_REFUSED')
  return error as AppError
}

async function lookup(
  runtime: CounterRuntime,
  context: CallContext,
  input: string
): Promise<CardholderView | string> {
  const result = await runtime.dispatch('cardholder.lookup', { input }, context)
  return result.ok ? (result.value as CardholderView) : result.error.code
}

/** Everything the counter can see of the snapshot, to compare before and after a refused import. */
async function liveState(runtime: CounterRuntime) {
  const count = async (table: string) =>
    (await runtime.db(table).count<Array<{ n: number }>>({ n: '*' }))[0].n
  return {
    snapshot: await currentSnapshot(runtime.db),
    accounts: await runtime
      .db('accounts')
      .orderBy('id')
      .select('id', 'account_no', 'card_hash', 'pii', 'balance_fen', 'balance_as_of', 'removed_at'),
    family: await count('family_members'),
    holdings: await count('holdings')
  }
}

async function stagingRows(runtime: CounterRuntime): Promise<number> {
  let total = 0
  for (const table of [
    'snapshot_staging_accounts',
    'snapshot_staging_family',
    'snapshot_staging_holdings',
    'snapshot_staging_removed',
    'snapshot_staging_owner'
  ]) {
    total += (await runtime.db(table).count<Array<{ n: number }>>({ n: '*' }))[0].n
  }
  return total
}

const accounts = (from: number, to: number) => [...syntheticAccounts(from, to, REGIONS)]

describe('importing the account snapshot', () => {
  it('replaces the demo accounts with a full snapshot that lookups then answer from', async () => {
    const runtime = await openTestRuntime()
    const clerk = await signedIn(runtime)
    expect(await lookup(runtime, clerk, 'C33080001')).toMatchObject({ balanceFen: expect.any(Number) })

    const entries: SnapshotEntry[] = accounts(0, 30)
    const { result, log } = await run(runtime, snapshotText(full(7), entries))
    expect(result).toEqual({
      snapshotVersion: 7,
      full: true,
      accounts: 30,
      removed: DEMO_ACCOUNTS.length,
      balancesAsOf: AS_OF_1,
      applied: true
    } satisfies SnapshotImportResult)
    expect(await currentSnapshot(runtime.db)).toEqual({
      version: 7,
      balancesAsOf: AS_OF_1,
      receivedAt: TEST_NOW
    })

    const a4 = syntheticAccount(4, REGIONS)
    expect(await lookup(runtime, clerk, syntheticCardNumber(4))).toMatchObject({
      identifiedBy: 'social-security-card',
      region: { code: '330800', name: '衢州市' },
      balanceFen: a4.balanceFen,
      historicalBalanceFen: a4.historicalBalanceFen,
      balanceAsOf: AS_OF_1,
      boundFamilyMemberCount: a4.family.length
    })
    expect(await lookup(runtime, clerk, syntheticIdNumber(5, 0))).toMatchObject({
      identifiedBy: 'resident-id',
      balanceFen: syntheticAccount(5, REGIONS).balanceFen,
      boundFamilyMemberCount: 2
    })
    // Demo accounts without sales were not in the snapshot: gone.
    expect(await lookup(runtime, clerk, 'C33080001')).toBe('CARD_NOT_FOUND')
    expect(await runtime.db('family_members').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 30 }])
    expect(await runtime.db('holdings').count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 15 }])
    expect(await stagingRows(runtime)).toBe(0)
    expect(log.lines.some((line) => line.includes('"event":"snapshot_imported"'))).toBe(true)
  })

  it('applies a delta: updates, adds and removes accounts, family and holdings replaced whole', async () => {
    const runtime = await openTestRuntime()
    const clerk = await signedIn(runtime)
    await run(runtime, snapshotText(full(1), accounts(0, 10)))
    const changed = {
      ...syntheticAccount(4, REGIONS),
      balanceFen: 777_700,
      historicalBalanceFen: 1_00,
      family: [],
      holdings: []
    }
    const { result } = await run(
      runtime,
      snapshotText(delta(2, 1), [
        changed,
        { removed: syntheticAccount(5, REGIONS).accountNo },
        syntheticAccount(20, REGIONS)
      ])
    )
    expect(result).toMatchObject({ snapshotVersion: 2, full: false, accounts: 2, removed: 1, applied: true })
    expect(await lookup(runtime, clerk, syntheticCardNumber(4))).toMatchObject({
      balanceFen: 777_700,
      historicalBalanceFen: 100,
      boundFamilyMemberCount: 0,
      balanceAsOf: AS_OF_2
    })
    expect(await lookup(runtime, clerk, syntheticCardNumber(5))).toBe('CARD_NOT_FOUND')
    expect(await lookup(runtime, clerk, syntheticCardNumber(20))).toMatchObject({
      balanceFen: syntheticAccount(20, REGIONS).balanceFen,
      boundFamilyMemberCount: 2,
      balanceAsOf: AS_OF_2
    })
    // Not in the delta: its row as it was; the delta confirms its balance as of the delta's moment.
    expect(await lookup(runtime, clerk, syntheticCardNumber(3))).toMatchObject({
      balanceFen: syntheticAccount(3, REGIONS).balanceFen,
      balanceAsOf: AS_OF_2
    })
    expect(
      await runtime
        .db('accounts')
        .where({ account_no: syntheticAccount(3, REGIONS).accountNo })
        .first('balance_as_of')
    ).toEqual({ balance_as_of: AS_OF_1 })
    const holdingsOf4 = await runtime
      .db('holdings as h')
      .join('accounts as a', 'a.id', 'h.account_id')
      .where('a.account_no', changed.accountNo)
      .count<Array<{ n: number }>>({ n: '*' })
    expect(holdingsOf4).toEqual([{ n: 0 }])
    expect(await currentSnapshot(runtime.db)).toMatchObject({ version: 2, balancesAsOf: AS_OF_2 })
  })

  it('refuses a delta whose base is not the version held, and changes nothing', async () => {
    const runtime = await openTestRuntime()
    await run(runtime, snapshotText(full(3), accounts(0, 5)))
    const before = await liveState(runtime)
    const error = await refusal(runtime, snapshotText(delta(5, 4), accounts(0, 2)))
    expect(error.message).toBe(
      '账户快照未导入：增量快照基于版本 4，本机现有版本 3，需先下载完整快照。本机继续使用原有的账户数据。'
    )
    expect(await liveState(runtime)).toEqual(before)
  })

  describe('refuses a damaged snapshot and keeps the previous one answering as before', () => {
    const good = snapshotText(full(2), accounts(0, 12))
    const lines = good.split('\n')
    const damage: Array<[string, () => string | Buffer, RegExp]> = [
      [
        'a changed digit',
        () => good.replace('"balanceFen":100005', '"balanceFen":100006'),
        /校验值与内容不符/
      ],
      [
        'a flipped bit inside a name',
        () => {
          const bytes = Buffer.from(good, 'utf8')
          const at = bytes.indexOf(Buffer.from(syntheticAccount(6, REGIONS).name, 'utf8'))
          // A continuation byte stays one: still valid UTF-8 and JSON, only the digest can tell.
          bytes[at + 1] ^= 0x01
          return bytes
        },
        /校验值与内容不符/
      ],
      [
        'a stream cut off mid-line',
        () => good.slice(0, Math.floor(good.length * 0.6)),
        /数据不完整，到第 \d+ 行为止没有结束行/
      ],
      [
        'a stream cut off after a whole line',
        () => lines.slice(0, 9).join('\n') + '\n',
        /数据不完整，到第 9 行为止没有结束行/
      ],
      [
        'a wrong count',
        () => good.replace(/"count":12/, '"count":11'),
        /结束行（第 14 行）的行数为 11，实际收到 12 行/
      ],
      [
        'an unknown line type',
        () => [...lines.slice(0, 4), '{"type":"note","text":"x"}', ...lines.slice(4)].join('\n'),
        /第 5 行：字段 type 不是协议中的行类型/
      ],
      [
        'a line that is not JSON',
        () => [...lines.slice(0, 3), '{"type":"account",', ...lines.slice(3)].join('\n'),
        /第 4 行不是有效的 JSON/
      ],
      [
        'a line for a region not in the header',
        () => snapshotText({ ...full(2), regionCodes: ['330800'] }, accounts(0, 3)),
        /第 3 行（账户）：地区 320500 不在头行所列的地区中/
      ],
      [
        'a field that breaks the schema',
        () => good.replace('"status":"active"', '"status":"closed"'),
        /第 2 行（账户）：字段 status 不是协议中的参保状态/
      ],
      [
        'an account number twice',
        () => snapshotText(full(2), [...accounts(0, 3), syntheticAccount(1, REGIONS)]),
        /第 5 行：账户编号与第 3 行重复/
      ],
      [
        'a card number on two accounts',
        () =>
          snapshotText(full(2), [
            ...accounts(0, 3),
            { ...syntheticAccount(9, REGIONS), cardNumber: syntheticCardNumber(1) }
          ]),
        /第 5 行（账户）：社会保障卡号与第 3 行的账户相同/
      ],
      [
        'data after the end line',
        () => `${good}{"type":"removed","accountNo":"AC0000000001"}\n`,
        /第 14 行是结束行，但其后还有数据/
      ],
      ['a header that is not first', () => lines.slice(1).join('\n'), /第 1 行应为头行/],
      ['nothing at all', () => '', /没有收到任何数据/],
      [
        'an account removed and updated at once',
        () => snapshotText(full(2), [...accounts(0, 3), { removed: syntheticAccount(1, REGIONS).accountNo }]),
        /第 5 行（删除）：该账户在第 3 行又有账户行/
      ]
    ]

    for (const [what, make, message] of damage) {
      it(what, async () => {
        const runtime = await openTestRuntime()
        const clerk = await signedIn(runtime)
        await run(runtime, snapshotText(full(1), accounts(0, 4)))
        const before = await liveState(runtime)
        const answer = await lookup(runtime, clerk, syntheticCardNumber(2))
        const error = await refusal(runtime, make())
        expect(error.message).toMatch(message)
        expect(error.message).toMatch(/^账户快照未导入：.*本机继续使用原有的账户数据。$/)
        expect(await liveState(runtime)).toEqual(before)
        expect(await lookup(runtime, clerk, syntheticCardNumber(2))).toEqual(answer)
        expect(await lookup(runtime, clerk, syntheticCardNumber(10))).toBe('CARD_NOT_FOUND')
        expect(await stagingRows(runtime)).toBe(0)
      })
    }
  })

  it('refuses a snapshot whose digest is not the one the signed package names', async () => {
    const runtime = await openTestRuntime()
    const text = snapshotText(full(1), accounts(0, 3))
    const digest = (JSON.parse(text.trimEnd().split('\n').at(-1) ?? '{}') as { sha256: string }).sha256
    const error = await refusal(runtime, text, { expectedSha256: 'f'.repeat(64) })
    expect(error.message).toContain('快照的校验值与同步包签名中的不一致')
    expect((await run(runtime, text, { expectedSha256: digest })).result.applied).toBe(true)
  })

  it('refuses when the source fails midway (the network drops), and changes nothing', async () => {
    const runtime = await openTestRuntime()
    await run(runtime, snapshotText(full(1), accounts(0, 4)))
    const before = await liveState(runtime)
    const text = snapshotText(full(2), accounts(0, STAGING_BATCH_LINES * 2))
    async function* dropping(): AsyncGenerator<Uint8Array> {
      let sent = 0
      for await (const chunk of chunked(text, 64 * 1024)) {
        yield chunk
        sent += chunk.length
        if (sent > text.length * 0.7) throw new TypeError('terminated: other side closed')
      }
    }
    const error = await refusal(runtime, dropping())
    expect(error.message).toMatch(/^账户快照未导入：读到第 \d+ 行时数据中断（网络断开或文件无法读取）/)
    expect(await liveState(runtime)).toEqual(before)
    expect(await stagingRows(runtime)).toBe(0)
  })

  it('skips a full snapshot no newer than the one held (a package imported twice)', async () => {
    const runtime = await openTestRuntime()
    const text = snapshotText(full(4), accounts(0, 3))
    await run(runtime, text)
    const before = await liveState(runtime)
    const { result } = await run(runtime, text)
    expect(result).toMatchObject({ snapshotVersion: 4, applied: false, accounts: 0 })
    expect(await liveState(runtime)).toEqual(before)
  })

  it('discards what a crashed import left in staging', async () => {
    const runtime = await openTestRuntime()
    await runtime.db.raw(
      `insert into snapshot_staging_owner (id, import_id, started_at) values (1, 'crashed', ?)`,
      [TEST_NOW]
    )
    await runtime.db.raw(
      `insert into snapshot_staging_accounts values (2, 'AC9999999999', x'00', x'00', x'00', '330800', 'resident', 'active', 1, 0, 0, 0)`
    )
    await runtime.db.raw(
      `insert into snapshot_staging_family values ('AC9999999999', x'00', x'00', 'child', ?)`,
      [TEST_NOW]
    )
    const { result } = await run(runtime, snapshotText(full(1), accounts(0, 3)))
    expect(result.accounts).toBe(3)
    expect(await runtime.db('accounts').where({ account_no: 'AC9999999999' }).first()).toBeUndefined()
    expect(await stagingRows(runtime)).toBe(0)
  })

  it('keeps an account that sales refer to when it leaves the snapshot: its receipts still print, a swipe no longer finds it', async () => {
    const runtime = await openTestRuntime()
    const clerk = await onShift(runtime)
    const payer = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'C33080001')
    if (!payer) throw new Error('demo payer missing')
    const found = await lookup(runtime, clerk, payer.cardNumber)
    const order = {
      accountId: (found as CardholderView).accountId,
      lines: [{ insured: { relation: 'self' as const }, productCode: 'QZ-HQB-2027', units: 1 }]
    }
    const sold = await commit(runtime, clerk, order, payer.cardNumber)
    if (!sold.ok) throw new Error(sold.error.message)
    const saleId = (sold.value as ReceiptView).saleId

    const { result } = await run(runtime, snapshotText(full(1), accounts(0, 3)))
    expect(result.removed).toBe(DEMO_ACCOUNTS.length)
    expect(await lookup(runtime, clerk, payer.cardNumber)).toBe('CARD_NOT_FOUND')
    expect(await lookup(runtime, clerk, payer.idNumber)).toBe('CARD_NOT_FOUND')
    const kept = await runtime
      .db('accounts')
      .where({ account_no: demoAccountNo(payer) })
      .first<{ removed_at: string | null }>()
    expect(kept?.removed_at).toBe(TEST_NOW)
    expect(await runtime.dispatch('sale.receipt', { saleId }, clerk)).toMatchObject({
      ok: true,
      value: { saleId, payer: { cardNumberMasked: 'C****0001' } }
    })

    // The same person back under a new account number: found again, the old row still kept for the receipt.
    const back = {
      ...syntheticAccount(50, REGIONS),
      accountNo: 'QZ2026000001',
      cardNumber: payer.cardNumber,
      idNumber: payer.idNumber
    }
    await run(runtime, snapshotText(full(2), [back]))
    expect(await lookup(runtime, clerk, payer.cardNumber)).toMatchObject({ balanceFen: back.balanceFen })
    expect(await runtime.dispatch('sale.receipt', { saleId }, clerk)).toMatchObject({ ok: true })
  })

  it('lets a card number move from one account to another that both stay', async () => {
    const runtime = await openTestRuntime()
    const clerk = await signedIn(runtime)
    await run(runtime, snapshotText(full(1), accounts(0, 3)))
    const a = syntheticAccount(1, REGIONS)
    const b = syntheticAccount(2, REGIONS)
    await run(
      runtime,
      snapshotText(delta(2, 1), [
        { ...a, cardNumber: b.cardNumber },
        { ...b, cardNumber: a.cardNumber }
      ])
    )
    expect(await lookup(runtime, clerk, a.cardNumber)).toMatchObject({ balanceFen: b.balanceFen })
    expect(await lookup(runtime, clerk, b.cardNumber)).toMatchObject({ balanceFen: a.balanceFen })
  })

  it('leaves no card number, ID number or name in plain text in the database file', async () => {
    const runtime = await openTestRuntime()
    const people = [
      {
        ...syntheticAccount(1, REGIONS),
        name: '欧阳明月甲',
        family: [
          {
            idNumber: syntheticIdNumber(1, 1),
            name: '欧阳星辰乙',
            relation: 'child' as const,
            boundAt: AS_OF_1
          }
        ]
      },
      { ...syntheticAccount(2, REGIONS), name: '司马青云丙' }
    ]
    await run(runtime, snapshotText(full(1), people))
    const files = await Promise.all(
      [runtime.databaseFile, `${runtime.databaseFile}-wal`].map((file) =>
        readFile(file).catch(() => Buffer.alloc(0))
      )
    )
    const bytes = Buffer.concat(files)
    expect(bytes.length).toBeGreaterThan(10_000)
    for (const secret of [
      '欧阳明月甲',
      '欧阳星辰乙',
      '司马青云丙',
      people[0].idNumber,
      people[1].idNumber,
      syntheticIdNumber(1, 1),
      people[0].cardNumber,
      people[1].cardNumber
    ]) {
      expect(bytes.includes(Buffer.from(secret, 'utf8')), secret.slice(0, 2)).toBe(false)
    }
  })

  it('logs counts and versions, never a name, an ID number or a card number', async () => {
    const runtime = await openTestRuntime()
    const entries = accounts(0, 5)
    const { log } = await run(runtime, snapshotText(full(1), entries))
    const bad = snapshotText(full(2), entries).replace(
      `"name":"${entries[2].name}"`,
      `"name":"${entries[2].name}","x":1`
    )
    const refusedLog = recordingLogger()
    await importSnapshot(
      {
        db: runtime.db,
        cipher: runtime.personalData,
        clock: { now: () => new Date(TEST_NOW) },
        log: refusedLog
      },
      chunked(bad)
    ).catch(() => undefined)
    const text = [...log.lines, ...refusedLog.lines].join('\n')
    expect(refusedLog.lines.join()).toContain('snapshot_refused')
    for (const entry of entries) {
      for (const secret of [entry.name, entry.idNumber, entry.cardNumber]) expect(text).not.toContain(secret)
    }
  })

  it('serves the counter between staging batches, from the previous snapshot, while an import runs', async () => {
    const runtime = await openTestRuntime()
    const clerk = await signedIn(runtime)
    const total = STAGING_BATCH_LINES * 4
    const writer = createSnapshotWriter(full(1))
    const lines = [
      writer.header,
      ...accounts(0, total).map((account) => writer.account(account)),
      writer.end()
    ]
    const seen: Array<{ staged: number; answer: CardholderView | string; newCard: CardholderView | string }> =
      []
    async function* slowSource(): AsyncGenerator<string> {
      for (let i = 0; i < lines.length; i++) {
        yield lines[i]
        if (i > 0 && i % STAGING_BATCH_LINES === 100) {
          // Mid-import, between batches: the swipe is answered now, not after the import.
          const staged = (
            await runtime.db('snapshot_staging_accounts').count<Array<{ n: number }>>({ n: '*' })
          )[0].n
          seen.push({
            staged,
            answer: await lookup(runtime, clerk, 'C33080001'),
            newCard: await lookup(runtime, clerk, syntheticCardNumber(5))
          })
        }
      }
    }
    const { result } = await run(runtime, slowSource())
    expect(result.accounts).toBe(total)
    // Asked at lines 100, 2,100, 4,100 and 6,100: batches were staged before most of the swipes.
    expect(seen).toHaveLength(4)
    expect(seen[3].staged).toBeGreaterThanOrEqual(STAGING_BATCH_LINES * 2)
    for (const s of seen) {
      expect(s.answer).toMatchObject({ cardNumberMasked: 'C****0001' })
      expect(s.newCard).toBe('CARD_NOT_FOUND')
    }
    expect(await lookup(runtime, clerk, syntheticCardNumber(5))).toMatchObject({
      balanceFen: syntheticAccount(5, REGIONS).balanceFen
    })
  })

  it('refuses a second import into the same database while one runs', async () => {
    const runtime = await openTestRuntime()
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const text = snapshotText(full(1), accounts(0, 3))
    async function* waiting(): AsyncGenerator<string> {
      yield text.slice(0, 50)
      await gate
      yield text.slice(50)
    }
    const first = run(runtime, waiting())
    const error = await refusal(runtime, text)
    expect(error.message).toContain('另一次账户快照导入正在进行')
    release()
    expect((await first).result.applied).toBe(true)
  })

  describe('on worker threads, given the personal-data key', () => {
    const entries = accounts(0, STAGING_BATCH_LINES * 3 + 7)

    it('hashes and seals there, with the same outcome as on the main thread', async () => {
      const runtime = await openTestRuntime()
      const clerk = await signedIn(runtime)
      const { result, log } = await run(
        runtime,
        snapshotText(full(1), entries),
        { workers: 2 },
        await keyOf(runtime)
      )
      expect(result).toMatchObject({ accounts: entries.length, applied: true })
      expect(log.lines.join()).toContain('"event":"snapshot_workers_started","workers":2')
      for (const i of [0, STAGING_BATCH_LINES + 1, entries.length - 1]) {
        expect(await lookup(runtime, clerk, syntheticCardNumber(i))).toMatchObject({
          balanceFen: syntheticAccount(i, REGIONS).balanceFen,
          boundFamilyMemberCount: i % 3
        })
      }
      expect(await runtime.db('family_members').count<Array<{ n: number }>>({ n: '*' })).toEqual([
        { n: entries.reduce((sum, e) => sum + e.family.length, 0) }
      ])
    })

    it('refuses a bad line found on a worker with the same message, and changes nothing', async () => {
      const runtime = await openTestRuntime()
      await run(runtime, snapshotText(full(1), accounts(0, 3)))
      const before = await liveState(runtime)
      const bad = [...entries]
      bad[STAGING_BATCH_LINES + 10] = { ...bad[STAGING_BATCH_LINES + 10], regionCode: '110000' }
      const error = await refusal(runtime, snapshotText(full(2), bad), { workers: 2 }, await keyOf(runtime))
      expect(error.message).toBe(
        `账户快照未导入：第 ${STAGING_BATCH_LINES + 12} 行（账户）：地区 110000 不在头行所列的地区中。本机继续使用原有的账户数据。`
      )
      expect(await liveState(runtime)).toEqual(before)
      expect(await stagingRows(runtime)).toBe(0)
    })

    it('does not use a key that is not the database key: it seals on the main thread instead', async () => {
      const runtime = await openTestRuntime()
      const clerk = await signedIn(runtime)
      const { result, log } = await run(
        runtime,
        snapshotText(full(1), entries),
        { workers: 2 },
        Buffer.alloc(32, 9)
      )
      expect(result.accounts).toBe(entries.length)
      expect(log.lines.join()).toContain('snapshot_workers_unavailable')
      expect(log.lines.join()).not.toContain('snapshot_workers_started')
      expect(await lookup(runtime, clerk, syntheticCardNumber(5))).toMatchObject({
        balanceFen: syntheticAccount(5, REGIONS).balanceFen
      })
    })
  })
})
