import type { KeyProtector } from '../services/personal-data-key'

/** The part of Electron's safeStorage the key protection uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  getSelectedStorageBackend(): string
  encryptString(plainText: string): Buffer
  decryptString(encrypted: Buffer): string
}

/**
 * safeStorage as the personal-data key's protector, or null where it protects nothing. On Linux
 * without a keyring it reports itself available but encrypts under a password built into
 * Chromium ('basic_text'); the key is then a plain file, and the UI says so, rather than seeming
 * protected. Call after the app is ready.
 */
export function osKeyProtector(storage: SafeStorageLike, platform: NodeJS.Platform): KeyProtector | null {
  if (!storage.isEncryptionAvailable()) return null
  if (platform === 'linux' && storage.getSelectedStorageBackend() === 'basic_text') return null
  return {
    encryptString: (plainText) => storage.encryptString(plainText),
    decryptString: (encrypted) => storage.decryptString(encrypted),
  }
}
