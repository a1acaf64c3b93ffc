/**
 * Request and response headers (Kafka's RequestHeader.json / ResponseHeader.json).
 *
 *   request header v1: api_key int16, api_version int16, correlation_id int32,
 *                      client_id nullable string (int16 length, never compact)
 *   request header v2: v1 + tagged fields; used when the request version is flexible
 *   response header v0: correlation_id int32
 *   response header v1: v0 + tagged fields; used when the response version is flexible,
 *                      EXCEPT ApiVersions, whose response header is always v0 (KIP-511) so a
 *                      client can read it whatever version the broker picked.
 */
import { NAME_BYTES_MAX } from './decode-limits.js'
import type { Reader, TaggedFields } from './reader.js'
import type { Writer } from './writer.js'

export const API_VERSIONS_KEY = 18

export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
  taggedFields?: TaggedFields
}

/**
 * Reads the fixed part every header version shares (enough to route and to answer errors).
 * The client id is a name (decode-limits.ts): member ids are built from it.
 */
export function decodeRequestHeaderPrefix (reader: Reader): RequestHeader {
  const apiKey = reader.int16()
  const apiVersion = reader.int16()
  const correlationId = reader.int32()
  const clientId = reader.nullableString(NAME_BYTES_MAX, 'client id')
  return { apiKey, apiVersion, correlationId, clientId }
}

/**
 * Completes the header: request header v2 carries a tagged-field buffer. The broker reads none
 * of its fields (Kafka defines none it needs), so it is checked and skipped, never built.
 */
export function decodeRequestHeaderTail (reader: Reader, _header: RequestHeader,
  flexible: boolean): void {
  if (flexible) reader.skipTaggedFields()
}

export function encodeRequestHeader (writer: Writer, header: RequestHeader,
  flexible: boolean): void {
  writer.int16(header.apiKey).int16(header.apiVersion).int32(header.correlationId)
  writer.nullableString(header.clientId)
  writer.taggedFieldsIf(flexible, header.taggedFields)
}

export function responseHeaderIsFlexible (apiKey: number, flexible: boolean): boolean {
  return flexible && apiKey !== API_VERSIONS_KEY
}

export function encodeResponseHeader (writer: Writer, apiKey: number, correlationId: number,
  flexible: boolean): void {
  writer.int32(correlationId)
  writer.taggedFieldsIf(responseHeaderIsFlexible(apiKey, flexible))
}

export function decodeResponseHeader (reader: Reader, apiKey: number,
  flexible: boolean): number {
  const correlationId = reader.int32()
  if (responseHeaderIsFlexible(apiKey, flexible)) reader.skipTaggedFields()
  return correlationId
}
