import { openJson, sealJson, type PersonalDataCipher } from './personal-data'

/**
 * The sealed records in the tables, one definition for whoever writes them (seed, snapshot
 * import, sale) and the repositories that read them. Short keys keep a million rows small; the
 * format is version 1 of the sealed envelope, as migration 0004 wrote it.
 */

/** accounts.pii */
export interface AccountPii {
  readonly cardNumber: string
  readonly idNumber: string
  readonly name: string
}

/** family_members.pii, sale_lines.insured_pii */
export interface PersonPii {
  readonly idNumber: string
  readonly name: string
}

interface AccountPiiV1 {
  c: string
  i: string
  n: string
}

interface PersonPiiV1 {
  i: string
  n: string
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null

const isAccountPii = (value: unknown): value is AccountPiiV1 =>
  isRecord(value) && typeof value.c === 'string' && typeof value.i === 'string' && typeof value.n === 'string'

const isPersonPii = (value: unknown): value is PersonPiiV1 =>
  isRecord(value) && typeof value.i === 'string' && typeof value.n === 'string'

/** The columns `card_hash`, `id_hash`, `pii` of an account row. */
export function sealAccount(
  cipher: PersonalDataCipher,
  account: AccountPii
): { card_hash: Buffer; id_hash: Buffer; pii: Buffer } {
  return {
    card_hash: cipher.lookupHash(account.cardNumber),
    id_hash: cipher.lookupHash(account.idNumber),
    pii: sealJson(cipher, {
      c: account.cardNumber,
      i: account.idNumber,
      n: account.name
    } satisfies AccountPiiV1)
  }
}

export function openAccount(cipher: PersonalDataCipher, sealed: Buffer): AccountPii {
  const { c, i, n } = openJson(cipher, sealed, isAccountPii)
  return { cardNumber: c, idNumber: i, name: n }
}

/** The columns `id_hash`, `pii` of a family member (a sale line names them `insured_id_hash`, `insured_pii`). */
export function sealPerson(cipher: PersonalDataCipher, person: PersonPii): { id_hash: Buffer; pii: Buffer } {
  return {
    id_hash: cipher.lookupHash(person.idNumber),
    pii: sealJson(cipher, { i: person.idNumber, n: person.name } satisfies PersonPiiV1)
  }
}

export function openPerson(cipher: PersonalDataCipher, sealed: Buffer): PersonPii {
  const { i, n } = openJson(cipher, sealed, isPersonPii)
  return { idNumber: i, name: n }
}
