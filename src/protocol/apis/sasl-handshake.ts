/**
 * SaslHandshake (key 17). Versions 0-1; never flexible (SaslHandshakeRequest.json /
 * SaslHandshakeResponse.json). Both versions share one layout; the version only changes what
 * follows on the connection: after v0 the client sends raw `int32 length + token` frames with
 * no Kafka header (kafka-python 2.0.2), after v1 it wraps tokens in SaslAuthenticate requests
 * (KIP-152). Not advertised yet: the broker has no SASL listener.
 *
 * Request grammar:  mechanism string
 * Response grammar: error_code int16, mechanisms [string]
 */
import { defineApi } from '../schema.js'

export interface SaslHandshakeRequest {
  /** The SASL mechanism chosen by the client, e.g. PLAIN or SCRAM-SHA-256. */
  mechanism: string
}

export interface SaslHandshakeResponse {
  errorCode: number
  /** The mechanisms the broker enables (answered with UNSUPPORTED_SASL_MECHANISM too). */
  mechanisms: string[]
}

export const SaslHandshake = defineApi<SaslHandshakeRequest, SaslHandshakeResponse>({
  key: 17,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: Infinity,
  request: [
    { name: 'mechanism', type: 'string', versions: [0] },
  ],
  response: [
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'mechanisms', type: { items: 'string' }, versions: [0] },
  ],
})
