/**
 * The centre's public keys this terminal trusts, by key id. A bundle signed with any other key is
 * refused. The only key here is the DEMO key (its private half is in bundles/keys/ for anyone to
 * read): a production build must replace this map with the centre's real public keys.
 */
export type TrustedKeys = Readonly<Record<string, string>>

export const DEMO_KEY_ID = 'DEMO-centre-NOT-FOR-PRODUCTION'

export const TRUSTED_CENTRE_KEYS: TrustedKeys = {
  [DEMO_KEY_ID]: `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAKDLyDBMgNjRZpfX8L5jY69QWjiaTeGiSPlHl3b/mCuo=
-----END PUBLIC KEY-----
`
}
