import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { AppError } from '../../../core/errors'
import type { Logger } from '../../../core/log'
import type { SyncStateRepository } from '../../../db/repositories/sync-state'
import type { TrustedKeys } from '../rules/keys'
import { CentreCallError } from './centre-client'
import type { CentreConnection } from './connection'
import { readCentreFileKey } from './files/signed-file'
import { publicKeyPemOf } from '../rules/envelope'
import { newTerminalFileKey, terminalFileKeyId } from './files/file-crypto'

/**
 * The terminal's standing with the centre (docs/sync-protocol.md, "Registration"): registered with
 * an enrolment code, an Ed25519 key pair of its own (the private half sealed), the refresh secret
 * (sealed), the regions it serves and the centre's file-encryption key, checked before it is kept.
 */
export interface Registration {
  register(request: { centreUrl: string; enrolmentCode: string; territory: string }): Promise<void>
  /** The terminal's signing key (PEM), made at registration; null before. */
  signingKeyPem(): Promise<string | null>
  /** The centre's file-encryption key (X25519, checked), from registration or the next sync; null until then. */
  centreFileKey(): Promise<{ keyId: string; publicKeyPem: string } | null>
  /** The terminal's own file key (X25519 private PEM) that packages are encrypted to; null before registration. */
  filePrivateKeyPem(): Promise<string | null>
  /**
   * For a terminal registered before it sent a file key at registration: makes one (once) and
   * gives the centre its public half. Does nothing once the centre has it.
   */
  sendFileKey(send: (filePublicKeyPem: string) => Promise<void>): Promise<void>
}

export interface RegistrationDeps {
  readonly state: SyncStateRepository
  readonly connection: CentreConnection
  readonly trustedKeys: TrustedKeys
  readonly log: Logger
  readonly terminalId: string
  readonly appVersion: string
  /** Seals and opens with the personal-data key: whoever copies the database cannot use what it holds. */
  readonly seal: (text: string) => string
  readonly open: (sealed: string) => string
}

export function createRegistration(deps: RegistrationDeps): Registration {
  const { state, seal, open } = deps
  return {
    async register(request) {
      const centre = deps.connection.clientFor(request.centreUrl)
      const held = await state.read()
      // Made once per terminal: registering again (another centre, a new code) keeps the same key.
      const signingKeySealed =
        held.signingKeySealed ||
        seal(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())
      const publicKeyPem = createPublicKey(open(signingKeySealed))
        .export({ type: 'spki', format: 'pem' })
        .toString()
      const fileKeySealed = held.fileKeySealed || seal(newTerminalFileKey().privateKeyPem)
      const filePublicKeyPem = publicKeyPemOf(open(fileKeySealed))
      let granted
      try {
        granted = await centre.register({
          enrolmentCode: request.enrolmentCode,
          terminalId: deps.terminalId,
          territory: request.territory,
          appVersion: deps.appVersion,
          publicKeyPem,
          filePublicKeyPem
        })
      } catch (error) {
        if (error instanceof CentreCallError) throw new AppError('SYNC_FAILED', `注册失败：${error.message}`)
        throw error
      }
      deps.connection.granted(granted)
      // A centre that does not vouch for its file key properly is still registered with; the key is fetched again on sync.
      let centreFileKey: string | null = null
      if (granted.centreFileKey !== undefined) {
        try {
          readCentreFileKey(granted.centreFileKey, deps.trustedKeys)
          centreFileKey = granted.centreFileKey
        } catch {
          deps.log.error('centre_file_key_refused', {})
        }
      }
      await state.write({
        centreFileKey,
        centreUrl: request.centreUrl,
        regionCodes: granted.regionCodes,
        refreshSecretSealed: seal(granted.refreshSecret),
        signingKeySealed,
        fileKeySealed,
        fileKeySent: terminalFileKeyId(filePublicKeyPem),
        territory: request.territory,
        lastError: null
      })
      await deps.connection.answered()
      deps.log.info('terminal_registered', { regions: granted.regionCodes.length })
    },

    async signingKeyPem() {
      const sealed = (await state.read()).signingKeySealed
      return sealed ? open(sealed) : null
    },

    async centreFileKey() {
      const signed = (await state.read()).centreFileKey
      return signed === null ? null : readCentreFileKey(signed, deps.trustedKeys)
    },

    async filePrivateKeyPem() {
      const sealed = (await state.read()).fileKeySealed
      return sealed ? open(sealed) : null
    },

    async sendFileKey(send) {
      const held = await state.read()
      if (held.refreshSecretSealed === null) return
      const fileKeySealed = held.fileKeySealed || seal(newTerminalFileKey().privateKeyPem)
      // Kept before it is sent: a package the centre makes right after is for a key this terminal holds.
      if (!held.fileKeySealed) await state.write({ fileKeySealed })
      const publicPem = publicKeyPemOf(open(fileKeySealed))
      const keyId = terminalFileKeyId(publicPem)
      if (held.fileKeySent === keyId) return
      await send(publicPem)
      await state.write({ fileKeySent: keyId })
      deps.log.info('terminal_file_key_sent', {})
    }
  }
}
