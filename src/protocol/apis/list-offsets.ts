/**
 * ListOffsets (key 2). Versions 1-10, flexible from 6 (ListOffsetsRequest.json /
 * ListOffsetsResponse.json). v0 (old_style_offsets, max_num_offsets) is not implemented: Kafka
 * 4.0 removed it (KIP-896) and every client we serve sends 1 or later.
 *
 * Version history: v1 replaces old_style_offsets with timestamp/offset; v2 adds
 * isolation_level and throttle_time_ms; v3 is v2; v4 adds current_leader_epoch and
 * leader_epoch; v5 is v4 (may return OFFSET_NOT_AVAILABLE); v6 is flexible; v7 is v6 (it only
 * allows timestamp -3, max timestamp, KIP-734); v8 allows -4, the local log start offset
 * (KIP-405); v9 allows -5, the last tiered offset (KIP-1005); v10 adds timeout_ms for lookups
 * in remote storage (KIP-1075).
 *
 * Request grammar:
 *   replica_id int32, isolation_level int8 (v2+),
 *   topics [name string,
 *           partitions [partition_index int32, current_leader_epoch int32 (v4+),
 *                       timestamp int64, (tags v6+)], (tags v6+)],
 *   timeout_ms int32 (v10+), (tags v6+)
 * Response grammar:
 *   throttle_time_ms int32 (v2+),
 *   topics [name string,
 *           partitions [partition_index int32, error_code int16, timestamp int64,
 *                       offset int64, leader_epoch int32 (v4+), (tags v6+)], (tags v6+)],
 *   (tags v6+)
 */
import { defineApi, type Field } from '../schema.js'

export interface ListOffsetsRequest {
  replicaId: number
  isolationLevel: number
  topics: {
    name: string
    partitions: { partitionIndex: number, currentLeaderEpoch: number, timestamp: number }[]
  }[]
  timeoutMs?: number
}

export interface ListOffsetsResponse {
  throttleTimeMs: number
  topics: {
    name: string
    partitions: {
      partitionIndex: number
      errorCode: number
      /** v0's offsets array; v0 is not implemented, so this is never on the wire. */
      oldStyleOffsets?: number[]
      timestamp: number
      offset: number
      leaderEpoch: number
    }[]
  }[]
}

const request: Field[] = [
  { name: 'replicaId', type: 'int32', versions: [0], default: -1 },
  { name: 'isolationLevel', type: 'int8', versions: [2] },
  {
    name: 'topics',
    type: [
      { name: 'name', type: 'string', versions: [0] },
      {
        name: 'partitions',
        type: [
          { name: 'partitionIndex', type: 'int32', versions: [0] },
          { name: 'currentLeaderEpoch', type: 'int32', versions: [4], default: -1 },
          { name: 'timestamp', type: 'int64', versions: [0] },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
  { name: 'timeoutMs', type: 'int32', versions: [10], default: 30000 },
]

const response: Field[] = [
  { name: 'throttleTimeMs', type: 'int32', versions: [2] },
  {
    name: 'topics',
    type: [
      { name: 'name', type: 'string', versions: [0] },
      {
        name: 'partitions',
        type: [
          { name: 'partitionIndex', type: 'int32', versions: [0] },
          { name: 'errorCode', type: 'int16', versions: [0] },
          { name: 'timestamp', type: 'int64', versions: [1], default: -1 },
          { name: 'offset', type: 'int64', versions: [1], default: -1 },
          { name: 'leaderEpoch', type: 'int32', versions: [4], default: -1 },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
]

export const ListOffsets = defineApi<ListOffsetsRequest, ListOffsetsResponse>({
  key: 2, name: 'ListOffsets', minVersion: 1, maxVersion: 10, flexibleFrom: 6, request, response,
  // Kafka's ListOffsetsRequest.getErrorResponse: the error for every partition.
  errorEcho: {
    topics: { from: 'topics', each: {
      name: 'name', partitions: { from: 'partitions', each: { partitionIndex: 'partitionIndex' } },
    } },
  },
})
