import { createHash } from 'node:crypto'
import type { Writable } from 'node:stream'
import type { Knex } from 'knex'
import { instalmentPlanAfter } from '../core/after-sale'
import { settlementYearOf } from '../core/rules/settlement-year'
import {
  type AccountLine,
  type ProtocolVersion,
  type RemovedLine,
  type SnapshotEnd,
  type SnapshotHeader
} from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { readConsistently, rowsOf } from './db/dialect'
import { currentVersion, deltaFloor } from './db/state'
import type { BundleCache } from './rules'

/**
 * The account snapshot as NDJSON, written page by page as rows come out of SQLite: memory stays
 * flat however many accounts there are. The whole snapshot is read in one read transaction, so
 * every line is as of `snapshotVersion` even while uploads commit alongside.
 */

export interface SnapshotRequest {
  readonly regionCodes: readonly string[]
  /** The version the terminal holds; null for a full snapshot. */
  readonly since: number | null
  /** The version at which the terminal's regions last changed: a delta from before it would miss a region. */
  readonly regionsSinceVersion: number
  readonly clock: Clock
  readonly bundles: BundleCache
  /** The version the lines are written in: 1 leaves out what a terminal of protocol 1 would refuse. */
  readonly protocol: ProtocolVersion
  readonly pageSize?: number
  /**
   * Told, before the first line, how many account and removed lines will follow (the end line's
   * `count`, from the same read): the server sends it as `x-snapshot-lines` for the terminal's progress.
   */
  readonly onCount?: (lines: number) => void
  /** Lines built for other terminals' snapshots, shared by this process (see AccountLineCache). */
  readonly lineCache?: AccountLineCache
}

/**
 * The account lines this process built lately, so the terminals following a region do not each
 * rebuild every changed account (its family, holdings and policies: three queries a page). A line
 * is reused only for the same account row (version, balance, spending and all) and protocol, and
 * for `maxAgeMs`: a line also depends on the time (holdings whose cover has ended drop out), so an
 * old one could list an ended holding for that long, as a terminal's own copy does until its next
 * sync. The oldest entries go first once `maxLines` are held.
 */
export class AccountLineCache {
  private readonly lines = new Map<string, { row: string; text: string; builtAt: number }>()

  constructor(
    private readonly maxLines = 20_000,
    private readonly maxAgeMs = 60_000
  ) {}

  get(key: string, row: string, now: number): string | undefined {
    const entry = this.lines.get(key)
    if (!entry) return undefined
    if (entry.row !== row || Math.abs(now - entry.builtAt) > this.maxAgeMs) {
      this.lines.delete(key)
      return undefined
    }
    return entry.text
  }

  set(key: string, row: string, text: string, now: number): void {
    this.lines.delete(key)
    this.lines.set(key, { row, text, builtAt: now })
    if (this.lines.size > this.maxLines) this.lines.delete(this.lines.keys().next().value as string)
  }

  get size(): number {
    return this.lines.size
  }
}

export interface SnapshotWritten {
  readonly header: SnapshotHeader
  readonly end: SnapshotEnd
  readonly accounts: number
  readonly removed: number
}

interface AccountRow {
  id: number
  account_no: string
  card_number: string
  id_number: string
  name: string
  region_code: string
  insurance_type: AccountLine['insuranceType']
  status: AccountLine['status']
  balance_fen: number
  historical_balance_fen: number
  fitness_card_transfers_fen: number
  spent_fen: number
  version: number
}

interface FamilyRow {
  account_id: number
  id_number: string
  name: string
  relation: AccountLine['family'][number]['relation']
  bound_at: string
}

interface HoldingRow {
  id: number
  insured_id_number: string
  product_code: string
  cover_from: string
  cover_to: string
  payer_account_id: number | null
  policy_no: string | null
  /** The policy's: the sale line it began with, its units and instalment terms (null for holdings of other channels). */
  policy_sale_id: string | null
  policy_line_no: number | null
  policy_cover_to: string | null
  units: number | null
  instalments_paid: number | null
  instalment_years: number | null
  next_due_at: string | null
  grace_days: number | null
}

/**
 * The holdings of these persons and those these accounts paid for, with their policies' terms, in
 * id order: in cover, or with an instalment still to pay (in grace, or lapsed since `lapsedSince`).
 * Holdings by person and by payer are two index lookups joined by a union, and their policies a
 * lookup by id: one query with an `or` across the two columns, and the policies joined in, was
 * planned as scans of every holding and every policy for every page (12 ms a page at 100,000
 * holdings, and growing).
 */
async function listedHoldings(
  trx: Knex.Transaction,
  persons: readonly string[],
  payerIds: readonly number[],
  now: string,
  lapsedSince: string
): Promise<HoldingRow[]> {
  const candidates = (query: Knex.QueryBuilder, column: string, values: readonly (string | number)[]) =>
    query
      .from('holdings')
      .whereIn(column, values)
      // Ended without a policy, or too long ago to be an unpaid instalment (a policy's next due
      // date is the end of its cover): nothing left to show. The rest is decided with the policy below.
      .where((q) => {
        q.where('cover_to', '>', now).orWhere((ended) => {
          void ended.where('cover_to', '>', lapsedSince).whereNotNull('policy_id')
        })
      })
      // Named, so the union's order by finds it on SQLite.
      .select(
        'id as id',
        'insured_id_number',
        'product_code',
        'cover_from',
        'cover_to',
        'payer_account_id',
        'policy_no',
        'policy_id'
      )
  const held: Array<Omit<HoldingRow, PolicyTerms> & { policy_id: number | null }> = await candidates(
    trx.queryBuilder(),
    'insured_id_number',
    persons
  )
    .union((paid) => {
      void candidates(paid, 'payer_account_id', payerIds)
    })
    .orderBy('id')
  const policyIds = [...new Set(held.flatMap((h) => (h.policy_id === null ? [] : [h.policy_id])))]
  const policies = new Map<number, PolicyRow>()
  for (let i = 0; i < policyIds.length; i += 500) {
    const rows: PolicyRow[] = await trx('policies')
      .whereIn('id', policyIds.slice(i, i + 500))
      .select(
        'id',
        'sale_id',
        'line_no',
        'cover_to',
        'units',
        'instalments_paid',
        'instalment_years',
        'next_due_at',
        'grace_days',
        'cancelled_at'
      )
    for (const row of rows) policies.set(row.id, row)
  }
  return held.flatMap(({ policy_id, ...holding }) => {
    const policy = policy_id === null ? undefined : policies.get(policy_id)
    const due =
      policy !== undefined &&
      policy.next_due_at !== null &&
      policy.cancelled_at === null &&
      holding.cover_to === policy.cover_to &&
      policy.next_due_at > lapsedSince
    if (!(holding.cover_to > now || due)) return []
    return [
      {
        ...holding,
        policy_sale_id: policy?.sale_id ?? null,
        policy_line_no: policy?.line_no ?? null,
        policy_cover_to: policy?.cover_to ?? null,
        units: policy?.units ?? null,
        instalments_paid: policy?.instalments_paid ?? null,
        instalment_years: policy?.instalment_years ?? null,
        next_due_at: policy?.next_due_at ?? null,
        grace_days: policy?.grace_days ?? null
      }
    ]
  })
}

type PolicyTerms =
  | 'policy_sale_id'
  | 'policy_line_no'
  | 'policy_cover_to'
  | 'units'
  | 'instalments_paid'
  | 'instalment_years'
  | 'next_due_at'
  | 'grace_days'

interface PolicyRow {
  id: number
  sale_id: string
  line_no: number
  cover_to: string
  units: number | null
  instalments_paid: number
  instalment_years: number | null
  next_due_at: string | null
  grace_days: number | null
  cancelled_at: string | null
}

/** How long a policy whose instalment went unpaid is still listed: reinstatement is possible for two years (保险法 art. 37). */
const LAPSED_LISTED_MS = 2 * 366 * 86_400_000

const MAX_FAMILY = 20
const MAX_HOLDINGS = 200

/** Whether `since` can be answered with a delta, given what the centre still knows. */
function canDelta(
  since: number | null,
  version: number,
  floor: number,
  regionsSinceVersion: number
): since is number {
  return since !== null && since >= floor && since >= regionsSinceVersion && since <= version
}

export async function writeSnapshot(
  reader: Knex,
  request: SnapshotRequest,
  write: (chunk: string) => Promise<void>
): Promise<SnapshotWritten> {
  const pageSize = request.pageSize ?? 500
  const regionCodes = [...new Set(request.regionCodes)].sort()
  return readConsistently(reader, async (trx) => {
    // The first read fixes the transaction's view: the counter and every row after it agree.
    const version = await currentVersion(trx)
    const floor = await deltaFloor(trx)
    const delta = canDelta(request.since, version, floor, request.regionsSinceVersion)
    const generatedAt = request.clock.now().toISOString()
    const hash = createHash('sha256')
    const emit = async (text: string) => {
      hash.update(text, 'utf8')
      await write(text)
    }
    const header: SnapshotHeader = {
      type: 'header',
      protocol: request.protocol,
      snapshotVersion: version,
      full: !delta,
      baseVersion: delta ? request.since : null,
      regionCodes,
      balancesAsOf: generatedAt,
      generatedAt
    }
    if (request.onCount) request.onCount(await lineCount(trx, regionCodes, delta ? request.since : null))
    await emit(`${JSON.stringify(header)}\n`)

    let accounts = 0
    for (const regionCode of regionCodes) {
      const yearFrom = settlementYearOf(generatedAt, await request.bundles.yearStart(trx, regionCode)).from
      // Keyset paging on (version, id), the index's order: each page is one index range, never an OFFSET.
      // A delta starts after every row of version `since` (ids start at 1; a bigger sentinel id
      // would not fit PostgreSQL's integer column).
      let cursor = delta ? { version: request.since + 1, id: 0 } : { version: 0, id: 0 }
      for (;;) {
        const rows = rowsOf<AccountRow>(
          await trx.raw(
            `select a.id, a.account_no, a.card_number, a.id_number, a.name, a.region_code, a.insurance_type, a.status,
                  a.balance_fen, a.historical_balance_fen, a.fitness_card_transfers_fen, a.version, coalesce(s.spent_fen, 0) as spent_fen
             from accounts a left join spending_years s on s.account_id = a.id and s.year_from = ?
            where a.region_code = ? and (a.version, a.id) > (?, ?)
            order by a.version, a.id limit ?`,
            [yearFrom, regionCode, cursor.version, cursor.id, pageSize]
          )
        )
        if (rows.length === 0) break
        await emit(await accountTexts(trx, rows, generatedAt, request.protocol, request.lineCache))
        accounts += rows.length
        const last = rows[rows.length - 1]
        cursor = { version: last.version, id: last.id }
        if (rows.length < pageSize) break
      }
    }

    let removed = 0
    if (delta) {
      let after = ''
      for (;;) {
        // An account that left one of these regions and is not now in another of them.
        const rows = rowsOf<{ account_no: string }>(
          await trx.raw(
            `select distinct r.account_no from removals r
            where r.region_code in (${regionCodes.map(() => '?').join(',')}) and r.version > ? and r.account_no > ?
              and not exists (select 1 from accounts a where a.account_no = r.account_no and a.region_code in (${regionCodes.map(() => '?').join(',')}))
            order by r.account_no limit ?`,
            [...regionCodes, request.since, after, ...regionCodes, pageSize]
          )
        )
        if (rows.length === 0) break
        await emit(
          rows
            .map(
              (row) =>
                `${JSON.stringify({ type: 'removed', accountNo: row.account_no } satisfies RemovedLine)}\n`
            )
            .join('')
        )
        removed += rows.length
        after = rows[rows.length - 1].account_no
        if (rows.length < pageSize) break
      }
    }

    const end: SnapshotEnd = { type: 'end', count: accounts + removed, sha256: hash.digest('hex') }
    await write(`${JSON.stringify(end)}\n`)
    return { header, end, accounts, removed }
  })
}

/** The account and removed lines a snapshot of these regions will carry (since `since`, for a delta). */
async function lineCount(
  trx: Knex.Transaction,
  regionCodes: readonly string[],
  since: number | null
): Promise<number> {
  const marks = regionCodes.map(() => '?').join(',')
  const [accounts] = rowsOf<{ n: number }>(
    await trx.raw(
      `select count(*) as n from accounts where region_code in (${marks})${since === null ? '' : ' and version > ?'}`,
      since === null ? [...regionCodes] : [...regionCodes, since]
    )
  )
  if (since === null) return Number(accounts.n)
  const [removed] = rowsOf<{ n: number }>(
    await trx.raw(
      `select count(distinct r.account_no) as n from removals r
      where r.region_code in (${marks}) and r.version > ?
        and not exists (select 1 from accounts a where a.account_no = r.account_no and a.region_code in (${marks}))`,
      [...regionCodes, since, ...regionCodes]
    )
  )
  return Number(accounts.n) + Number(removed.n)
}

/** One page's account lines as NDJSON text: from the cache where the same row was built lately. */
async function accountTexts(
  trx: Knex.Transaction,
  rows: readonly AccountRow[],
  now: string,
  protocol: ProtocolVersion,
  cache: AccountLineCache | undefined
): Promise<string> {
  const toText = (line: AccountLine) => `${JSON.stringify(line)}\n`
  if (!cache) return (await accountLines(trx, rows, now, protocol)).map(toText).join('')
  const at = Date.parse(now)
  const keyOf = (row: AccountRow) => `${protocol}:${row.id}`
  const rowTexts = rows.map((row) => JSON.stringify(row))
  const texts = rows.map((row, i) => cache.get(keyOf(row), rowTexts[i], at))
  const missing = texts.flatMap((text, i) => (text === undefined ? [i] : []))
  if (missing.length > 0) {
    const built = await accountLines(
      trx,
      missing.map((i) => rows[i]),
      now,
      protocol
    )
    built.forEach((line, k) => {
      const i = missing[k]
      texts[i] = toText(line)
      cache.set(keyOf(rows[i]), rowTexts[i], texts[i], at)
    })
  }
  return texts.join('')
}

/** One page of accounts with their bound family and what their persons hold now. */
async function accountLines(
  trx: Knex.Transaction,
  rows: readonly AccountRow[],
  now: string,
  protocol: ProtocolVersion
): Promise<AccountLine[]> {
  const ids = rows.map((row) => row.id)
  const family: FamilyRow[] = await trx('family_members')
    .whereIn('account_id', ids)
    .orderBy(['account_id', 'id'])
    .select('account_id', 'id_number', 'name', 'relation', 'bound_at')
  const familyOf = new Map<number, FamilyRow[]>()
  for (const member of family) listIn(familyOf, member.account_id).push(member)
  const persons = [
    ...new Set([...rows.map((row) => row.id_number), ...family.map((member) => member.id_number)])
  ]
  // The holder's and the bound family's holdings, and what this account paid for anyone else.
  // A policy with an instalment to pay stays listed after its cover ends: in grace, or lapsed.
  const lapsedSince = new Date(Date.parse(now) - LAPSED_LISTED_MS).toISOString()
  const holdings = await listedHoldings(trx, persons, ids, now, lapsedSince)
  const byPerson = new Map<string, HoldingRow[]>()
  const byPayer = new Map<number, HoldingRow[]>()
  for (const holding of holdings) {
    listIn(byPerson, holding.insured_id_number).push(holding)
    if (holding.payer_account_id !== null) listIn(byPayer, holding.payer_account_id).push(holding)
  }
  return rows.map((row) => {
    const members = (familyOf.get(row.id) ?? []).slice(0, MAX_FAMILY)
    const held = new Map<number, AccountLine['holdings'][number]>()
    for (const person of [row.id_number, ...members.map((member) => member.id_number)]) {
      for (const h of byPerson.get(person) ?? []) addHolding(held, h, protocol)
    }
    for (const h of byPayer.get(row.id) ?? []) addHolding(held, h, protocol)
    return {
      type: 'account',
      accountNo: row.account_no,
      cardNumber: row.card_number,
      idNumber: row.id_number,
      name: row.name,
      regionCode: row.region_code,
      insuranceType: row.insurance_type,
      status: row.status,
      balanceFen: row.balance_fen,
      historicalBalanceFen: row.historical_balance_fen,
      spentThisSettlementYearFen: row.spent_fen,
      fitnessCardTransfersFen: row.fitness_card_transfers_fen,
      family: members.map((member) => ({
        idNumber: member.id_number,
        name: member.name,
        relation: member.relation,
        boundAt: member.bound_at
      })),
      holdings: [...held.values()].slice(-MAX_HOLDINGS)
    }
  })
}

function listIn<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key)
  if (!list) map.set(key, (list = []))
  return list
}

function addHolding(
  held: Map<number, AccountLine['holdings'][number]>,
  h: HoldingRow,
  protocol: ProtocolVersion
): void {
  if (held.has(h.id)) return
  const line: AccountLine['holdings'][number] = {
    idNumber: h.insured_id_number,
    productCode: h.product_code,
    coverFrom: h.cover_from,
    coverTo: h.cover_to
  }
  // Version 2 only: a version-1 terminal refuses a field it does not know.
  held.set(h.id, protocol >= 2 ? { ...line, ...policyFields(h) } : line)
}

/** What version 2 adds to a holding: the policy's number, the line it began with, units, instalments due. */
function policyFields(h: HoldingRow): Partial<AccountLine['holdings'][number]> {
  const latest = h.policy_cover_to === h.cover_to
  return {
    ...(h.policy_no ? { policyNo: h.policy_no } : {}),
    ...(h.policy_sale_id && h.policy_line_no !== null
      ? { policyRef: { saleId: h.policy_sale_id, lineNo: h.policy_line_no } }
      : {}),
    ...(h.units !== null ? { units: h.units } : {}),
    ...(latest && h.next_due_at && h.instalment_years !== null && h.instalments_paid !== null
      ? {
          instalments: {
            paid: h.instalments_paid,
            years: h.instalment_years,
            nextDueAt: h.next_due_at,
            graceEndsAt:
              instalmentPlanAfter(
                { years: h.instalment_years, graceDays: h.grace_days ?? 0 },
                h.instalments_paid,
                h.next_due_at
              ).graceEndsAt ?? h.next_due_at
          }
        }
      : {})
  }
}

/** `write` for a Node stream that waits when the stream's buffer is full, and fails once it is closed. */
export function streamWriter(stream: Writable): (chunk: string) => Promise<void> {
  return (chunk) =>
    new Promise((resolve, reject) => {
      if (stream.destroyed) {
        reject(new Error('对方已断开'))
        return
      }
      if (stream.write(chunk)) {
        resolve()
        return
      }
      const settle = () => {
        stream.off('drain', settle)
        stream.off('close', settle)
        if (stream.destroyed) reject(new Error('对方已断开'))
        else resolve()
      }
      stream.on('drain', settle)
      stream.on('close', settle)
    })
}
