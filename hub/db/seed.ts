import { randomBytes } from 'node:crypto'
import type { Knex } from 'knex'
import { uuidv7 } from '../../core/ids'
import { parseRuleBundleText } from '../../core/rules/bundle'
import { coverPeriodOf } from '../../core/rules/cover'
import { settlementYearOf } from '../../core/rules/settlement-year'
import { residentIdCheckChar } from '../../core/identifiers'
import type { Clock } from '../../core/time'
import { DEMO_BUNDLE_ENVELOPES, DEMO_FORMAT_1_ENVELOPES } from '../../db/seeds/demo-bundles'
import { DEMO_ACCOUNTS, DEMO_REGIONS, demoAccountNo } from '../../db/seeds/demo-population'
import { setCardPin } from '../payer'
import { addRuleBundle } from '../rules'
import { lockKeys, refreshStatistics } from './dialect'
import { nextVersion } from './state'

/** Enrolment codes of the demo: DEMO-ALL serves all six regions and may be used any number of times. */
export const DEMO_ENROLMENT_CODES: ReadonlyArray<{ code: string; regionCodes: string[]; reusable: boolean }> =
  [
    { code: 'DEMO-ALL', regionCodes: DEMO_REGIONS.map((r) => r.code), reusable: true },
    ...DEMO_REGIONS.map((r) => ({ code: `DEMO-${r.code}`, regionCodes: [r.code], reusable: false }))
  ]

/**
 * Demo cards whose holder has set a password of their own; every other card still has the initial
 * password INITIAL_PIN (123456), as a real card has until its first change. README lists both.
 */
export const DEMO_PERSONAL_PINS: Readonly<Record<string, string>> = { D32050001: '135790' }

/**
 * The demo population, rules and enrolment codes, in one transaction, once per database: a second
 * call changes nothing (and answers false).
 */
export async function seedDemo(db: Knex, clock: Clock): Promise<boolean> {
  const now = clock.now().toISOString()
  return db.transaction(async (trx) => {
    // Several centre processes starting at once on one database: one seeds, the others then find it done.
    await lockKeys(trx, ['demo-seed'])
    if (await trx('hub_state').where({ key: 'demo_seeded' }).first()) {
      // A demo centre seeded by an older build gets the demo bundles it lacks (each added once).
      for (const envelope of [...DEMO_FORMAT_1_ENVELOPES, ...DEMO_BUNDLE_ENVELOPES])
        await addRuleBundle(trx, envelope, clock)
      return false
    }
    await trx('regions')
      .insert(DEMO_REGIONS.map(({ code, name }) => ({ code, name })))
      .onConflict('code')
      .merge()
    const version = await nextVersion(trx)
    for (const account of DEMO_ACCOUNTS) {
      const [{ id }] = await trx('accounts')
        .insert({
          account_no: demoAccountNo(account),
          card_number: account.cardNumber,
          id_number: account.idNumber,
          name: account.name,
          region_code: account.regionCode,
          insurance_type: account.insuranceType,
          status: account.status,
          balance_fen: account.balanceFen,
          historical_balance_fen: account.historicalBalanceFen,
          fitness_card_transfers_fen: account.fitnessCardTransfersFen ?? 0,
          version,
          updated_at: now
        })
        .returning<Array<{ id: number }>>('id')
      const personalPin = DEMO_PERSONAL_PINS[account.cardNumber]
      if (personalPin !== undefined) await setCardPin(trx, id, personalPin, clock)
      if (account.family.length > 0) {
        await trx('family_members').insert(
          account.family.map((member) => ({
            account_id: id,
            id_number: member.idNumber,
            name: member.name,
            relation: member.relation,
            bound_at: now
          }))
        )
      }
    }
    // Format 1 first: what terminals of protocol 1 are given; then the current versions.
    for (const envelope of [...DEMO_FORMAT_1_ENVELOPES, ...DEMO_BUNDLE_ENVELOPES])
      await addRuleBundle(trx, envelope, clock)
    await seedInstalmentPolicy(trx, clock.now())
    await trx('enrolment_codes')
      .insert(
        DEMO_ENROLMENT_CODES.map((c) => ({
          code: c.code,
          region_codes_json: JSON.stringify(c.regionCodes),
          reusable: c.reusable,
          created_at: now
        }))
      )
      .onConflict('code')
      .ignore()
    await trx('hub_state').insert({ key: 'demo_seeded', value: 1 })
    return true
  })
}

/**
 * A policy the demo centre holds already: 赵丽华 (A53000004) bought 2 units of 吉瑞安康 at this
 * centre DEMO_INSTALMENT.soldDaysAgo days before the demo was seeded, so the second yearly
 * instalment is payable now (due within the month).
 */
export const DEMO_INSTALMENT = {
  cardNumber: 'A53000004',
  productCode: 'YN-JRAK',
  units: 2,
  soldDaysAgo: 340,
  policyNo: 'BD5399000000000DEMO1'
} as const

async function seedInstalmentPolicy(trx: Knex.Transaction, now: Date): Promise<void> {
  const account = DEMO_ACCOUNTS.find((a) => a.cardNumber === DEMO_INSTALMENT.cardNumber)
  const payload = (JSON.parse(DEMO_BUNDLE_ENVELOPES[0]) as { payload: string }).payload
  const parsed = parseRuleBundleText(payload)
  const product = parsed.ok
    ? parsed.bundle.products.find((p) => p.code === DEMO_INSTALMENT.productCode)
    : undefined
  const terms = product?.afterSale?.instalments
  if (!account || !product || !terms || product.pricing.kind !== 'perUnit') return
  const soldAt = new Date(now.getTime() - DEMO_INSTALMENT.soldDaysAgo * 86_400_000)
  const cover = coverPeriodOf(product, soldAt.toISOString())
  const saleId = uuidv7(soldAt.getTime(), randomBytes(10))
  const payer = await trx('accounts').where({ card_number: account.cardNumber }).first<{ id: number }>('id')
  const premiumFen = DEMO_INSTALMENT.units * product.pricing.bands[0].unitPriceFen
  // Settled last year, in last year's spending: the account's balances above are today's.
  await trx('hub_sales').insert({
    sale_id: saleId,
    terminal_id: 'T-DEMOHISTORY',
    account_id: payer.id,
    total_fen: premiumFen,
    from_historical_fen: 0,
    from_current_fen: premiumFen,
    year_from: settlementYearOf(
      soldAt.toISOString(),
      parsed.ok ? parsed.bundle.settlementYear.startMonthDay : '01-01'
    ).from,
    created_at: soldAt.toISOString(),
    settled_at: soldAt.toISOString()
  })
  const [{ id }] = await trx('policies')
    .insert({
      sale_id: saleId,
      line_no: 1,
      terminal_id: 'T-DEMOHISTORY',
      region_code: account.regionCode,
      product_code: product.code,
      insured_id_number: account.idNumber,
      cover_from: cover.from,
      cover_to: cover.to,
      premium_fen: premiumFen,
      issue_due_at: soldAt.toISOString(),
      policy_no: DEMO_INSTALMENT.policyNo,
      issued_at: soldAt.toISOString(),
      units: DEMO_INSTALMENT.units,
      instalment_years: terms.years,
      instalments_paid: 1,
      next_due_at: cover.to,
      grace_days: terms.graceDays
    })
    .returning<Array<{ id: number }>>('id')
  await trx('holdings').insert({
    insured_id_number: account.idNumber,
    product_code: product.code,
    cover_from: cover.from,
    cover_to: cover.to,
    payer_account_id: payer.id,
    sale_id: saleId,
    line_no: 1,
    bought_at: soldAt.toISOString(),
    policy_id: id,
    policy_no: DEMO_INSTALMENT.policyNo
  })
}

/**
 * Adds an enrolment code (the centre administrator's job, `npm run hub -- add-enrolment-code`):
 * one terminal (or any, when reusable) registers with it for these regions. False when the code
 * exists already: nothing is changed.
 */
export async function addEnrolmentCode(
  db: Knex,
  code: string,
  regionCodes: readonly string[],
  clock: Clock,
  reusable = false
): Promise<boolean> {
  return db.transaction(async (trx) => {
    if (await trx('enrolment_codes').where({ code }).first('code')) return false
    await trx('enrolment_codes').insert({
      code,
      region_codes_json: JSON.stringify(regionCodes),
      reusable,
      created_at: clock.now().toISOString()
    })
    return true
  })
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀英',
  '霞',
  '平'
]
const FIRST_BIRTH = Date.UTC(1940, 0, 1)
const BIRTH_DAYS = 23_000
/** (birth day, 3-digit sequence) must stay unique per area code. */
export const MAX_SYNTHETIC_ACCOUNTS = BIRTH_DAYS * 1000

/**
 * N made-up accounts for load tests, spread over the regions, valid in form: 18-digit IDs with the
 * right check character, 9-character card numbers, distinct account numbers. Inserted as raw
 * multi-row statements in large transactions (each with its own snapshot version, so a snapshot
 * taken between two of them is still exact). Numbering continues across calls.
 */
export async function seedSyntheticAccounts(
  db: Knex,
  count: number,
  options: { clock: Clock; regionCodes?: readonly string[] }
): Promise<{ inserted: number; firstNo: number }> {
  const regions = options.regionCodes ?? DEMO_REGIONS.map((r) => r.code)
  if (regions.length === 0) throw new Error('没有地区')
  const now = options.clock.now().toISOString()
  const known = new Set(await db('regions').pluck<string[]>('code'))
  const missing = regions.filter((code) => !known.has(code))
  if (missing.length > 0) await db('regions').insert(missing.map((code) => ({ code, name: `地区 ${code}` })))
  const row = await db('hub_state')
    .where({ key: 'synthetic_count' })
    .first<{ value: number } | undefined>('value')
  const first = row?.value ?? 0
  if (!Number.isSafeInteger(count) || count < 0 || first + count > MAX_SYNTHETIC_ACCOUNTS) {
    throw new Error(`合成账户数量应为 0–${MAX_SYNTHETIC_ACCOUNTS - first} 之间的整数`)
  }
  const TRANSACTION_ROWS = 100_000
  const STATEMENT_ROWS = 2_000
  for (let start = first; start < first + count; start += TRANSACTION_ROWS) {
    const end = Math.min(start + TRANSACTION_ROWS, first + count)
    await db.transaction(async (trx) => {
      const version = await nextVersion(trx)
      for (let from = start; from < end; from += STATEMENT_ROWS) {
        const values: string[] = []
        for (let n = from; n < Math.min(from + STATEMENT_ROWS, end); n++)
          values.push(syntheticRow(n, regions, version, now))
        await trx.raw(
          `insert into accounts (account_no, card_number, id_number, name, region_code, insurance_type, status, balance_fen, historical_balance_fen, fitness_card_transfers_fen, version, updated_at) values ${values.join(',')}`
        )
      }
      await trx('hub_state').insert({ key: 'synthetic_count', value: end }).onConflict('key').merge()
    })
  }
  await refreshStatistics(db, ['accounts'])
  return { inserted: count, firstNo: first }
}

/** Synthetic account number `n` as the centre holds it (the same every time for the same `n` and regions). */
export function syntheticAccount(n: number, regions: readonly string[]) {
  const region = regions[n % regions.length]
  const birth = new Date(FIRST_BIRTH + Math.floor(n / 1000) * 86_400_000)
    .toISOString()
    .slice(0, 10)
    .replaceAll('-', '')
  const first17 = `${region}${birth}${String(n % 1000).padStart(3, '0')}`
  const type = n % 50 === 7 ? 'resident' : n % 10 === 3 ? 'employee_retired' : 'employee_active'
  const balance = type === 'resident' ? 0 : ((n * 7919) % 2_000_000) + 10_000
  return {
    accountNo: `${region}S${String(n).padStart(9, '0')}`,
    cardNumber: `S${String(n).padStart(8, '0')}`,
    idNumber: first17 + residentIdCheckChar(first17),
    name: SURNAMES[n % SURNAMES.length] + GIVEN[Math.floor(n / SURNAMES.length) % GIVEN.length],
    regionCode: region,
    insuranceType: type,
    status: n % 97 === 5 ? 'suspended' : 'active',
    balanceFen: balance,
    historicalBalanceFen: Math.floor((balance * (n % 10)) / 10)
  } as const
}

/** One account as SQL values; every part is generated here (digits, fixed names), never user text. */
function syntheticRow(n: number, regions: readonly string[], version: number, now: string): string {
  const a = syntheticAccount(n, regions)
  return `('${a.accountNo}','${a.cardNumber}','${a.idNumber}','${a.name}','${a.regionCode}','${a.insuranceType}','${a.status}',${a.balanceFen},${a.historicalBalanceFen},0,${version},'${now}')`
}
