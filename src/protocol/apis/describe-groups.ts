/**
 * DescribeGroups (key 15). Versions 0-6, flexible from 5.
 *
 * Version history (Kafka's DescribeGroupsRequest.json / DescribeGroupsResponse.json):
 *   v1 adds throttle_time_ms to the response; v2 is v1; v3 adds include_authorized_operations
 *   to the request and authorized_operations per group (KIP-430); v4 adds each member's
 *   group_instance_id (KIP-345); v5 is flexible (KIP-482); v6 adds error_message and answers an
 *   unknown group GROUP_ID_NOT_FOUND (KIP-1043).
 *
 * Request grammar:
 *   groups array[string], include_authorized_operations bool (v3+), (tags v5+)
 * Response grammar:
 *   throttle_time_ms int32 (v1+), groups array[error_code int16,
 *   error_message nullable_string (v6+), group_id string,
 *   group_state string, protocol_type string, protocol_data string,
 *   members array[member_id string, group_instance_id nullable_string (v4+),
 *   client_id string, client_host string, member_metadata bytes, member_assignment bytes,
 *   (tags v5+)], authorized_operations int32 (v3+), (tags v5+)], (tags v5+)
 * Strings, bytes and arrays are compact from v5.
 */
import { defineApi } from '../schema.js'

export interface DescribeGroupsRequest {
  groups: string[]
  includeAuthorizedOperations: boolean
}

export interface DescribedGroupMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  memberMetadata: Buffer
  memberAssignment: Buffer
}

export interface DescribedGroup {
  errorCode: number
  /** v6+. */
  errorMessage?: string | null
  groupId: string
  groupState: string
  protocolType: string
  protocolData: string
  members: DescribedGroupMember[]
  /** v3+; INT32_MIN when not requested. */
  authorizedOperations: number
}

export interface DescribeGroupsResponse {
  throttleTimeMs: number
  groups: DescribedGroup[]
}

export const DescribeGroups = defineApi<DescribeGroupsRequest, DescribeGroupsResponse>({
  key: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 5,
  request: [
    { name: 'groups', type: { items: 'string' }, versions: [0] },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: [3] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    {
      name: 'groups',
      type: [
        { name: 'errorCode', type: 'int16', versions: [0] },
        { name: 'errorMessage', type: 'string', versions: [6], nullableFrom: 6, default: null },
        { name: 'groupId', type: 'string', versions: [0] },
        { name: 'groupState', type: 'string', versions: [0] },
        { name: 'protocolType', type: 'string', versions: [0] },
        { name: 'protocolData', type: 'string', versions: [0] },
        {
          name: 'members',
          type: [
            { name: 'memberId', type: 'string', versions: [0] },
            { name: 'groupInstanceId', type: 'string', versions: [4], nullableFrom: 4,
              default: null },
            { name: 'clientId', type: 'string', versions: [0] },
            { name: 'clientHost', type: 'string', versions: [0] },
            { name: 'memberMetadata', type: 'bytes', versions: [0] },
            { name: 'memberAssignment', type: 'bytes', versions: [0] },
          ],
          versions: [0],
        },
        { name: 'authorizedOperations', type: 'int32', versions: [3], default: -2147483648 },
      ],
      versions: [0],
    },
  ],
  // Kafka's DescribeGroupsRequest.getErrorResponse: the error for every group.
  errorEcho: { groups: { from: 'groups', each: 'groupId' } },
})
