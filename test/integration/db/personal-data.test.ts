import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  createPersonalDataCipher,
  keyFitsCheck,
  PersonalDataError,
  sealKeyCheck
} from '../../../db/personal-data'
import { openAccount, openPerson, sealAccount, sealPerson } from '../../../db/sealed-records'

const ID = '33080219760309011X'

describe('the personal-data cipher', () => {
  it('hashes equal values equally under one key, differently under another, in 16 bytes', () => {
    const one = createPersonalDataCipher(Buffer.alloc(32, 1))
    const again = createPersonalDataCipher(Buffer.alloc(32, 1))
    const other = createPersonalDataCipher(Buffer.alloc(32, 2))
    expect(one.lookupHash(ID)).toHaveLength(16)
    expect(one.lookupHash(ID).equals(again.lookupHash(ID))).toBe(true)
    expect(one.lookupHash(ID).equals(other.lookupHash(ID))).toBe(false)
    expect(one.lookupHash(ID).equals(one.lookupHash('330802197603090110'))).toBe(false)
  })

  it('seals as version | 12-byte IV | 16-byte tag | ciphertext, never the same bytes twice, and opens it again', () => {
    const cipher = createPersonalDataCipher(randomBytes(32))
    const first = cipher.seal('张建国')
    const second = cipher.seal('张建国')
    expect(first[0]).toBe(1)
    expect(first).toHaveLength(1 + 12 + 16 + Buffer.byteLength('张建国'))
    expect(first.subarray(1, 13).equals(second.subarray(1, 13))).toBe(false)
    expect(first.includes(Buffer.from('张建国'))).toBe(false)
    expect(cipher.open(first)).toBe('张建国')
    expect(cipher.open(second)).toBe('张建国')
    expect(cipher.open(cipher.seal(''))).toBe('')
  })

  it('hashes under a derived subkey, not under the terminal key itself', () => {
    const key = Buffer.alloc(32, 3)
    const straight = createHmac('sha256', key).update(ID).digest().subarray(0, 16)
    expect(createPersonalDataCipher(key).lookupHash(ID).equals(straight)).toBe(false)
  })

  it('refuses a wrong key, a changed byte, a cut record and an unknown version with PersonalDataError', () => {
    const cipher = createPersonalDataCipher(randomBytes(32))
    const sealed = cipher.seal(ID)
    expect(() => createPersonalDataCipher(randomBytes(32)).open(sealed)).toThrow(PersonalDataError)
    for (const index of [13, 20, sealed.length - 1]) {
      const tampered = Buffer.from(sealed)
      tampered[index] ^= 1
      expect(() => cipher.open(tampered), `byte ${index}`).toThrow(PersonalDataError)
    }
    expect(() => cipher.open(sealed.subarray(0, 20))).toThrow(PersonalDataError)
    const future = Buffer.from(sealed)
    future[0] = 2
    expect(() => cipher.open(future)).toThrow(PersonalDataError)
    expect(() => cipher.open(sealed.subarray(0, 20))).toThrow(/密钥与数据库不符/)
  })

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createPersonalDataCipher(randomBytes(16))).toThrow(/32 bytes/)
  })

  it('proves with the check value whether a key fits', () => {
    const cipher = createPersonalDataCipher(Buffer.alloc(32, 4))
    const check = sealKeyCheck(cipher)
    expect(keyFitsCheck(createPersonalDataCipher(Buffer.alloc(32, 4)), check)).toBe(true)
    expect(keyFitsCheck(createPersonalDataCipher(Buffer.alloc(32, 5)), check)).toBe(false)
    expect(keyFitsCheck(cipher, 'not base64 of anything')).toBe(false)
  })

  it('seals the records of the tables and opens them again', () => {
    const cipher = createPersonalDataCipher(randomBytes(32))
    const account = sealAccount(cipher, { cardNumber: 'C33080001', idNumber: ID, name: '徐卫东' })
    expect(account.card_hash.equals(cipher.lookupHash('C33080001'))).toBe(true)
    expect(account.id_hash.equals(cipher.lookupHash(ID))).toBe(true)
    expect(openAccount(cipher, account.pii)).toEqual({
      cardNumber: 'C33080001',
      idNumber: ID,
      name: '徐卫东'
    })
    const person = sealPerson(cipher, { idNumber: ID, name: '周慧' })
    expect(openPerson(cipher, person.pii)).toEqual({ idNumber: ID, name: '周慧' })
    // A sealed person is not an account record, nor the other way round.
    expect(() => openAccount(cipher, person.pii)).toThrow(PersonalDataError)
    expect(() => openPerson(cipher, cipher.seal('not json'))).toThrow(PersonalDataError)
  })
  // How long a seal and two hashes take per account: npm run bench:lookup.
})
