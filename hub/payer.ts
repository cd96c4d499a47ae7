import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto'
import type { Knex } from 'knex'
import type { RejectionCode, SaleItem } from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { hashPin, openPinBlock, verifyPin } from '../backend/shared'
import type { ReadQuery } from './db/dialect'
import { fileKeyById } from './file-key'

/**
 * Is the payer the account's holder? The centre's answer, before any money moves: the card's
 * password (opened from the PIN block, checked against a slow-hash verifier, wrong tries counted
 * and locked), or an e-voucher the centre issued to the account. A sale keyed by hand is taken only
 * when the centre's policy allows it, and only approved.
 */

/** Wrong passwords in a row before the card's password locks at the centre. */
export const MAX_PIN_TRIES = 5
/** 社保卡初始密码: what a card's password is until its holder sets one (no verifier row yet). */
export const INITIAL_PIN = '123456'
/** How long an e-voucher code the centre issues stays valid. */
export const VOUCHER_TTL_MS = 5 * 60_000

export type PayerCheck = { readonly ok: true } | { readonly ok: false; code: RejectionCode; message: string }

const refuse = (code: RejectionCode, message: string): PayerCheck => ({ ok: false, code, message })

interface PinRow {
  account_id: number
  verifier: string
  failed_tries: number
  locked_at: string | null
}

export async function keyedSalesRefused(db: Knex): Promise<boolean> {
  const row = await db('hub_policy').where({ key: 'keyed_sales' }).first<{ value: string } | undefined>()
  return row?.value === 'refuse'
}

export async function setKeyedSalesPolicy(db: Knex, policy: 'accept' | 'refuse'): Promise<void> {
  await db('hub_policy').insert({ key: 'keyed_sales', value: policy }).onConflict('key').merge()
}

/** Sets a card's password (the holder at an office, or the demo seed): a new verifier, tries cleared. */
export async function setCardPin(db: Knex, accountId: number, pin: string, clock: Clock): Promise<void> {
  await db('card_pins')
    .insert({
      account_id: accountId,
      verifier: await hashPin(pin),
      failed_tries: 0,
      locked_at: null,
      updated_at: clock.now().toISOString()
    })
    .onConflict('account_id')
    .merge()
}

/** A code for the account's e-voucher, as its holder's phone would show it. */
export async function issueVoucher(
  db: Knex,
  accountId: number,
  clock: Clock
): Promise<{ code: string; expiresAt: string }> {
  const code = `EV${randomBytes(10).toString('hex').toUpperCase()}`
  const now = clock.now()
  const expiresAt = new Date(now.getTime() + VOUCHER_TTL_MS).toISOString()
  await db('vouchers').insert({
    code,
    account_id: accountId,
    issued_at: now.toISOString(),
    expires_at: expiresAt
  })
  return { code, expiresAt }
}

/** File keys never change once issued: each is read and parsed once per process. */
const parsedKeys = new Map<string, KeyObject>()

async function privateFileKey(db: Knex, keyId: string): Promise<KeyObject | null> {
  const known = parsedKeys.get(keyId)
  if (known) return known
  const key = await fileKeyById(db, keyId)
  if (!key) return null
  const parsed = createPrivateKey(key.privateKeyPem)
  parsedKeys.set(keyId, parsed)
  return parsed
}

/**
 * What the payer checks of a run of sales read: each account's password verifier and wrong tries,
 * the e-vouchers named, the keyed-sales switch. Read once for the run; the tries counted while it
 * is settled are kept here and written at its end (writePinTries), so a second wrong password in
 * the same upload counts on from the first.
 */
export interface PayerFacts {
  readonly pins: Map<number, PinRow>
  readonly vouchers: ReadonlyMap<string, { readonly account_id: number; readonly expires_at: string }>
  readonly keyedRefused: boolean
  /** Accounts whose tries changed in this run; `created` when the account had no verifier row. */
  readonly changedPins: Map<number, { readonly created: boolean }>
}

/** What the payer checks read, as rows (read together with the run's other facts). */
export interface PayerFactRows extends Record<string, readonly unknown[]> {
  readonly pins: readonly PinRow[]
  readonly vouchers: ReadonlyArray<{ code: string; account_id: number; expires_at: string }>
  readonly keyedPolicy: ReadonlyArray<{ value: string }>
}

/** The queries of PayerFactRows for these sales, whose accounts (locked already) are `accountIds`. */
export function payerFactQueries(
  trx: Knex.Transaction,
  sales: readonly SaleItem[],
  accountIds: readonly number[]
): { readonly [Name in keyof PayerFactRows]: ReadQuery } {
  const voucherCodes = sales.flatMap((sale) =>
    sale.payment?.method === 'voucher' ? [sale.payment.voucherCode] : []
  )
  const anyKeyed = sales.some((sale) => sale.payment?.method !== 'voucher' && sale.payment?.entry === 'keyed')
  return {
    pins:
      accountIds.length > 0
        ? trx('card_pins')
            .whereIn('account_id', accountIds)
            .select('account_id', 'verifier', 'failed_tries', 'locked_at')
        : null,
    vouchers:
      voucherCodes.length > 0
        ? trx('vouchers').whereIn('code', voucherCodes).select('code', 'account_id', 'expires_at')
        : null,
    keyedPolicy: anyKeyed ? trx('hub_policy').where({ key: 'keyed_sales' }).select('value') : null
  }
}

export function payerFactsFrom(rows: PayerFactRows): PayerFacts {
  return {
    // Copies: the run counts wrong tries on them.
    pins: new Map(rows.pins.map((row) => [row.account_id, { ...row }])),
    vouchers: new Map(rows.vouchers.map((row) => [row.code, row])),
    keyedRefused: rows.keyedPolicy.some((row) => row.value === 'refuse'),
    changedPins: new Map()
  }
}

export async function checkPayer(
  trx: Knex.Transaction,
  facts: PayerFacts,
  item: SaleItem,
  accountId: number,
  settledAt: string
): Promise<PayerCheck> {
  const proof = item.payment
  if (!proof) return refuse('PAYER_UNVERIFIED', '交易没有持卡人密码或医保电子凭证确认，中心不予结算，未扣款')
  if (proof.method === 'voucher') {
    const voucher = facts.vouchers.get(proof.voucherCode)
    if (!voucher || voucher.account_id !== accountId)
      return refuse('VOUCHER_INVALID', '医保电子凭证与付款账户不符，未扣款')
    if (voucher.expires_at <= settledAt)
      return refuse('VOUCHER_INVALID', '医保电子凭证已过期：请让参保人刷新凭证后重试，未扣款')
    return { ok: true }
  }
  if (proof.entry === 'keyed') {
    if (facts.keyedRefused)
      return refuse('KEYED_REFUSED', '中心不受理手工输入卡号的交易：请使用读卡器刷卡，未扣款')
    if (!proof.keyedApprovedBy)
      return refuse('PAYER_UNVERIFIED', '手工输入卡号的交易没有主管批准，中心不予结算，未扣款')
  }
  const key = await privateFileKey(trx, proof.pinBlock.keyId)
  const pin = key ? openPinBlock(proof.pinBlock, item.saleId, key) : null
  if (pin === null)
    return refuse('PAYER_UNVERIFIED', '密码数据无法解开，或不属于这笔交易：中心不予结算，未扣款')

  const row = facts.pins.get(accountId)
  if (row?.locked_at) return refuse('PIN_LOCKED', '社保卡密码已锁定：请持卡到医保经办机构重置密码，未扣款')
  const correct = row ? await verifyPin(pin, row.verifier) : pin === INITIAL_PIN
  if (correct) {
    if (row && row.failed_tries > 0) {
      row.failed_tries = 0
      facts.changedPins.set(accountId, facts.changedPins.get(accountId) ?? { created: false })
    }
    return { ok: true }
  }
  const tries = (row?.failed_tries ?? 0) + 1
  const locked = tries >= MAX_PIN_TRIES
  if (row) {
    row.failed_tries = tries
    row.locked_at = locked ? settledAt : null
    facts.changedPins.set(accountId, facts.changedPins.get(accountId) ?? { created: false })
  } else {
    facts.pins.set(accountId, {
      account_id: accountId,
      verifier: await hashPin(INITIAL_PIN),
      failed_tries: tries,
      locked_at: locked ? settledAt : null
    })
    facts.changedPins.set(accountId, { created: true })
  }
  return locked
    ? refuse(
        'PIN_LOCKED',
        `社保卡密码连续错误 ${MAX_PIN_TRIES} 次，已锁定：请持卡到医保经办机构重置密码，未扣款`
      )
    : refuse('WRONG_PIN', `社保卡密码错误，还可尝试 ${MAX_PIN_TRIES - tries} 次，未扣款`)
}

/** The wrong tries counted in the run, as they stand at its end. */
export async function writePinTries(
  trx: Knex.Transaction,
  facts: PayerFacts,
  settledAt: string
): Promise<void> {
  for (const [accountId, { created }] of facts.changedPins) {
    const row = facts.pins.get(accountId)
    if (!row) continue
    if (created)
      await trx('card_pins').insert({
        account_id: accountId,
        verifier: row.verifier,
        failed_tries: row.failed_tries,
        locked_at: row.locked_at,
        updated_at: settledAt
      })
    else
      await trx('card_pins')
        .where({ account_id: accountId })
        .update({ failed_tries: row.failed_tries, locked_at: row.locked_at })
  }
}
