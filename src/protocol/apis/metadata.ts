/**
 * Metadata (key 3). Versions 0-13, flexible from 9 (MetadataRequest.json /
 * MetadataResponse.json).
 *
 * Version history: v1 makes the topic list nullable (null = all topics; v0 uses an empty list)
 * and adds rack, controller_id and is_internal; v2 adds cluster_id; v3 adds throttle_time_ms;
 * v4 adds allow_auto_topic_creation (v0-3 imply true); v5 adds offline_replicas; v6 is v5;
 * v7 adds leader_epoch; v8 adds the authorized-operations fields (KIP-430); v9 is flexible;
 * v10 adds topic ids (KIP-516); v11 drops include/cluster authorized operations (KIP-700 moved
 * them to DescribeCluster); v12 makes topic names nullable (lookup by id); v13 adds a
 * top-level error_code (KIP-1102: REBOOTSTRAP_REQUIRED tells the client to rebootstrap).
 *
 * Request grammar:
 *   topics [topic_id uuid (v10+), name string (nullable v10+), (tags v9+)] (nullable v1+),
 *   allow_auto_topic_creation bool (v4+),
 *   include_cluster_authorized_operations bool (v8-10),
 *   include_topic_authorized_operations bool (v8+), (tags v9+)
 * Response grammar:
 *   throttle_time_ms int32 (v3+),
 *   brokers [node_id int32, host string, port int32, rack nullable string (v1+), (tags v9+)],
 *   cluster_id nullable string (v2+), controller_id int32 (v1+),
 *   topics [error_code int16, name string (nullable v12+), topic_id uuid (v10+),
 *           is_internal bool (v1+),
 *           partitions [error_code int16, partition_index int32, leader_id int32,
 *                       leader_epoch int32 (v7+), replica_nodes [int32], isr_nodes [int32],
 *                       offline_replicas [int32] (v5+), (tags v9+)],
 *           topic_authorized_operations int32 (v8+), (tags v9+)],
 *   cluster_authorized_operations int32 (v8-10), error_code int16 (v13+), (tags v9+)
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
  errorCode?: number
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
  { name: 'errorCode', type: 'int16', versions: [13] },
]

export const Metadata = defineApi<MetadataRequest, MetadataResponse>({
  key: 3, name: 'Metadata', minVersion: 0, maxVersion: 13, flexibleFrom: 9, request, response,
  // Kafka's MetadataRequest.getErrorResponse: the error for every topic named.
  errorEcho: { topics: { from: 'topics', each: { name: 'name', topicId: 'topicId' } } },
})
