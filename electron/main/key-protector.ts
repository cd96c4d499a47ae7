import type { KeyProtector } from '../services/personal-data-key'

/** The part of Electron's safeStorage the key protection uses: the asynchronous API (the synchronous one is deprecated in Electron 45 and gone in 46). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>
  getSelectedStorageBackend(): string
  encryptStringAsync(plainText: string): Promise<Buffer>
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>
}

/**
 * safeStorage as the personal-data key's protector, or null where it protects nothing. On Linux
 * without a keyring it reports itself available but encrypts under a password built into
 * Chromium ('basic_text'); the key is then a plain file, and the UI says so, rather than seeming
 * protected. Call after the app is ready. Keys wrapped by the synchronous API open with the
 * asynchronous one.
 */
export async function osKeyProtector(storage: SafeStorageLike, platform: NodeJS.Platform): Promise<KeyProtector | null> {
  if (!(await storage.isAsyncEncryptionAvailable())) return null
  if (platform === 'linux' && storage.getSelectedStorageBackend() === 'basic_text') return null
  return {
    encrypt: (plainText) => storage.encryptStringAsync(plainText),
    decrypt: async (encrypted) => {
      const { result, shouldReEncrypt } = await storage.decryptStringAsync(encrypted)
      return { text: result, stale: shouldReEncrypt }
    },
  }
}
