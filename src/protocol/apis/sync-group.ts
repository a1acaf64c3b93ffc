/**
 * SyncGroup (key 14). Codec versions 0-5, flexible from 4.
 *
 * Version history (Kafka's SyncGroupRequest.json / SyncGroupResponse.json):
 *   v1 adds throttle_time_ms to the response; v2 is v1; v3 adds group_instance_id (KIP-345);
 *   v4 is flexible (KIP-482); v5 adds protocol_type and protocol_name to both directions so
 *   the coordinator can check them and the client need not remember them (KIP-559).
 *
 * Request grammar:
 *   group_id string, generation_id int32, member_id string,
 *   group_instance_id nullable_string (v3+), protocol_type nullable_string (v5+),
 *   protocol_name nullable_string (v5+),
 *   assignments array[member_id string, assignment bytes, (tags v4+)], (tags v4+)
 * Response grammar:
 *   throttle_time_ms int32 (v1+), error_code int16, protocol_type nullable_string (v5+),
 *   protocol_name nullable_string (v5+), assignment bytes, (tags v4+)
 * Strings, bytes and arrays are compact from v4.
 */
import { defineApi } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface SyncGroupRequestAssignment {
  memberId: string
  assignment: Buffer
}

export interface SyncGroupRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
  /** v5+ (KIP-559). */
  protocolType?: string | null
  protocolName?: string | null
  assignments: SyncGroupRequestAssignment[]
}

export interface SyncGroupResponse {
  throttleTimeMs: number
  errorCode: number
  /** v5+ (KIP-559). */
  protocolType?: string | null
  protocolName?: string | null
  assignment: Buffer
}

export const SyncGroup = defineApi<SyncGroupRequest, SyncGroupResponse>({
  key: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'generationId', type: 'int32', versions: [0] },
    { name: 'memberId', type: 'string', versions: [0], maxBytes: STRING_BYTES_MAX },
    { name: 'groupInstanceId', type: 'string', versions: [3], nullableFrom: 3, default: null },
    { name: 'protocolType', type: 'string', versions: [5], nullableFrom: 5, default: null },
    { name: 'protocolName', type: 'string', versions: [5], nullableFrom: 5, default: null },
    {
      name: 'assignments',
      type: [
        { name: 'memberId', type: 'string', versions: [0], maxBytes: STRING_BYTES_MAX },
        { name: 'assignment', type: 'bytes', versions: [0] },
      ],
      versions: [0],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'protocolType', type: 'string', versions: [5], nullableFrom: 5, default: null },
    { name: 'protocolName', type: 'string', versions: [5], nullableFrom: 5, default: null },
    { name: 'assignment', type: 'bytes', versions: [0] },
  ],
})
