/**
 * DeleteGroups (key 42). Codec versions 0-2, flexible from 2.
 *
 * Version history (Kafka's DeleteGroupsRequest.json / DeleteGroupsResponse.json):
 *   v1 is v0 (KIP-219 throttling); v2 is flexible (KIP-482).
 *
 * Request grammar:
 *   groups_names array[string], (tags v2+)
 * Response grammar:
 *   throttle_time_ms int32, results array[group_id string, error_code int16, (tags v2+)],
 *   (tags v2+)
 */
import { defineApi } from '../schema.js'

export interface DeleteGroupsRequest {
  groupsNames: string[]
}

export interface DeletableGroupResult {
  groupId: string
  errorCode: number
}

export interface DeleteGroupsResponse {
  throttleTimeMs: number
  results: DeletableGroupResult[]
}

export const DeleteGroups = defineApi<DeleteGroupsRequest, DeleteGroupsResponse>({
  key: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [{ name: 'groupsNames', type: { items: 'string' }, versions: [0] }],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    {
      name: 'results',
      type: [
        { name: 'groupId', type: 'string', versions: [0] },
        { name: 'errorCode', type: 'int16', versions: [0] },
      ],
      versions: [0],
    },
  ],
  // Kafka's DeleteGroupsRequest.getErrorResponse: the error for every group.
  errorEcho: { results: { from: 'groupsNames', each: 'groupId' } },
})
