import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto'
import type { Knex } from 'knex'
import type { RejectionCode, SaleItem } from '../core/sync/protocol'
import type { Clock } from '../core/time'
import { hashPin, openPinBlock, verifyPin } from '../backend/shared'
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

export async function checkPayer(
  trx: Knex.Transaction,
  item: SaleItem,
  accountId: number,
  settledAt: string
): Promise<PayerCheck> {
  const proof = item.payment
  if (!proof) return refuse('PAYER_UNVERIFIED', '交易没有持卡人密码或医保电子凭证确认，中心不予结算，未扣款')
  if (proof.method === 'voucher') {
    const voucher = await trx('vouchers')
      .where({ code: proof.voucherCode })
      .first<{ account_id: number; expires_at: string } | undefined>()
    if (!voucher || voucher.account_id !== accountId)
      return refuse('VOUCHER_INVALID', '医保电子凭证与付款账户不符，未扣款')
    if (voucher.expires_at <= settledAt)
      return refuse('VOUCHER_INVALID', '医保电子凭证已过期：请让参保人刷新凭证后重试，未扣款')
    return { ok: true }
  }
  if (proof.entry === 'keyed') {
    if (await keyedSalesRefused(trx))
      return refuse('KEYED_REFUSED', '中心不受理手工输入卡号的交易：请使用读卡器刷卡，未扣款')
    if (!proof.keyedApprovedBy)
      return refuse('PAYER_UNVERIFIED', '手工输入卡号的交易没有主管批准，中心不予结算，未扣款')
  }
  const key = await privateFileKey(trx, proof.pinBlock.keyId)
  const pin = key ? openPinBlock(proof.pinBlock, item.saleId, key) : null
  if (pin === null)
    return refuse('PAYER_UNVERIFIED', '密码数据无法解开，或不属于这笔交易：中心不予结算，未扣款')

  const row = await trx('card_pins').where({ account_id: accountId }).first<PinRow | undefined>()
  if (row?.locked_at) return refuse('PIN_LOCKED', '社保卡密码已锁定：请持卡到医保经办机构重置密码，未扣款')
  const correct = row ? await verifyPin(pin, row.verifier) : pin === INITIAL_PIN
  if (correct) {
    if (row && row.failed_tries > 0)
      await trx('card_pins').where({ account_id: accountId }).update({ failed_tries: 0 })
    return { ok: true }
  }
  const tries = (row?.failed_tries ?? 0) + 1
  const locked = tries >= MAX_PIN_TRIES
  if (row) {
    await trx('card_pins')
      .where({ account_id: accountId })
      .update({ failed_tries: tries, locked_at: locked ? settledAt : null })
  } else {
    await trx('card_pins').insert({
      account_id: accountId,
      verifier: await hashPin(INITIAL_PIN),
      failed_tries: tries,
      locked_at: locked ? settledAt : null,
      updated_at: settledAt
    })
  }
  return locked
    ? refuse(
        'PIN_LOCKED',
        `社保卡密码连续错误 ${MAX_PIN_TRIES} 次，已锁定：请持卡到医保经办机构重置密码，未扣款`
      )
    : refuse('WRONG_PIN', `社保卡密码错误，还可尝试 ${MAX_PIN_TRIES - tries} 次，未扣款`)
}
