/**
 * What the reference centre (hub/) may use of the terminal's backend, and nothing else (lint holds
 * the line): the rule-bundle signature format and its verification, the queue file's encryption,
 * the logger, and the Excel writer reports share (the centre's insurer statements). Both sides must agree on these byte for byte; the rest of the backend is the
 * terminal's own.
 */
export { silentLogger, stderrLogger, type Logger } from './services/log'
export { signPayload } from './services/rules/envelope'
export { DEMO_KEY_ID, DEMO_TRUSTED_KEYS, type TrustedKeys } from './services/rules/keys'
export { verifyBundle } from './services/rules/load'
export {
  decryptQueueFile,
  isX25519PublicKey,
  packageEncryptor,
  parseEncryptedQueueFile,
  QueueFileUnreadable
} from './services/sync/files/file-crypto'
export { openPinBlock, sealPinBlock } from './services/payment/pin-block'
export { hashPin, verifyPin } from './services/pin-hash'
export { workbookOf, type WorkbookLayout } from './services/report-workbook'
