/**
 * LeaveGroup (key 13). Codec versions 0-5, flexible from 4.
 *
 * Version history (Kafka's LeaveGroupRequest.json / LeaveGroupResponse.json):
 *   v1 adds throttle_time_ms to the response; v2 is v1; v3 replaces member_id with a members
 *   array so several (static) members leave in one request, each with its own error in the
 *   response (KIP-345); v4 is flexible (KIP-482); v5 adds a reason per member (KIP-800).
 *
 * Request grammar:
 *   v0-v2: group_id string, member_id string
 *   v3+:   group_id string, members array[member_id string,
 *          group_instance_id nullable_string, reason nullable_string (v5+), (tags v4+)],
 *          (tags v4+)
 * Response grammar:
 *   throttle_time_ms int32 (v1+), error_code int16,
 *   members array[member_id string, group_instance_id nullable_string, error_code int16,
 *   (tags v4+)] (v3+), (tags v4+)
 * Strings and arrays are compact from v4.
 */
import { defineApi } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface MemberIdentity {
  memberId: string
  groupInstanceId: string | null
  /** v5+ (KIP-800). */
  reason?: string | null
}

export interface LeaveGroupRequest {
  groupId: string
  /** v0-v2 only. */
  memberId: string
  /** v3+. */
  members: MemberIdentity[]
}

export interface LeaveGroupMemberResponse {
  memberId: string
  groupInstanceId: string | null
  errorCode: number
}

export interface LeaveGroupResponse {
  throttleTimeMs: number
  errorCode: number
  members: LeaveGroupMemberResponse[]
}

export const LeaveGroup = defineApi<LeaveGroupRequest, LeaveGroupResponse>({
  key: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'memberId', type: 'string', versions: [0, 2], maxBytes: STRING_BYTES_MAX },
    {
      name: 'members',
      type: [
        { name: 'memberId', type: 'string', versions: [3], maxBytes: STRING_BYTES_MAX },
        { name: 'groupInstanceId', type: 'string', versions: [3], nullableFrom: 3,
          default: null },
        { name: 'reason', type: 'string', versions: [5], nullableFrom: 5, default: null,
          maxBytes: STRING_BYTES_MAX },
      ],
      versions: [3],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    {
      name: 'members',
      type: [
        { name: 'memberId', type: 'string', versions: [3] },
        { name: 'groupInstanceId', type: 'string', versions: [3], nullableFrom: 3,
          default: null },
        { name: 'errorCode', type: 'int16', versions: [3] },
      ],
      versions: [3],
    },
  ],
})
