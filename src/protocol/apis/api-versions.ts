/**
 * ApiVersions (key 18). Versions 0-4; flexible from 3.
 *
 * Version history (Kafka's ApiVersionsRequest.json / ApiVersionsResponse.json):
 *   v1 adds throttle_time_ms to the response; v2 is v1; v3 is flexible and adds
 *   client_software_name/version to the request and supported/finalized features (tagged) to
 *   the response; v4 is v3 (it only lets a client accept a supported feature whose minimum is
 *   0, KAFKA-17011). The response header is always v0 (KIP-511), see headers.ts.
 *
 * Request grammar:
 *   v0-v2: (empty)
 *   v3:    client_software_name compact_string, client_software_version compact_string, tags
 * Response grammar:
 *   error_code int16,
 *   api_keys [api_key int16, min_version int16, max_version int16, (tags v3+)],
 *   throttle_time_ms int32 (v1+),
 *   tagged (v3+): 0 supported_features [name, min_version int16, max_version int16],
 *     1 finalized_features_epoch int64 (default -1),
 *     2 finalized_features [name, max_version_level int16, min_version_level int16],
 *     3 zk_migration_ready bool
 *
 * When a client sends a version we do not implement, the broker answers in the v0 layout with
 * UNSUPPORTED_VERSION (Kafka's RequestContext / ApiVersionsRequest), see the broker handler.
 */
import { defineApi } from '../schema.js'

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
  supportedFeatures?: { name: string, minVersion: number, maxVersion: number }[]
  finalizedFeaturesEpoch?: number
  finalizedFeatures?: { name: string, maxVersionLevel: number, minVersionLevel: number }[]
  zkMigrationReady?: boolean
}

export const ApiVersions = defineApi<ApiVersionsRequest, ApiVersionsResponse>({
  key: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: [
    { name: 'clientSoftwareName', type: 'string', versions: [3], default: null },
    { name: 'clientSoftwareVersion', type: 'string', versions: [3], default: null },
  ],
  response: [
    { name: 'errorCode', type: 'int16', versions: [0] },
    {
      name: 'apiKeys',
      type: [
        { name: 'apiKey', type: 'int16', versions: [0] },
        { name: 'minVersion', type: 'int16', versions: [0] },
        { name: 'maxVersion', type: 'int16', versions: [0] },
      ],
      versions: [0],
    },
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    {
      name: 'supportedFeatures',
      type: [
        { name: 'name', type: 'string', versions: [3] },
        { name: 'minVersion', type: 'int16', versions: [3] },
        { name: 'maxVersion', type: 'int16', versions: [3] },
      ],
      versions: [3],
      tag: 0,
    },
    { name: 'finalizedFeaturesEpoch', type: 'int64', versions: [3], tag: 1, default: -1 },
    {
      name: 'finalizedFeatures',
      type: [
        { name: 'name', type: 'string', versions: [3] },
        { name: 'maxVersionLevel', type: 'int16', versions: [3] },
        { name: 'minVersionLevel', type: 'int16', versions: [3] },
      ],
      versions: [3],
      tag: 2,
    },
    { name: 'zkMigrationReady', type: 'bool', versions: [3], tag: 3 },
  ],
})

/**
 * Kafka's client_software_name/version rule (ApiVersionsRequest.isValid); a v3 request that
 * breaks it gets INVALID_REQUEST, and librdkafka then retries with v0.
 */
export const CLIENT_SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/
