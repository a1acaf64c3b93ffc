/**
 * ApiVersions (key 18). Versions 0-3; flexible from 3.
 *
 * Version history (Kafka's ApiVersionsRequest.json / ApiVersionsResponse.json):
 *   v1 adds throttle_time_ms to the response; v2 is v1; v3 is flexible and adds
 *   client_software_name/version to the request and supported/finalized features (tagged) to
 *   the response. The response header is always v0 (KIP-511), see headers.ts.
 *
 * Request grammar:
 *   v0-v2: (empty)
 *   v3:    client_software_name compact_string, client_software_version compact_string, tags
 * Response grammar:
 *   error_code int16,
 *   api_keys [api_key int16, min_version int16, max_version int16, (tags v3+)],
 *   throttle_time_ms int32 (v1+), (tags v3+)
 *
 * When a client sends a version we do not implement, the broker answers in the v0 layout with
 * UNSUPPORTED_VERSION (Kafka's RequestContext / ApiVersionsRequest), see the broker handler.
 */
import { isFlexible, type ApiDefinition } from '../api.js'
import type { Reader } from '../reader.js'
import type { Writer } from '../writer.js'

export interface ApiVersionsRequest {
  clientSoftwareName: string | null
  clientSoftwareVersion: string | null
}

export interface ApiVersionRange {
  apiKey: number
  minVersion: number
  maxVersion: number
}

export interface ApiVersionsResponse {
  errorCode: number
  apiKeys: ApiVersionRange[]
  throttleTimeMs: number
}

export const ApiVersions: ApiDefinition<ApiVersionsRequest, ApiVersionsResponse> = {
  key: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,

  decodeRequest (reader: Reader, version: number): ApiVersionsRequest {
    if (!isFlexible(this, version)) return { clientSoftwareName: null, clientSoftwareVersion: null }
    const clientSoftwareName = reader.compactString()
    const clientSoftwareVersion = reader.compactString()
    reader.taggedFields()
    return { clientSoftwareName, clientSoftwareVersion }
  },

  encodeRequest (writer: Writer, version: number, request: ApiVersionsRequest): void {
    if (!isFlexible(this, version)) return
    writer.compactNullableString(request.clientSoftwareName ?? '')
    writer.compactNullableString(request.clientSoftwareVersion ?? '')
    writer.taggedFields()
  },

  decodeResponse (reader: Reader, version: number): ApiVersionsResponse {
    const flexible = isFlexible(this, version)
    const errorCode = reader.int16()
    const apiKeys = reader.arrayOf(flexible, r => {
      const range = { apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() }
      r.taggedFieldsIf(flexible)
      return range
    }, 6)
    const throttleTimeMs = version >= 1 ? reader.int32() : 0
    reader.taggedFieldsIf(flexible)
    return { errorCode, apiKeys, throttleTimeMs }
  },

  encodeResponse (writer: Writer, version: number, response: ApiVersionsResponse): void {
    const flexible = isFlexible(this, version)
    writer.int16(response.errorCode)
    writer.arrayOf(flexible, response.apiKeys, (w, range) => {
      w.int16(range.apiKey).int16(range.minVersion).int16(range.maxVersion)
      w.taggedFieldsIf(flexible)
    })
    if (version >= 1) writer.int32(response.throttleTimeMs)
    writer.taggedFieldsIf(flexible)
  },
}

/**
 * Kafka's client_software_name/version rule (ApiVersionsRequest.isValid); a v3 request that
 * breaks it gets INVALID_REQUEST, and librdkafka then retries with v0.
 */
export const CLIENT_SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/
