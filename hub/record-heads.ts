import type { Knex } from 'knex'
import type { ChainHead, RecordHeadsRequest, RecordHeadsResponse } from '../core/sync/protocol'
import type { Logger } from '../backend/shared'

type Chain = keyof RecordHeadsRequest

/**
 * Keeps the longest record chain each terminal reported. The centre cannot check a MAC (the key
 * never leaves the terminal); it can see a chain grow shorter, or keep its length under another
 * head, which only removing or rewriting rows does: that is an alarm, and what it held stays.
 */
export async function receiveRecordHeads(
  db: Knex,
  terminalId: string,
  heads: RecordHeadsRequest,
  options: { at: string; log: Logger }
): Promise<RecordHeadsResponse> {
  return db.transaction(async (trx) => {
    const answer: Record<Chain, ChainHead | null> = { audit: null, closes: null }
    for (const chain of ['audit', 'closes'] as const) {
      const reported = heads[chain]
      const held = await trx('record_heads')
        .where({ terminal_id: terminalId, chain })
        .first<{ length: number; head: string } | undefined>('length', 'head')
      answer[chain] = held ? { length: held.length, head: held.head } : null
      const cut =
        held &&
        (reported.length < held.length || (reported.length === held.length && reported.head !== held.head))
      if (held && cut) {
        const alarm = {
          terminal_id: terminalId,
          chain,
          held_length: held.length,
          reported_length: reported.length
        }
        // One alarm per cut, not one per sync that repeats it.
        if (!(await trx('record_alarms').where(alarm).first('id'))) {
          await trx('record_alarms').insert({ ...alarm, at: options.at })
          options.log.error('terminal_records_cut', {
            terminal: terminalId,
            chain,
            held: held.length,
            reported: reported.length
          })
        }
        continue
      }
      await trx('record_heads')
        .insert({
          terminal_id: terminalId,
          chain,
          length: reported.length,
          head: reported.head,
          reported_at: options.at
        })
        .onConflict(['terminal_id', 'chain'])
        .merge()
    }
    return answer
  })
}
