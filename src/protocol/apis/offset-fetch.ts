/**
 * OffsetFetch (key 9). Versions 0-9, flexible from 6.
 *
 * Version history (Kafka's OffsetFetchRequest.json / OffsetFetchResponse.json):
 *   v1 reads offsets from Kafka rather than ZooKeeper, same layout; v2 allows topics = null
 *   ("all topics of the group") and adds a top-level error_code (KIP-88); v3 adds
 *   throttle_time_ms; v4 is v3; v5 adds committed_leader_epoch (KIP-320); v6 is flexible
 *   (KIP-482); v7 adds require_stable (KIP-447); v8 fetches several groups at once (KIP-709):
 *   the request's group_id/topics and the response's topics/error_code move into a groups
 *   array. v9 adds member_id and member_epoch per group (KIP-848).
 *
 * Request grammar:
 *   v0-v7: group_id string, topics array[name string, partition_indexes array[int32],
 *          (tags v6+)] (nullable v2+), require_stable bool (v7), (tags v6+)
 *   v8:    groups compact_array[group_id compact_string, topics compact_nullable_array[
 *          name compact_string, partition_indexes compact_array[int32], tags], tags],
 *          require_stable bool, tags
 * Response grammar:
 *   v0-v7: throttle_time_ms int32 (v3+), topics array[name string, partitions array[
 *          partition_index int32, committed_offset int64, committed_leader_epoch int32 (v5+),
 *          metadata nullable_string, error_code int16, (tags v6+)], (tags v6+)],
 *          error_code int16 (v2+), (tags v6+)
 *   v8:    throttle_time_ms int32, groups compact_array[group_id compact_string,
 *          topics compact_array[name, partitions compact_array[partition_index int32,
 *          committed_offset int64, committed_leader_epoch int32,
 *          metadata compact_nullable_string, error_code int16, tags], tags],
 *          error_code int16, tags], tags
 */
import { defineApi, type Field } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface OffsetFetchRequestTopic {
  name: string
  partitionIndexes: number[]
}

export interface OffsetFetchRequestGroup {
  groupId: string
  /** v9+ (KIP-848). */
  memberId?: string | null
  memberEpoch?: number
  /** Null = every topic the group has offsets for. */
  topics: OffsetFetchRequestTopic[] | null
}

export interface OffsetFetchRequest {
  /** v0-v7. */
  groupId: string
  /** v0-v7; null (v2+) = all topics. */
  topics: OffsetFetchRequestTopic[] | null
  /** v8+. */
  groups?: OffsetFetchRequestGroup[]
  /** v7+ (KIP-447): fail with UNSTABLE_OFFSET_COMMIT while a transaction is pending. */
  requireStable?: boolean
}

export interface OffsetFetchResponsePartition {
  partitionIndex: number
  committedOffset: number
  committedLeaderEpoch: number
  metadata: string | null
  errorCode: number
}

export interface OffsetFetchResponseTopic {
  name: string
  partitions: OffsetFetchResponsePartition[]
}

export interface OffsetFetchResponseGroup {
  groupId: string
  topics: OffsetFetchResponseTopic[]
  errorCode: number
}

export interface OffsetFetchResponse {
  throttleTimeMs: number
  /** v0-v7. */
  topics: OffsetFetchResponseTopic[]
  /** v2-v7. */
  errorCode: number
  /** v8+. */
  groups?: OffsetFetchResponseGroup[]
}

/** Topic entries of both layouts: versions [from, to] (to undefined = unbounded). */
function requestTopicFields (from: number, to?: number): Field[] {
  return [
    { name: 'name', type: 'string', versions: [from, to] },
    { name: 'partitionIndexes', type: { items: 'int32' }, versions: [from, to] },
  ]
}

function responseTopicFields (from: number, to?: number): Field[] {
  return [
    { name: 'name', type: 'string', versions: [from, to] },
    {
      name: 'partitions',
      type: [
        { name: 'partitionIndex', type: 'int32', versions: [from, to] },
        { name: 'committedOffset', type: 'int64', versions: [from, to], default: -1 },
        { name: 'committedLeaderEpoch', type: 'int32', versions: [Math.max(from, 5), to],
          default: -1 },
        { name: 'metadata', type: 'string', versions: [from, to], nullableFrom: 0 },
        { name: 'errorCode', type: 'int16', versions: [from, to] },
      ],
      versions: [from, to],
    },
  ]
}

export const OffsetFetch = defineApi<OffsetFetchRequest, OffsetFetchResponse>({
  key: 9,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,
  request: [
    { name: 'groupId', type: 'string', versions: [0, 7] },
    { name: 'topics', type: requestTopicFields(0, 7), versions: [0, 7], nullableFrom: 2 },
    {
      name: 'groups',
      type: [
        { name: 'groupId', type: 'string', versions: [8] },
        { name: 'memberId', type: 'string', versions: [9], nullableFrom: 9, default: null,
          maxBytes: STRING_BYTES_MAX },
        { name: 'memberEpoch', type: 'int32', versions: [9], default: -1 },
        { name: 'topics', type: requestTopicFields(8), versions: [8], nullableFrom: 8 },
      ],
      versions: [8],
    },
    { name: 'requireStable', type: 'bool', versions: [7] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [3] },
    { name: 'topics', type: responseTopicFields(0, 7), versions: [0, 7] },
    { name: 'errorCode', type: 'int16', versions: [2, 7] },
    {
      name: 'groups',
      type: [
        { name: 'groupId', type: 'string', versions: [8] },
        { name: 'topics', type: responseTopicFields(8), versions: [8] },
        { name: 'errorCode', type: 'int16', versions: [8] },
      ],
      versions: [8],
    },
  ],
  // Kafka's OffsetFetchRequest.getErrorResponse: the error for every partition asked for
  // and at the top (v2-7), for every group (v8+).
  errorEcho: {
    topics: { from: 'topics', each: {
      name: 'name', partitions: { from: 'partitionIndexes', each: 'partitionIndex' },
    } },
    groups: { from: 'groups', each: {
      groupId: 'groupId',
      topics: { from: 'topics', each: {
        name: 'name', partitions: { from: 'partitionIndexes', each: 'partitionIndex' },
      } },
    } },
  },
})
