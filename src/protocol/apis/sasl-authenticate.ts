/**
 * SaslAuthenticate (key 36, KIP-152). Versions 0-2, flexible from 2
 * (SaslAuthenticateRequest.json / SaslAuthenticateResponse.json). v1 adds
 * session_lifetime_ms (KIP-368: the client must re-authenticate before it runs out; 0 means
 * no limit); v2 is flexible. Not advertised yet: the broker has no SASL listener.
 *
 * Request grammar:  auth_bytes bytes, (tags v2+)
 * Response grammar: error_code int16, error_message nullable string, auth_bytes bytes,
 *                   session_lifetime_ms int64 (v1+), (tags v2+)
 */
import { defineApi } from '../schema.js'

export interface SaslAuthenticateRequest {
  /** The SASL token of the mechanism chosen in SaslHandshake (for PLAIN: authzid\0user\0pass). */
  authBytes: Buffer
}

export interface SaslAuthenticateResponse {
  errorCode: number
  errorMessage: string | null
  authBytes: Buffer
  sessionLifetimeMs: number
}

export const SaslAuthenticate = defineApi<SaslAuthenticateRequest, SaslAuthenticateResponse>({
  key: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [
    { name: 'authBytes', type: 'bytes', versions: [0], default: Buffer.alloc(0) },
  ],
  response: [
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0, default: null },
    { name: 'authBytes', type: 'bytes', versions: [0], default: Buffer.alloc(0) },
    { name: 'sessionLifetimeMs', type: 'int64', versions: [1] },
  ],
})
