/**
 * Metadata (key 3). Codec versions 0-12, flexible from 9 (MetadataRequest/Response.json).
 * v1: nullable topics (null = all), rack, controller_id, is_internal; v2: cluster_id;
 * v3: throttle_time_ms; v4: allow_auto_topic_creation; v5: offline_replicas; v7: leader_epoch;
 * v8: authorized operations; v10: topic ids; v11 drops cluster authorized operations;
 * v12: nullable topic names.
 */
import { defineApi, type Field } from '../schema.js'

export interface MetadataRequest {
  topics: { topicId: Buffer, name: string | null }[] | null
  allowAutoTopicCreation: boolean
  includeClusterAuthorizedOperations: boolean
  includeTopicAuthorizedOperations: boolean
}

export interface MetadataResponse {
  throttleTimeMs: number
  brokers: { nodeId: number, host: string, port: number, rack: string | null }[]
  clusterId: string | null
  controllerId: number
  topics: {
    errorCode: number
    name: string | null
    topicId: Buffer
    isInternal: boolean
    partitions: {
      errorCode: number
      partitionIndex: number
      leaderId: number
      leaderEpoch: number
      replicaNodes: number[]
      isrNodes: number[]
      offlineReplicas: number[]
    }[]
    topicAuthorizedOperations: number
  }[]
  clusterAuthorizedOperations: number
}

const request: Field[] = [
  {
    name: 'topics',
    type: [
      { name: 'topicId', type: 'uuid', versions: [10] },
      { name: 'name', type: 'string', versions: [0], nullableFrom: 10 },
    ],
    versions: [0],
    nullableFrom: 1,
  },
  { name: 'allowAutoTopicCreation', type: 'bool', versions: [4], default: true },
  { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: [8, 10] },
  { name: 'includeTopicAuthorizedOperations', type: 'bool', versions: [8] },
]

const response: Field[] = [
  { name: 'throttleTimeMs', type: 'int32', versions: [3] },
  {
    name: 'brokers',
    type: [
      { name: 'nodeId', type: 'int32', versions: [0] },
      { name: 'host', type: 'string', versions: [0] },
      { name: 'port', type: 'int32', versions: [0] },
      { name: 'rack', type: 'string', versions: [1], nullableFrom: 1, default: null },
    ],
    versions: [0],
  },
  { name: 'clusterId', type: 'string', versions: [2], nullableFrom: 2, default: null },
  { name: 'controllerId', type: 'int32', versions: [1], default: -1 },
  {
    name: 'topics',
    type: [
      { name: 'errorCode', type: 'int16', versions: [0] },
      { name: 'name', type: 'string', versions: [0], nullableFrom: 12 },
      { name: 'topicId', type: 'uuid', versions: [10] },
      { name: 'isInternal', type: 'bool', versions: [1] },
      {
        name: 'partitions',
        type: [
          { name: 'errorCode', type: 'int16', versions: [0] },
          { name: 'partitionIndex', type: 'int32', versions: [0] },
          { name: 'leaderId', type: 'int32', versions: [0] },
          { name: 'leaderEpoch', type: 'int32', versions: [7], default: -1 },
          { name: 'replicaNodes', type: { items: 'int32' }, versions: [0] },
          { name: 'isrNodes', type: { items: 'int32' }, versions: [0] },
          { name: 'offlineReplicas', type: { items: 'int32' }, versions: [5] },
        ],
        versions: [0],
      },
      { name: 'topicAuthorizedOperations', type: 'int32', versions: [8], default: -2147483648 },
    ],
    versions: [0],
  },
  { name: 'clusterAuthorizedOperations', type: 'int32', versions: [8, 10],
    default: -2147483648 },
]

export const Metadata = defineApi<MetadataRequest, MetadataResponse>({
  key: 3, name: 'Metadata', minVersion: 0, maxVersion: 12, flexibleFrom: 9, request, response,
})
