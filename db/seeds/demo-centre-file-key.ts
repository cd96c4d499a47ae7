/**
 * The demo centre's file key (bundles/keys/DEMO-file-key-NOT-FOR-PRODUCTION.*): what a demo terminal
 * that has not registered yet seals card passwords to, so the reference centre (which starts with
 * this key) opens them once the terminal registers and uploads. A registered terminal uses the key
 * its centre sent, signed. Its private half is in the repository: demo only.
 */
export const DEMO_CENTRE_FILE_KEY = {
  keyId: 'DEMO-file-key-NOT-FOR-PRODUCTION',
  publicKeyPem: `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VuAyEAA/FcfsY/sgbUyaETKw81e5PQhb+ASYY3Q5hkDUXXPyk=
-----END PUBLIC KEY-----
`
} as const
