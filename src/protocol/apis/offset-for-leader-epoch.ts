/**
 * OffsetForLeaderEpoch (key 23). Versions 0-4, flexible from 4 (Kafka 4.1's
 * OffsetForLeaderEpochRequest.json / OffsetForLeaderEpochResponse.json; 0-1 deprecated).
 *
 * A replica (or a consumer that saw a leader change, KIP-320) asks, for each partition, for the
 * end offset of `leader_epoch` in the leader's log: the start offset of the first epoch above
 * it, or the log end offset if it is the latest (KIP-101, KIP-279's LeaderEpochFileCache).
 *
 * Version history: v1 adds leader_epoch to the response; v2 adds current_leader_epoch (fencing)
 * and throttle_time_ms; v3 adds replica_id (-2: a debug consumer, -1: a consumer, ≥ 0: a
 * follower); v4 is flexible.
 *
 * Request grammar:
 *   replica_id int32 (v3+), topics [topic string, partitions [partition int32,
 *     current_leader_epoch int32 (v2+), leader_epoch int32, (tags v4+)], (tags v4+)], (tags v4+)
 * Response grammar:
 *   throttle_time_ms int32 (v2+), topics [topic string, partitions [error_code int16,
 *     partition int32, leader_epoch int32 (v1+), end_offset int64, (tags v4+)], (tags v4+)],
 *   (tags v4+)
 */
import { defineApi } from '../schema.js'

export interface OffsetForLeaderEpochRequest {
  replicaId: number
  topics: {
    topic: string
    partitions: { partition: number, currentLeaderEpoch: number, leaderEpoch: number }[]
  }[]
}

export interface OffsetForLeaderEpochResponse {
  throttleTimeMs: number
  topics: {
    topic: string
    partitions: { errorCode: number, partition: number, leaderEpoch: number, endOffset: number }[]
  }[]
}

/** Kafka's OffsetForLeaderEpochRequest.DEBUGGING_REPLICA_ID: the request's default. */
export const DEBUGGING_REPLICA_ID = -2

export const OffsetForLeaderEpoch = defineApi<OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse>({
  key: 23,
  name: 'OffsetForLeaderEpoch',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: [
    { name: 'replicaId', type: 'int32', versions: [3], default: DEBUGGING_REPLICA_ID },
    {
      name: 'topics',
      type: [
        { name: 'topic', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partition', type: 'int32', versions: [0] },
            { name: 'currentLeaderEpoch', type: 'int32', versions: [2], default: -1 },
            { name: 'leaderEpoch', type: 'int32', versions: [0] },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [2] },
    {
      name: 'topics',
      type: [
        { name: 'topic', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'errorCode', type: 'int16', versions: [0] },
            { name: 'partition', type: 'int32', versions: [0] },
            { name: 'leaderEpoch', type: 'int32', versions: [1], default: -1 },
            { name: 'endOffset', type: 'int64', versions: [0], default: -1 },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  // Kafka's OffsetsForLeaderEpochRequest.getErrorResponse: the error for every partition.
  errorEcho: {
    topics: { from: 'topics', each: {
      topic: 'topic', partitions: { from: 'partitions', each: { partition: 'partition' } },
    } },
  },
})
