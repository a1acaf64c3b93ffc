/**
 * Heartbeat (key 12). Codec versions 0-4, flexible from 4.
 *
 * Version history (Kafka's HeartbeatRequest.json / HeartbeatResponse.json):
 *   v1 adds throttle_time_ms to the response; v2 is v1; v3 adds group_instance_id (KIP-345);
 *   v4 is flexible (KIP-482).
 *
 * Request grammar:
 *   group_id string, generation_id int32, member_id string,
 *   group_instance_id nullable_string (v3+), (tags v4+)
 * Response grammar:
 *   throttle_time_ms int32 (v1+), error_code int16, (tags v4+)
 * Strings are compact from v4.
 */
import { defineApi } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface HeartbeatRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
}

export interface HeartbeatResponse {
  throttleTimeMs: number
  errorCode: number
}

export const Heartbeat = defineApi<HeartbeatRequest, HeartbeatResponse>({
  key: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'generationId', type: 'int32', versions: [0] },
    { name: 'memberId', type: 'string', versions: [0], maxBytes: STRING_BYTES_MAX },
    { name: 'groupInstanceId', type: 'string', versions: [3], nullableFrom: 3, default: null },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
  ],
})
