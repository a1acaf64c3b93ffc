/**
 * TxnOffsetCommit (key 28, KIP-98). Codec versions 0-5, flexible from 3.
 *
 * Version history (Kafka's TxnOffsetCommitRequest.json / ...Response.json):
 *   v1 is v0 (KIP-219 throttling); v2 adds committed_leader_epoch (KIP-320); v3 is flexible
 *   and adds generation_id, member_id and group_instance_id so the coordinator can fence
 *   zombie producers by group generation (KIP-447); v4 and v5 (KIP-890; v5 only with
 *   transaction.version 2) have v3's layout.
 *
 * Request grammar:
 *   transactional_id string, group_id string, producer_id int64, producer_epoch int16,
 *   generation_id int32 (v3), member_id compact_string (v3),
 *   group_instance_id compact_nullable_string (v3), topics array[name string,
 *   partitions array[partition_index int32, committed_offset int64,
 *   committed_leader_epoch int32 (v2+), committed_metadata nullable_string, (tags v3)],
 *   (tags v3)], (tags v3)
 * Response grammar:
 *   throttle_time_ms int32, topics array[name string, partitions array[
 *   partition_index int32, error_code int16, (tags v3)], (tags v3)], (tags v3)
 */
import { defineApi } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface TxnOffsetCommitRequestPartition {
  partitionIndex: number
  committedOffset: number
  committedLeaderEpoch: number
  committedMetadata: string | null
}

export interface TxnOffsetCommitRequest {
  transactionalId: string
  groupId: string
  producerId: number
  producerEpoch: number
  /** v3+ (KIP-447); -1, '' and null before. */
  generationId: number
  memberId: string
  groupInstanceId: string | null
  topics: { name: string, partitions: TxnOffsetCommitRequestPartition[] }[]
}

export interface TxnOffsetCommitResponse {
  throttleTimeMs: number
  topics: { name: string, partitions: { partitionIndex: number, errorCode: number }[] }[]
}

export const TxnOffsetCommit = defineApi<TxnOffsetCommitRequest, TxnOffsetCommitResponse>({
  key: 28,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 3,
  request: [
    { name: 'transactionalId', type: 'string', versions: [0] },
    { name: 'groupId', type: 'string', versions: [0] },
    { name: 'producerId', type: 'int64', versions: [0] },
    { name: 'producerEpoch', type: 'int16', versions: [0] },
    { name: 'generationId', type: 'int32', versions: [3], default: -1 },
    { name: 'memberId', type: 'string', versions: [3], default: '', maxBytes: STRING_BYTES_MAX },
    { name: 'groupInstanceId', type: 'string', versions: [3], nullableFrom: 3, default: null },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'committedOffset', type: 'int64', versions: [0] },
            { name: 'committedLeaderEpoch', type: 'int32', versions: [2], default: -1 },
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
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
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
  // Kafka's TxnOffsetCommitRequest.getErrorResponse: the error for every partition.
  errorEcho: {
    topics: { from: 'topics', each: {
      name: 'name', partitions: { from: 'partitions', each: { partitionIndex: 'partitionIndex' } },
    } },
  },
})
