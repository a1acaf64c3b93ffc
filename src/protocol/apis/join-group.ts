/**
 * JoinGroup (key 11). Codec versions 0-9, flexible from 6.
 *
 * Version history (Kafka's JoinGroupRequest.json / JoinGroupResponse.json):
 *   v1 adds rebalance_timeout_ms (KIP-62); v2 adds throttle_time_ms to the response; v3 is v2;
 *   v4 makes a new member retry with the id from MEMBER_ID_REQUIRED (KIP-394); v5 adds
 *   group_instance_id for static members (KIP-345); v6 is flexible (KIP-482); v7 adds
 *   protocol_type to the response and lets protocol_name be null (KIP-559); v8 adds the
 *   request's reason (KIP-800); v9 adds skip_assignment to the response (KIP-814).
 *
 * Request grammar:
 *   group_id string, session_timeout_ms int32, rebalance_timeout_ms int32 (v1+),
 *   member_id string, group_instance_id nullable_string (v5+), protocol_type string,
 *   protocols array[name string, metadata bytes, (tags v6+)],
 *   reason nullable_string (v8+), (tags v6+)
 * Response grammar:
 *   throttle_time_ms int32 (v2+), error_code int16, generation_id int32,
 *   protocol_type nullable_string (v7+), protocol_name string (nullable v7+),
 *   leader string, skip_assignment bool (v9+), member_id string,
 *   members array[member_id string, group_instance_id nullable_string (v5+),
 *   metadata bytes, (tags v6+)], (tags v6+)
 * Strings, bytes and arrays are compact from v6.
 */
import { defineApi } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface JoinGroupRequestProtocol {
  name: string
  metadata: Buffer
}

export interface JoinGroupRequest {
  groupId: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  memberId: string
  groupInstanceId: string | null
  protocolType: string
  protocols: JoinGroupRequestProtocol[]
  /** v8+ (KIP-800). */
  reason?: string | null
}

export interface JoinGroupResponseMember {
  memberId: string
  groupInstanceId: string | null
  metadata: Buffer
}

export interface JoinGroupResponse {
  throttleTimeMs: number
  errorCode: number
  generationId: number
  /** v7+ (KIP-559). */
  protocolType?: string | null
  /** Null allowed from v7. */
  protocolName: string | null
  leader: string
  /** v9+ (KIP-814). */
  skipAssignment?: boolean
  memberId: string
  members: JoinGroupResponseMember[]
}

export const JoinGroup = defineApi<JoinGroupRequest, JoinGroupResponse>({
  key: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'sessionTimeoutMs', type: 'int32', versions: [0] },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: [1], default: -1 },
    { name: 'memberId', type: 'string', versions: [0], maxBytes: STRING_BYTES_MAX },
    { name: 'groupInstanceId', type: 'string', versions: [5], nullableFrom: 5, default: null },
    { name: 'protocolType', type: 'string', versions: [0] },
    {
      name: 'protocols',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        { name: 'metadata', type: 'bytes', versions: [0] },
      ],
      versions: [0],
    },
    { name: 'reason', type: 'string', versions: [8], nullableFrom: 8, default: null,
      maxBytes: STRING_BYTES_MAX },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [2] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'generationId', type: 'int32', versions: [0], default: -1 },
    { name: 'protocolType', type: 'string', versions: [7], nullableFrom: 7, default: null },
    { name: 'protocolName', type: 'string', versions: [0], nullableFrom: 7 },
    { name: 'leader', type: 'string', versions: [0] },
    { name: 'skipAssignment', type: 'bool', versions: [9] },
    { name: 'memberId', type: 'string', versions: [0] },
    {
      name: 'members',
      type: [
        { name: 'memberId', type: 'string', versions: [0] },
        { name: 'groupInstanceId', type: 'string', versions: [5], nullableFrom: 5,
          default: null },
        { name: 'metadata', type: 'bytes', versions: [0] },
      ],
      versions: [0],
    },
  ],
})
