import type { Knex } from 'knex'
import type { RecordHeadsRequest, RecordHeadsResponse } from '../../core/sync/protocol'
import type { RecordsCheckView } from '../../core/supervision'
import type { Clock } from '../../core/time'
import type { PersonalDataCipher } from '../../db/personal-data'
import { appendAudit, chainHead, checkChain, macAt, type ChainName } from '../../db/record-chain'
import type { Logger } from './log'

const CHAINS: readonly ChainName[] = ['audit', 'closes']

/** The tamper check of the audit log and the close reports, and their report to the centre. */
export interface RecordsService {
  /** Walks both chains now; the result is kept for `intact()`. */
  check(): Promise<RecordsCheckView>
  /** Whether the last check found both chains whole and no cut reported (true before any check). */
  intact(): boolean
  /**
   * Sends the chains' heads (with `send`, the sync's authorised call) and checks that this
   * terminal's chains still pass through the heads the centre held before; a cut is written to
   * the audit log (so it is chained too) and shows in every later check.
   */
  reportToCentre(send: (heads: RecordHeadsRequest) => Promise<RecordHeadsResponse>): Promise<void>
}

export function createRecordsService(deps: {
  db: Knex
  cipher: PersonalDataCipher
  clock: Clock
  log: Logger
}): RecordsService {
  let lastIntact = true

  async function cutsFound(): Promise<RecordsCheckView['cutFound']> {
    const rows = await deps
      .db('audit_log')
      .where({ action: 'records_cut_found' })
      .orderBy('id')
      .select<Array<{ at: string; details_json: string | null }>>('at', 'details_json')
    return rows.map((row) => {
      const details = JSON.parse(row.details_json ?? '{}') as {
        chain?: ChainName
        centreLength?: number
        localLength?: number
      }
      return {
        at: row.at,
        chain: details.chain === 'closes' ? 'closes' : 'audit',
        centreLength: details.centreLength ?? 0,
        localLength: details.localLength ?? 0
      }
    })
  }

  async function check(): Promise<RecordsCheckView> {
    const chains = []
    for (const chain of CHAINS) {
      const checked = await checkChain(deps.db, deps.cipher, chain)
      chains.push({
        chain,
        length: checked.length,
        brokenAt: checked.brokenAt && { position: checked.brokenAt.position, at: checked.brokenAt.at }
      })
    }
    const cutFound = await cutsFound()
    const intact = chains.every((chain) => chain.brokenAt === null) && cutFound.length === 0
    if (!intact && lastIntact)
      deps.log.error('records_tampered', {
        broken: chains
          .filter((c) => c.brokenAt)
          .map((c) => c.chain)
          .join(','),
        cuts: cutFound.length
      })
    lastIntact = intact
    return { checkedAt: deps.clock.now().toISOString(), intact, chains, cutFound }
  }

  return {
    check,
    intact: () => lastIntact,
    async reportToCentre(send) {
      const heads = { audit: await chainHead(deps.db, 'audit'), closes: await chainHead(deps.db, 'closes') }
      const before = await send(heads)
      let cut = false
      for (const chain of CHAINS) {
        const held = before[chain]
        if (!held) continue
        if ((await macAt(deps.db, chain, held.length)) === held.head) continue
        cut = true
        // Told once per cut: the centre keeps the longer head, so every later sync would say it again.
        const known = (await cutsFound()).some((c) => c.chain === chain && c.centreLength === held.length)
        if (known) continue
        await deps.db.transaction((trx) =>
          appendAudit(trx, deps.cipher, {
            at: deps.clock.now().toISOString(),
            operatorId: null,
            action: 'records_cut_found',
            subject: chain,
            details: { chain, centreLength: held.length, localLength: heads[chain].length }
          })
        )
      }
      if (cut) await check()
    }
  }
}
