import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  accountLineSchema,
  removedLineSchema,
  snapshotEndSchema,
  snapshotHeaderSchema
} from '../../../core/sync/protocol'
import { snapshotText, syntheticAccounts, syntheticIdNumber } from '../../../fixtures/snapshot-writer'
import { parseResidentId } from '../../../core/identifiers'

describe('the test snapshot writer', () => {
  it('writes what the protocol says: header first, lines the schemas accept, the end line with count and digest', () => {
    const text = snapshotText(
      {
        snapshotVersion: 5,
        full: false,
        baseVersion: 4,
        regionCodes: ['330800'],
        balancesAsOf: '2026-11-22T00:00:00.000Z'
      },
      [...syntheticAccounts(0, 5, ['330800']), { removed: 'AC0000000099' }]
    )
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.slice(0, -1).split('\n')
    expect(snapshotHeaderSchema.parse(JSON.parse(lines[0]))).toMatchObject({
      snapshotVersion: 5,
      full: false,
      baseVersion: 4
    })
    for (const line of lines.slice(1, 6)) accountLineSchema.parse(JSON.parse(line))
    removedLineSchema.parse(JSON.parse(lines[6]))
    const end = snapshotEndSchema.parse(JSON.parse(lines[7]))
    const before = text.slice(0, text.length - lines[7].length - 1)
    expect(end).toEqual({
      type: 'end',
      count: 6,
      sha256: createHash('sha256').update(before, 'utf8').digest('hex')
    })
  })

  it('makes ID numbers that are valid and distinct for holders and their family', () => {
    const seen = new Set<string>()
    for (const i of [0, 1, 999, 1000, 123_456, 999_999, 9_999_999]) {
      for (const person of [0, 1, 2] as const) {
        const id = syntheticIdNumber(i, person)
        expect(parseResidentId(id, '2026-11-22').ok, id).toBe(true)
        expect(seen.has(id)).toBe(false)
        seen.add(id)
      }
    }
  })
})
