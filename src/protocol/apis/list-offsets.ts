/**
 * ListOffsets (key 2). Codec versions 1-5, flexible from 6 (ListOffsetsRequest/Response.json).
 * v1: timestamp/offset replace old_style_offsets; v2: isolation_level and throttle_time_ms;
 * v4: current_leader_epoch and leader_epoch.
 */
import { defineApi, type Field } from '../schema.js'

export interface ListOffsetsRequest {
  replicaId: number
  isolationLevel: number
  topics: {
    name: string
    partitions: { partitionIndex: number, currentLeaderEpoch: number, timestamp: number }[]
  }[]
}

export interface ListOffsetsResponse {
  throttleTimeMs: number
  topics: {
    name: string
    partitions: {
      partitionIndex: number
      errorCode: number
      oldStyleOffsets: number[]
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
          { name: 'maxNumOffsets', type: 'int32', versions: [0, 0], default: 1 },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
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
          { name: 'oldStyleOffsets', type: { items: 'int64' }, versions: [0, 0] },
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
  key: 2, name: 'ListOffsets', minVersion: 0, maxVersion: 5, flexibleFrom: 6, request, response,
})
