/**
 * FindCoordinator (key 10). Versions 0-6, flexible from 3.
 *
 * Version history (Kafka's FindCoordinatorRequest.json / FindCoordinatorResponse.json):
 *   v1 adds key_type (0 group, 1 transaction; KIP-98) to the request and throttle_time_ms and
 *   error_message to the response; v2 is v1 (KIP-219 throttling); v3 is flexible (KIP-482);
 *   v4 looks up several keys at once (KIP-699): coordinator_keys replaces key, and the response
 *   carries one coordinators entry per key instead of the top-level fields; v5 is v4 (it may
 *   answer TRANSACTION_ABORTABLE, KIP-890); v6 allows key_type 2, share groups (KIP-932).
 *
 * Request grammar:
 *   v0:    key string
 *   v1-v2: key string, key_type int8
 *   v3:    key compact_string, key_type int8, tags
 *   v4-v6: key_type int8, coordinator_keys compact_array[compact_string], tags
 * Response grammar:
 *   v0:    error_code int16, node_id int32, host string, port int32
 *   v1-v3: throttle_time_ms int32, error_code int16, error_message nullable_string,
 *          node_id int32, host string, port int32, (tags v3)
 *   v4-v6: throttle_time_ms int32, coordinators compact_array[key compact_string,
 *          node_id int32, host compact_string, port int32, error_code int16,
 *          error_message compact_nullable_string, tags], tags
 */
import { defineApi } from '../schema.js'

export interface FindCoordinatorRequest {
  /** v0-v3: the group id or transactional id. */
  key: string
  /** 0 = group, 1 = transaction (v1+). */
  keyType: number
  /** v4+: the batched form. */
  coordinatorKeys?: string[]
}

export interface Coordinator {
  key: string
  nodeId: number
  host: string
  port: number
  errorCode: number
  errorMessage: string | null
}

export interface FindCoordinatorResponse {
  throttleTimeMs: number
  /** v0-v3 top-level result. */
  errorCode: number
  errorMessage: string | null
  nodeId: number
  host: string
  port: number
  /** v4+: one result per requested key. */
  coordinators?: Coordinator[]
}

export const FindCoordinator = defineApi<FindCoordinatorRequest, FindCoordinatorResponse>({
  key: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 3,
  request: [
    { name: 'key', type: 'string', versions: [0, 3] },
    { name: 'keyType', type: 'int8', versions: [1] },
    { name: 'coordinatorKeys', type: { items: 'string' }, versions: [4] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0, 3] },
    { name: 'errorMessage', type: 'string', versions: [1, 3], nullableFrom: 1, default: null },
    { name: 'nodeId', type: 'int32', versions: [0, 3] },
    { name: 'host', type: 'string', versions: [0, 3] },
    { name: 'port', type: 'int32', versions: [0, 3] },
    {
      name: 'coordinators',
      type: [
        { name: 'key', type: 'string', versions: [4] },
        { name: 'nodeId', type: 'int32', versions: [4] },
        { name: 'host', type: 'string', versions: [4] },
        { name: 'port', type: 'int32', versions: [4] },
        { name: 'errorCode', type: 'int16', versions: [4] },
        { name: 'errorMessage', type: 'string', versions: [4], nullableFrom: 4, default: null },
      ],
      versions: [4],
    },
  ],
  // Kafka's FindCoordinatorRequest.getErrorResponse: the top-level error up to v3, the
  // error for every key from v4.
  errorEcho: { coordinators: { from: 'coordinatorKeys', each: 'key' } },
})
