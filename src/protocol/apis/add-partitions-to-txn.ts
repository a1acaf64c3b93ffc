/**
 * AddPartitionsToTxn (key 24, KIP-98). Codec versions 0-5, flexible from 3.
 *
 * Version history (Kafka's AddPartitionsToTxnRequest.json / ...Response.json):
 *   v1 is v0 (KIP-219 throttling); v2 is v1 (PRODUCER_FENCED, KIP-588); v3 is flexible
 *   (KIP-482). v4+ (KIP-890) is a broker-to-broker batched form (transactions array,
 *   verify_only; clients use v3 and below); v5 may answer TRANSACTION_ABORTABLE.
 *
 * Request grammar (v0-v3):
 *   v3_and_below_transactional_id string, v3_and_below_producer_id int64,
 *   v3_and_below_producer_epoch int16, v3_and_below_topics array[name string,
 *   partitions array[int32], (tags v3)], (tags v3)
 * Response grammar (v0-v3):
 *   throttle_time_ms int32, results_by_topic_v3_and_below array[name string,
 *   results_by_partition array[partition_index int32, partition_error_code int16, (tags v3)],
 *   (tags v3)], (tags v3)
 */
import { defineApi, type Field } from '../schema.js'

export interface AddPartitionsToTxnTopic {
  name: string
  partitions: number[]
}

export interface AddPartitionsToTxnTransaction {
  transactionalId: string
  producerId: number
  producerEpoch: number
  verifyOnly: boolean
  topics: AddPartitionsToTxnTopic[]
}

export interface AddPartitionsToTxnRequest {
  /** v4+ only (broker to broker). */
  transactions?: AddPartitionsToTxnTransaction[]
  v3AndBelowTransactionalId: string
  v3AndBelowProducerId: number
  v3AndBelowProducerEpoch: number
  v3AndBelowTopics: AddPartitionsToTxnTopic[]
}

export interface AddPartitionsToTxnTopicResult {
  name: string
  resultsByPartition: { partitionIndex: number, partitionErrorCode: number }[]
}

export interface AddPartitionsToTxnResponse {
  throttleTimeMs: number
  /** v4+ only. */
  errorCode?: number
  resultsByTransaction?: { transactionalId: string,
    topicResults: AddPartitionsToTxnTopicResult[] }[]
  resultsByTopicV3AndBelow: AddPartitionsToTxnTopicResult[]
}

const topicFields = (from: number): Field[] => [
  { name: 'name', type: 'string', versions: [from] },
  { name: 'partitions', type: { items: 'int32' }, versions: [from] },
]

const topicResultFields = (from: number): Field[] => [
  { name: 'name', type: 'string', versions: [from] },
  {
    name: 'resultsByPartition',
    type: [
      { name: 'partitionIndex', type: 'int32', versions: [from] },
      { name: 'partitionErrorCode', type: 'int16', versions: [from] },
    ],
    versions: [from],
  },
]

export const AddPartitionsToTxn = defineApi<AddPartitionsToTxnRequest,
AddPartitionsToTxnResponse>({
  key: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 3,
  request: [
    {
      name: 'transactions',
      type: [
        { name: 'transactionalId', type: 'string', versions: [4] },
        { name: 'producerId', type: 'int64', versions: [4] },
        { name: 'producerEpoch', type: 'int16', versions: [4] },
        { name: 'verifyOnly', type: 'bool', versions: [4] },
        { name: 'topics', type: topicFields(4), versions: [4] },
      ],
      versions: [4],
    },
    { name: 'v3AndBelowTransactionalId', type: 'string', versions: [0, 3] },
    { name: 'v3AndBelowProducerId', type: 'int64', versions: [0, 3] },
    { name: 'v3AndBelowProducerEpoch', type: 'int16', versions: [0, 3] },
    { name: 'v3AndBelowTopics', type: topicFields(0), versions: [0, 3] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'errorCode', type: 'int16', versions: [4] },
    {
      name: 'resultsByTransaction',
      type: [
        { name: 'transactionalId', type: 'string', versions: [4] },
        { name: 'topicResults', type: topicResultFields(4), versions: [4] },
      ],
      versions: [4],
    },
    { name: 'resultsByTopicV3AndBelow', type: topicResultFields(0), versions: [0, 3] },
  ],
  // Kafka's AddPartitionsToTxnRequest.getErrorResponse: the error for every partition,
  // of the one transaction up to v3, of every transaction (and at the top) from v4.
  errorEcho: {
    resultsByTransaction: { from: 'transactions', each: {
      transactionalId: 'transactionalId',
      topicResults: { from: 'topics', each: {
        name: 'name', resultsByPartition: { from: 'partitions', each: 'partitionIndex' },
      } },
    } },
    resultsByTopicV3AndBelow: { from: 'v3AndBelowTopics', each: {
      name: 'name', resultsByPartition: { from: 'partitions', each: 'partitionIndex' },
    } },
  },
})
