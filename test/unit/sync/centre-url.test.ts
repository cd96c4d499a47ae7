import { describe, expect, it } from 'vitest'
import { centreUrlAllowed } from '../../../core/sync/protocol'

describe('where a terminal may reach its centre', () => {
  it('https anywhere; plain http to this machine only', () => {
    for (const url of [
      'https://yibao.example.gov.cn',
      'https://10.1.2.3:8443/centre',
      'http://127.0.0.1:8790',
      'http://127.8.9.10',
      'http://localhost:8790',
      'http://[::1]:8790'
    ])
      expect(centreUrlAllowed(url), url).toBe(true)
    for (const url of [
      'http://yibao.example.gov.cn',
      'http://10.1.2.3:8790',
      'http://127.0.0.1.evil.example',
      'http://localhost.evil.example',
      'http://127.0.0.1@evil.example',
      'https://',
      'ftp://127.0.0.1',
      'file:///etc/passwd',
      'not a url'
    ])
      expect(centreUrlAllowed(url), url).toBe(false)
  })
})
