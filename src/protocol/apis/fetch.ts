/**
 * Fetch (key 1). Codec versions 4-12, flexible from 12 (FetchRequest/Response.json).
 * v4: isolation_level, last_stable_offset, aborted_transactions; v5: log_start_offset;
 * v7: fetch sessions and forgotten topics; v9: current_leader_epoch; v11: rack_id and
 * preferred_read_replica; v12: last_fetched_epoch (and tagged fields we do not use).
 */
import { defineApi, type Field } from '../schema.js'

export interface FetchRequest {
  replicaId: number
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
    }[]
  }[]
}

const request: Field[] = [
  { name: 'replicaId', type: 'int32', versions: [0], default: -1 },
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
          { name: 'highWatermark', type: 'int64', versions: [0] },
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
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
]

export const Fetch = defineApi<FetchRequest, FetchResponse>({
  key: 1, name: 'Fetch', minVersion: 4, maxVersion: 12, flexibleFrom: 12, request, response,
})
