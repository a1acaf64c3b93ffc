/**
 * OffsetCommit (key 8). Codec versions 0-9, flexible from 8.
 *
 * Version history (Kafka's OffsetCommitRequest.json / OffsetCommitResponse.json):
 *   v1 adds generation_id and member_id, and a per-partition commit_timestamp (v1 only);
 *   v2 drops commit_timestamp for a request-wide retention_time_ms; v3 adds throttle_time_ms to
 *   the response; v4 is v3; v5 drops retention_time_ms (KIP-211: the broker's
 *   offsets.retention.minutes applies); v6 adds committed_leader_epoch (KIP-320); v7 adds
 *   group_instance_id (KIP-345); v8 is flexible (KIP-482); v9 lets generation_id carry a
 *   KIP-848 member epoch (hence generation_id_or_member_epoch), with the same layout.
 *
 * Request grammar:
 *   group_id string, generation_id_or_member_epoch int32 (v1+), member_id string (v1+),
 *   group_instance_id nullable_string (v7+), retention_time_ms int64 (v2-v4),
 *   topics array[name string, partitions array[partition_index int32,
 *   committed_offset int64, committed_leader_epoch int32 (v6+), commit_timestamp int64 (v1),
 *   committed_metadata nullable_string, (tags v8+)], (tags v8+)], (tags v8+)
 * Response grammar:
 *   throttle_time_ms int32 (v3+), topics array[name string, partitions array[
 *   partition_index int32, error_code int16, (tags v8+)], (tags v8+)], (tags v8+)
 * Strings and arrays are compact from v8.
 */
import { defineApi } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface OffsetCommitRequestPartition {
  partitionIndex: number
  committedOffset: number
  /** v6+; -1 when unknown. */
  committedLeaderEpoch: number
  /** v1 only; -1 means "now". */
  commitTimestamp: number
  committedMetadata: string | null
}

export interface OffsetCommitRequest {
  groupId: string
  generationIdOrMemberEpoch: number
  memberId: string
  groupInstanceId: string | null
  /** v2-v4; -1 means the broker default. */
  retentionTimeMs: number
  topics: { name: string, partitions: OffsetCommitRequestPartition[] }[]
}

export interface OffsetCommitResponse {
  throttleTimeMs: number
  topics: { name: string, partitions: { partitionIndex: number, errorCode: number }[] }[]
}

export const OffsetCommit = defineApi<OffsetCommitRequest, OffsetCommitResponse>({
  key: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 8,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'generationIdOrMemberEpoch', type: 'int32', versions: [1], default: -1 },
    { name: 'memberId', type: 'string', versions: [1], maxBytes: STRING_BYTES_MAX },
    { name: 'groupInstanceId', type: 'string', versions: [7], nullableFrom: 7, default: null },
    { name: 'retentionTimeMs', type: 'int64', versions: [2, 4], default: -1 },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'committedOffset', type: 'int64', versions: [0] },
            { name: 'committedLeaderEpoch', type: 'int32', versions: [6], default: -1 },
            { name: 'commitTimestamp', type: 'int64', versions: [1, 1], default: -1 },
            { name: 'committedMetadata', type: 'string', versions: [0], nullableFrom: 0,
              maxBytes: STRING_BYTES_MAX },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [3] },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'errorCode', type: 'int16', versions: [0] },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  // Kafka's OffsetCommitRequest.getErrorResponse: the error for every partition.
  errorEcho: {
    topics: { from: 'topics', each: {
      name: 'name', partitions: { from: 'partitions', each: { partitionIndex: 'partitionIndex' } },
    } },
  },
})
