/**
 * Fetch (key 1). Versions 4-18, flexible from 12 (FetchRequest.json / FetchResponse.json).
 * 4 is the oldest Kafka 4.x serves (KIP-896) and librdkafka's MsgVer2 gate.
 *
 * Version history: v4 adds isolation_level, last_stable_offset and aborted_transactions
 * (KIP-98); v5 adds log_start_offset; v6 is v5; v7 adds fetch sessions (session_id,
 * session_epoch, forgotten_topics_data, the top-level error_code; KIP-227); v8 is v7; v9 adds
 * current_leader_epoch (KIP-320); v10 is v9 (zstd); v11 adds rack_id and
 * preferred_read_replica (KIP-392); v12 is flexible and adds last_fetched_epoch plus tagged
 * fields: cluster_id (stepped over), the response's diverging_epoch (tag 0, KIP-320: where a
 * follower's log diverges from the leader's) and current_leader (tag 1), and snapshot_id
 * (KRaft only, never sent); v13 replaces topic names with topic ids (KIP-516); v14 is v13 (it
 * may answer OFFSET_MOVED_TO_TIERED_STORAGE, KIP-405); v15 drops replica_id for the tagged
 * replica_state (tag 1: replica_id, replica_epoch; KIP-903); v16 adds the tagged
 * node_endpoints to the response (KIP-951); v17 adds the tagged replica_directory_id
 * (KIP-853); v18 adds the tagged high_watermark of a follower (KIP-1166). Those last three are
 * stepped over, never sent.
 *
 * Request grammar:
 *   replica_id int32 (v0-14), [tag 1 (v15+): replica_state {replica_id int32,
 *   replica_epoch int64}], max_wait_ms int32, min_bytes int32, max_bytes int32,
 *   isolation_level int8, session_id int32 (v7+), session_epoch int32 (v7+),
 *   topics [topic string (v0-12), topic_id uuid (v13+),
 *           partitions [partition int32, current_leader_epoch int32 (v9+),
 *                       fetch_offset int64, last_fetched_epoch int32 (v12+),
 *                       log_start_offset int64 (v5+), partition_max_bytes int32,
 *                       (tags v12+)], (tags v12+)],
 *   forgotten_topics_data [topic string (v7-12), topic_id uuid (v13+), partitions [int32],
 *                          (tags v12+)] (v7+),
 *   rack_id string (v11+), (tags v12+)
 * Response grammar:
 *   throttle_time_ms int32, error_code int16 (v7+), session_id int32 (v7+),
 *   responses [topic string (v0-12), topic_id uuid (v13+),
 *              partitions [partition_index int32, error_code int16, high_watermark int64,
 *                          last_stable_offset int64, log_start_offset int64 (v5+),
 *                          aborted_transactions nullable [producer_id int64,
 *                                                         first_offset int64, (tags v12+)],
 *                          preferred_read_replica int32 (v11+), records nullable bytes,
 *                          [tag 0: diverging_epoch {epoch int32, end_offset int64}],
 *                          [tag 1: current_leader {leader_id int32, leader_epoch int32}],
 *                          (tags v12+)], (tags v12+)], (tags v12+)
 *
 * Records are always encoded with a size, 0 when empty, never as null (-1): librdkafka fails
 * the parse on a negative MessageSetSize (docs/protocol.md, Fetch). Large record sets are
 * appended by reference (Writer.rawReference), so segment bytes are never copied into the
 * response.
 */
import { defineApi, type Field } from '../schema.js'

/** KIP-903's replica_state (v15+); v0-14 carry the replica id in replica_id. */
export interface ReplicaState {
  replicaId: number
  replicaEpoch: number
}

/** KIP-320: the leader's end offset of the largest epoch ≤ the follower's last fetched one. */
export interface EpochEndOffset {
  epoch: number
  endOffset: number
}

export interface LeaderIdAndEpoch {
  leaderId: number
  leaderEpoch: number
}

/**
 * The values of the tagged struct fields when absent: shared objects, so that the encoder
 * leaves them off the wire (it compares with the default by identity). Frozen: never filled in.
 */
export const NO_REPLICA_STATE: ReplicaState = Object.freeze({ replicaId: -1, replicaEpoch: -1 })
export const NO_DIVERGING_EPOCH: EpochEndOffset = Object.freeze({ epoch: -1, endOffset: -1 })
export const NO_CURRENT_LEADER: LeaderIdAndEpoch = Object.freeze({ leaderId: -1, leaderEpoch: -1 })

export interface FetchRequest {
  replicaId: number
  /** v15+ (tagged): which replica fetches; absent from consumers. */
  replicaState?: ReplicaState
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  isolationLevel: number
  sessionId: number
  sessionEpoch: number
  topics: {
    topic: string
    topicId: Buffer
    partitions: {
      partition: number
      currentLeaderEpoch: number
      fetchOffset: number
      lastFetchedEpoch: number
      logStartOffset: number
      partitionMaxBytes: number
    }[]
  }[]
  forgottenTopicsData: { topic: string, topicId?: Buffer, partitions: number[] }[]
  rackId: string
}

export interface FetchResponse {
  throttleTimeMs: number
  errorCode: number
  sessionId: number
  responses: {
    topic: string
    topicId?: Buffer
    partitions: {
      partitionIndex: number
      errorCode: number
      highWatermark: number
      lastStableOffset: number
      logStartOffset: number
      abortedTransactions: { producerId: number, firstOffset: number }[] | null
      preferredReadReplica: number
      records: Buffer | null
      /** To a follower whose log diverges from the leader's (KIP-320), instead of records. */
      divergingEpoch?: EpochEndOffset
      /** With FENCED_LEADER_EPOCH / NOT_LEADER_OR_FOLLOWER: the leader this broker knows. */
      currentLeader?: LeaderIdAndEpoch
    }[]
  }[]
}

const request: Field[] = [
  { name: 'replicaId', type: 'int32', versions: [0, 14], default: -1 },
  {
    name: 'replicaState', tag: 1, versions: [15], default: NO_REPLICA_STATE,
    type: { struct: [
      { name: 'replicaId', type: 'int32', versions: [15], default: -1 },
      { name: 'replicaEpoch', type: 'int64', versions: [15], default: -1 },
    ] },
  },
  { name: 'maxWaitMs', type: 'int32', versions: [0] },
  { name: 'minBytes', type: 'int32', versions: [0] },
  { name: 'maxBytes', type: 'int32', versions: [3], default: 0x7fffffff },
  { name: 'isolationLevel', type: 'int8', versions: [4] },
  { name: 'sessionId', type: 'int32', versions: [7] },
  { name: 'sessionEpoch', type: 'int32', versions: [7], default: -1 },
  {
    name: 'topics',
    type: [
      { name: 'topic', type: 'string', versions: [0, 12] },
      { name: 'topicId', type: 'uuid', versions: [13] },
      {
        name: 'partitions',
        type: [
          { name: 'partition', type: 'int32', versions: [0] },
          { name: 'currentLeaderEpoch', type: 'int32', versions: [9], default: -1 },
          { name: 'fetchOffset', type: 'int64', versions: [0] },
          { name: 'lastFetchedEpoch', type: 'int32', versions: [12], default: -1 },
          { name: 'logStartOffset', type: 'int64', versions: [5], default: -1 },
          { name: 'partitionMaxBytes', type: 'int32', versions: [0] },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
  {
    name: 'forgottenTopicsData',
    type: [
      { name: 'topic', type: 'string', versions: [7, 12] },
      { name: 'topicId', type: 'uuid', versions: [13] },
      { name: 'partitions', type: { items: 'int32' }, versions: [7] },
    ],
    versions: [7],
  },
  { name: 'rackId', type: 'string', versions: [11] },
]

const response: Field[] = [
  { name: 'throttleTimeMs', type: 'int32', versions: [1] },
  { name: 'errorCode', type: 'int16', versions: [7] },
  { name: 'sessionId', type: 'int32', versions: [7] },
  {
    name: 'responses',
    type: [
      { name: 'topic', type: 'string', versions: [0, 12] },
      { name: 'topicId', type: 'uuid', versions: [13] },
      {
        name: 'partitions',
        type: [
          { name: 'partitionIndex', type: 'int32', versions: [0] },
          { name: 'errorCode', type: 'int16', versions: [0] },
          { name: 'highWatermark', type: 'int64', versions: [0], default: -1 },
          { name: 'lastStableOffset', type: 'int64', versions: [4], default: -1 },
          { name: 'logStartOffset', type: 'int64', versions: [5], default: -1 },
          {
            name: 'abortedTransactions',
            type: [
              { name: 'producerId', type: 'int64', versions: [4] },
              { name: 'firstOffset', type: 'int64', versions: [4] },
            ],
            versions: [4],
            nullableFrom: 4,
          },
          { name: 'preferredReadReplica', type: 'int32', versions: [11], default: -1 },
          { name: 'records', type: 'records', versions: [0], nullableFrom: 0 },
          {
            name: 'divergingEpoch', tag: 0, versions: [12], default: NO_DIVERGING_EPOCH,
            type: { struct: [
              { name: 'epoch', type: 'int32', versions: [12], default: -1 },
              { name: 'endOffset', type: 'int64', versions: [12], default: -1 },
            ] },
          },
          {
            name: 'currentLeader', tag: 1, versions: [12], default: NO_CURRENT_LEADER,
            type: { struct: [
              { name: 'leaderId', type: 'int32', versions: [12], default: -1 },
              { name: 'leaderEpoch', type: 'int32', versions: [12], default: -1 },
            ] },
          },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
]

export const Fetch = defineApi<FetchRequest, FetchResponse>({
  key: 1, name: 'Fetch', minVersion: 4, maxVersion: 18, flexibleFrom: 12, request, response,
  // Kafka's FetchRequest.getErrorResponse: the error for every partition, and at the top (v7+).
  errorEcho: {
    responses: { from: 'topics', each: {
      topic: 'topic', topicId: 'topicId',
      partitions: { from: 'partitions', each: { partitionIndex: 'partition' } },
    } },
  },
})
