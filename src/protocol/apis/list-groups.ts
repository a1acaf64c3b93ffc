/**
 * ListGroups (key 16). Codec versions 0-5, flexible from 3.
 *
 * Version history (Kafka's ListGroupsRequest.json / ListGroupsResponse.json):
 *   v1 adds throttle_time_ms to the response; v2 is v1; v3 is flexible (KIP-482); v4 adds a
 *   states filter to the request and each group's state to the response (KIP-518); v5 adds a
 *   types filter and each group's type (classic or consumer, KIP-848).
 *
 * Request grammar:
 *   v0-v2: (empty)
 *   v3+:   states_filter compact_array[compact_string] (v4+),
 *          types_filter compact_array[compact_string] (v5+), tags
 * Response grammar:
 *   throttle_time_ms int32 (v1+), error_code int16, groups array[group_id string,
 *   protocol_type string, group_state string (v4+), group_type string (v5+), (tags v3+)],
 *   (tags v3+)
 */
import { defineApi } from '../schema.js'

export interface ListGroupsRequest {
  /** v4+: only groups in these states (empty = all). */
  statesFilter: string[]
  /** v5+: only groups of these types (empty = all). */
  typesFilter?: string[]
}

export interface ListedGroup {
  groupId: string
  protocolType: string
  /** v4+. */
  groupState?: string
  /** v5+. */
  groupType?: string
}

export interface ListGroupsResponse {
  throttleTimeMs: number
  errorCode: number
  groups: ListedGroup[]
}

export const ListGroups = defineApi<ListGroupsRequest, ListGroupsResponse>({
  key: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 3,
  request: [
    { name: 'statesFilter', type: { items: 'string' }, versions: [4] },
    { name: 'typesFilter', type: { items: 'string' }, versions: [5] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    {
      name: 'groups',
      type: [
        { name: 'groupId', type: 'string', versions: [0] },
        { name: 'protocolType', type: 'string', versions: [0] },
        { name: 'groupState', type: 'string', versions: [4] },
        { name: 'groupType', type: 'string', versions: [5] },
      ],
      versions: [0],
    },
  ],
})
