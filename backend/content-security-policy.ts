/**
 * The renderer's Content Security Policy: scripts only from the app itself, no eval, no plug-ins,
 * fetch only to the app's own origin. Element Plus positions popups with inline styles, hence
 * 'unsafe-inline' for styles only. renderer/index.html carries the same text in a meta tag
 * (a test keeps the two equal); the HTTP header adds frame-ancestors, which a meta tag cannot.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "media-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'"
].join('; ')

export const CONTENT_SECURITY_POLICY_HEADER = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`
