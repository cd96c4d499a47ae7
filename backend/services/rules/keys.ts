/**
 * The centre's public keys a terminal trusts, by key id: a bundle or signed centre file under any
 * other key is refused. Which keys a data folder trusts is decided in trust.ts: the installation's
 * own keys, and this DEMO key (its private half is in bundles/keys/ for anyone to read) only in a
 * data folder created as a demo.
 */
export type TrustedKeys = Readonly<Record<string, string>>

export const DEMO_KEY_ID = 'DEMO-centre-NOT-FOR-PRODUCTION'

export const DEMO_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAKDLyDBMgNjRZpfX8L5jY69QWjiaTeGiSPlHl3b/mCuo=
-----END PUBLIC KEY-----
`

/** What a demo data folder trusts (and the reference centre, which signs with the demo key). */
export const DEMO_TRUSTED_KEYS: TrustedKeys = { [DEMO_KEY_ID]: DEMO_PUBLIC_KEY_PEM }
