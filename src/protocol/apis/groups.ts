/**
 * The classic consumer-group APIs (Kafka's *Request.json / *Response.json), codec versions up
 * to just below each API's first flexible version, which is what KAFKA_PROTOCOL.md section 2
 * advertises: FindCoordinator 0-2, JoinGroup 0-5, SyncGroup 0-3, Heartbeat 0-3,
 * LeaveGroup 0-3, OffsetCommit 0-5, OffsetFetch 0-4, ListGroups 0-2, DescribeGroups 0-4,
 * DeleteGroups 0-1, OffsetDelete 0.
 */
import { defineApi, type Field } from '../schema.js'

const nullableString = (name: string, from: number): Field =>
  ({ name, type: 'string', versions: [from], nullableFrom: 0, default: null })

export interface FindCoordinatorRequest { key: string, keyType: number }
export interface FindCoordinatorResponse {
  throttleTimeMs: number, errorCode: number, errorMessage: string | null, nodeId: number,
  host: string, port: number
}
export const FindCoordinator = defineApi<FindCoordinatorRequest, FindCoordinatorResponse>({
  key: 10, name: 'FindCoordinator', minVersion: 0, maxVersion: 2, flexibleFrom: 3,
  request: [
    { name: 'key', type: 'string', versions: [0] },
    { name: 'keyType', type: 'int8', versions: [1] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    nullableString('errorMessage', 1),
    { name: 'nodeId', type: 'int32', versions: [0] },
    { name: 'host', type: 'string', versions: [0] },
    { name: 'port', type: 'int32', versions: [0] },
  ],
})

export interface JoinGroupRequest {
  groupId: string, sessionTimeoutMs: number, rebalanceTimeoutMs: number, memberId: string,
  groupInstanceId: string | null, protocolType: string,
  protocols: { name: string, metadata: Buffer }[]
}
export interface JoinGroupResponse {
  throttleTimeMs: number, errorCode: number, generationId: number, protocolName: string,
  leader: string, memberId: string,
  members: { memberId: string, groupInstanceId: string | null, metadata: Buffer }[]
}
export const JoinGroup = defineApi<JoinGroupRequest, JoinGroupResponse>({
  key: 11, name: 'JoinGroup', minVersion: 0, maxVersion: 5, flexibleFrom: 6,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'sessionTimeoutMs', type: 'int32', versions: [0] },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: [1], default: -1 },
    { name: 'memberId', type: 'string', versions: [0] },
    nullableString('groupInstanceId', 5),
    { name: 'protocolType', type: 'string', versions: [0] },
    { name: 'protocols', type: [
      { name: 'name', type: 'string', versions: [0] },
      { name: 'metadata', type: 'bytes', versions: [0] },
    ], versions: [0] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [2] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'generationId', type: 'int32', versions: [0], default: -1 },
    { name: 'protocolName', type: 'string', versions: [0] },
    { name: 'leader', type: 'string', versions: [0] },
    { name: 'memberId', type: 'string', versions: [0] },
    { name: 'members', type: [
      { name: 'memberId', type: 'string', versions: [0] },
      nullableString('groupInstanceId', 5),
      { name: 'metadata', type: 'bytes', versions: [0] },
    ], versions: [0] },
  ],
})

export interface SyncGroupRequest {
  groupId: string, generationId: number, memberId: string, groupInstanceId: string | null,
  assignments: { memberId: string, assignment: Buffer }[]
}
export interface SyncGroupResponse { throttleTimeMs: number, errorCode: number, assignment: Buffer }
export const SyncGroup = defineApi<SyncGroupRequest, SyncGroupResponse>({
  key: 14, name: 'SyncGroup', minVersion: 0, maxVersion: 3, flexibleFrom: 4,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'generationId', type: 'int32', versions: [0] },
    { name: 'memberId', type: 'string', versions: [0] },
    nullableString('groupInstanceId', 3),
    { name: 'assignments', type: [
      { name: 'memberId', type: 'string', versions: [0] },
      { name: 'assignment', type: 'bytes', versions: [0] },
    ], versions: [0] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'assignment', type: 'bytes', versions: [0] },
  ],
})

export interface HeartbeatRequest {
  groupId: string, generationId: number, memberId: string, groupInstanceId: string | null
}
export interface HeartbeatResponse { throttleTimeMs: number, errorCode: number }
export const Heartbeat = defineApi<HeartbeatRequest, HeartbeatResponse>({
  key: 12, name: 'Heartbeat', minVersion: 0, maxVersion: 3, flexibleFrom: 4,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'generationId', type: 'int32', versions: [0] },
    { name: 'memberId', type: 'string', versions: [0] },
    nullableString('groupInstanceId', 3),
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
  ],
})

export interface LeaveGroupRequest {
  groupId: string, memberId: string,
  members: { memberId: string, groupInstanceId: string | null }[]
}
export interface LeaveGroupResponse {
  throttleTimeMs: number, errorCode: number,
  members: { memberId: string, groupInstanceId: string | null, errorCode: number }[]
}
export const LeaveGroup = defineApi<LeaveGroupRequest, LeaveGroupResponse>({
  key: 13, name: 'LeaveGroup', minVersion: 0, maxVersion: 3, flexibleFrom: 4,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'memberId', type: 'string', versions: [0, 2] },
    { name: 'members', type: [
      { name: 'memberId', type: 'string', versions: [3] },
      nullableString('groupInstanceId', 3),
    ], versions: [3] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'members', type: [
      { name: 'memberId', type: 'string', versions: [3] },
      nullableString('groupInstanceId', 3),
      { name: 'errorCode', type: 'int16', versions: [3] },
    ], versions: [3] },
  ],
})

export interface OffsetCommitRequest {
  groupId: string, generationIdOrMemberEpoch: number, memberId: string,
  groupInstanceId: string | null, retentionTimeMs: number,
  topics: { name: string, partitions: { partitionIndex: number, committedOffset: number,
    committedLeaderEpoch: number, commitTimestamp: number,
    committedMetadata: string | null }[] }[]
}
export interface OffsetCommitResponse {
  throttleTimeMs: number,
  topics: { name: string, partitions: { partitionIndex: number, errorCode: number }[] }[]
}
export const OffsetCommit = defineApi<OffsetCommitRequest, OffsetCommitResponse>({
  key: 8, name: 'OffsetCommit', minVersion: 0, maxVersion: 5, flexibleFrom: 8,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'generationIdOrMemberEpoch', type: 'int32', versions: [1], default: -1 },
    { name: 'memberId', type: 'string', versions: [1] },
    nullableString('groupInstanceId', 7),
    { name: 'retentionTimeMs', type: 'int64', versions: [2, 4], default: -1 },
    { name: 'topics', type: [
      { name: 'name', type: 'string', versions: [0] },
      { name: 'partitions', type: [
        { name: 'partitionIndex', type: 'int32', versions: [0] },
        { name: 'committedOffset', type: 'int64', versions: [0] },
        { name: 'committedLeaderEpoch', type: 'int32', versions: [6], default: -1 },
        { name: 'commitTimestamp', type: 'int64', versions: [1, 1], default: -1 },
        nullableString('committedMetadata', 0),
      ], versions: [0] },
    ], versions: [0] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [3] },
    { name: 'topics', type: [
      { name: 'name', type: 'string', versions: [0] },
      { name: 'partitions', type: [
        { name: 'partitionIndex', type: 'int32', versions: [0] },
        { name: 'errorCode', type: 'int16', versions: [0] },
      ], versions: [0] },
    ], versions: [0] },
  ],
})

export interface OffsetFetchRequest {
  groupId: string, topics: { name: string, partitionIndexes: number[] }[] | null
}
export interface OffsetFetchResponse {
  throttleTimeMs: number, errorCode: number,
  topics: { name: string, partitions: { partitionIndex: number, committedOffset: number,
    committedLeaderEpoch: number, metadata: string | null, errorCode: number }[] }[]
}
export const OffsetFetch = defineApi<OffsetFetchRequest, OffsetFetchResponse>({
  key: 9, name: 'OffsetFetch', minVersion: 0, maxVersion: 4, flexibleFrom: 6,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'topics', type: [
      { name: 'name', type: 'string', versions: [0] },
      { name: 'partitionIndexes', type: { items: 'int32' }, versions: [0] },
    ], versions: [0], nullableFrom: 2 },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [3] },
    { name: 'topics', type: [
      { name: 'name', type: 'string', versions: [0] },
      { name: 'partitions', type: [
        { name: 'partitionIndex', type: 'int32', versions: [0] },
        { name: 'committedOffset', type: 'int64', versions: [0] },
        { name: 'committedLeaderEpoch', type: 'int32', versions: [5], default: -1 },
        nullableString('metadata', 0),
        { name: 'errorCode', type: 'int16', versions: [0] },
      ], versions: [0] },
    ], versions: [0] },
    { name: 'errorCode', type: 'int16', versions: [2] },
  ],
})

export interface ListGroupsRequest { statesFilter: string[] }
export interface ListGroupsResponse {
  throttleTimeMs: number, errorCode: number,
  groups: { groupId: string, protocolType: string }[]
}
export const ListGroups = defineApi<ListGroupsRequest, ListGroupsResponse>({
  key: 16, name: 'ListGroups', minVersion: 0, maxVersion: 2, flexibleFrom: 3,
  request: [],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'groups', type: [
      { name: 'groupId', type: 'string', versions: [0] },
      { name: 'protocolType', type: 'string', versions: [0] },
    ], versions: [0] },
  ],
})

export interface DescribedMember {
  memberId: string, groupInstanceId: string | null, clientId: string, clientHost: string,
  memberMetadata: Buffer, memberAssignment: Buffer
}
export interface DescribeGroupsRequest { groups: string[], includeAuthorizedOperations: boolean }
export interface DescribeGroupsResponse {
  throttleTimeMs: number,
  groups: { errorCode: number, groupId: string, groupState: string, protocolType: string,
    protocolData: string, members: DescribedMember[], authorizedOperations: number }[]
}
export const DescribeGroups = defineApi<DescribeGroupsRequest, DescribeGroupsResponse>({
  key: 15, name: 'DescribeGroups', minVersion: 0, maxVersion: 4, flexibleFrom: 5,
  request: [
    { name: 'groups', type: { items: 'string' }, versions: [0] },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: [3] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    { name: 'groups', type: [
      { name: 'errorCode', type: 'int16', versions: [0] },
      { name: 'groupId', type: 'string', versions: [0] },
      { name: 'groupState', type: 'string', versions: [0] },
      { name: 'protocolType', type: 'string', versions: [0] },
      { name: 'protocolData', type: 'string', versions: [0] },
      { name: 'members', type: [
        { name: 'memberId', type: 'string', versions: [0] },
        nullableString('groupInstanceId', 4),
        { name: 'clientId', type: 'string', versions: [0] },
        { name: 'clientHost', type: 'string', versions: [0] },
        { name: 'memberMetadata', type: 'bytes', versions: [0] },
        { name: 'memberAssignment', type: 'bytes', versions: [0] },
      ], versions: [0] },
      { name: 'authorizedOperations', type: 'int32', versions: [3], default: -2147483648 },
    ], versions: [0] },
  ],
})

export interface DeleteGroupsRequest { groupsNames: string[] }
export interface DeleteGroupsResponse {
  throttleTimeMs: number, results: { groupId: string, errorCode: number }[]
}
export const DeleteGroups = defineApi<DeleteGroupsRequest, DeleteGroupsResponse>({
  key: 42, name: 'DeleteGroups', minVersion: 0, maxVersion: 1, flexibleFrom: 2,
  request: [{ name: 'groupsNames', type: { items: 'string' }, versions: [0] }],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'results', type: [
      { name: 'groupId', type: 'string', versions: [0] },
      { name: 'errorCode', type: 'int16', versions: [0] },
    ], versions: [0] },
  ],
})

export interface OffsetDeleteRequest {
  groupId: string, topics: { name: string, partitions: { partitionIndex: number }[] }[]
}
export interface OffsetDeleteResponse {
  errorCode: number, throttleTimeMs: number,
  topics: { name: string, partitions: { partitionIndex: number, errorCode: number }[] }[]
}
export const OffsetDelete = defineApi<OffsetDeleteRequest, OffsetDeleteResponse>({
  key: 47, name: 'OffsetDelete', minVersion: 0, maxVersion: 0, flexibleFrom: Infinity,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'topics', type: [
      { name: 'name', type: 'string', versions: [0] },
      { name: 'partitions', type: [{ name: 'partitionIndex', type: 'int32', versions: [0] }],
        versions: [0] },
    ], versions: [0] },
  ],
  response: [
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'topics', type: [
      { name: 'name', type: 'string', versions: [0] },
      { name: 'partitions', type: [
        { name: 'partitionIndex', type: 'int32', versions: [0] },
        { name: 'errorCode', type: 'int16', versions: [0] },
      ], versions: [0] },
    ], versions: [0] },
  ],
})
