/**
 * DescribeTopicPartitions (key 75, KIP-966). Version 0, flexible (DescribeTopicPartitionsRequest
 * .json / DescribeTopicPartitionsResponse.json). The Java admin client's describeTopics uses it
 * (falling back to Metadata without it): topics and their partitions, paged by a cursor so that
 * topics of many partitions need not fit one response.
 *
 * Request grammar:
 *   topics [name string, tags], response_partition_limit int32 (default 2000),
 *   cursor nullable struct [topic_name string, partition_index int32, tags], tags
 * Response grammar:
 *   throttle_time_ms int32,
 *   topics [error_code int16, name nullable string, topic_id uuid, is_internal bool,
 *           partitions [error_code int16, partition_index int32, leader_id int32,
 *                       leader_epoch int32, replica_nodes [int32], isr_nodes [int32],
 *                       eligible_leader_replicas nullable [int32],
 *                       last_known_elr nullable [int32], offline_replicas [int32], tags],
 *           topic_authorized_operations int32, tags],
 *   next_cursor nullable struct [topic_name string, partition_index int32, tags], tags
 */
import { defineApi, type Field } from '../schema.js'

export interface TopicPartitionCursor {
  topicName: string
  partitionIndex: number
}

export interface DescribeTopicPartitionsRequest {
  topics: { name: string }[]
  responsePartitionLimit: number
  cursor: TopicPartitionCursor | null
}

export interface DescribedTopicPartition {
  errorCode: number
  partitionIndex: number
  leaderId: number
  leaderEpoch: number
  replicaNodes: number[]
  isrNodes: number[]
  eligibleLeaderReplicas: number[] | null
  lastKnownElr: number[] | null
  offlineReplicas: number[]
}

export interface DescribedTopic {
  errorCode: number
  name: string | null
  topicId: Buffer
  isInternal: boolean
  partitions: DescribedTopicPartition[]
  topicAuthorizedOperations: number
}

export interface DescribeTopicPartitionsResponse {
  throttleTimeMs: number
  topics: DescribedTopic[]
  nextCursor: TopicPartitionCursor | null
}

const cursor: Field[] = [
  { name: 'topicName', type: 'string', versions: [0] },
  { name: 'partitionIndex', type: 'int32', versions: [0] },
]

const request: Field[] = [
  { name: 'topics', type: [{ name: 'name', type: 'string', versions: [0] }], versions: [0] },
  { name: 'responsePartitionLimit', type: 'int32', versions: [0], default: 2000 },
  { name: 'cursor', type: { struct: cursor }, versions: [0], nullableFrom: 0, default: null },
]

const response: Field[] = [
  { name: 'throttleTimeMs', type: 'int32', versions: [0] },
  {
    name: 'topics',
    type: [
      { name: 'errorCode', type: 'int16', versions: [0] },
      { name: 'name', type: 'string', versions: [0], nullableFrom: 0 },
      { name: 'topicId', type: 'uuid', versions: [0] },
      { name: 'isInternal', type: 'bool', versions: [0] },
      {
        name: 'partitions',
        type: [
          { name: 'errorCode', type: 'int16', versions: [0] },
          { name: 'partitionIndex', type: 'int32', versions: [0] },
          { name: 'leaderId', type: 'int32', versions: [0] },
          { name: 'leaderEpoch', type: 'int32', versions: [0], default: -1 },
          { name: 'replicaNodes', type: { items: 'int32' }, versions: [0] },
          { name: 'isrNodes', type: { items: 'int32' }, versions: [0] },
          { name: 'eligibleLeaderReplicas', type: { items: 'int32' }, versions: [0],
            nullableFrom: 0, default: null },
          { name: 'lastKnownElr', type: { items: 'int32' }, versions: [0], nullableFrom: 0,
            default: null },
          { name: 'offlineReplicas', type: { items: 'int32' }, versions: [0] },
        ],
        versions: [0],
      },
      { name: 'topicAuthorizedOperations', type: 'int32', versions: [0], default: -2147483648 },
    ],
    versions: [0],
  },
  { name: 'nextCursor', type: { struct: cursor }, versions: [0], nullableFrom: 0, default: null },
]

export const DescribeTopicPartitions = defineApi<DescribeTopicPartitionsRequest,
DescribeTopicPartitionsResponse>({
  key: 75, name: 'DescribeTopicPartitions', minVersion: 0, maxVersion: 0, flexibleFrom: 0,
  request, response,
  // Kafka's DescribeTopicPartitionsRequest.getErrorResponse: the error for every topic named.
  errorEcho: { topics: { from: 'topics', each: { name: 'name' } } },
})
