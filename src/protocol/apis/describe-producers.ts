/**
 * DescribeProducers (key 61, KIP-664). Version 0, flexible (DescribeProducersRequest.json /
 * DescribeProducersResponse.json): the idempotent and transactional producers with state in
 * each partition, as `kafka-transactions describe-producers` and the Java admin client's
 * describeProducers show them.
 *
 * Request grammar:
 *   topics [name string, partition_indexes [int32], tags], tags
 * Response grammar:
 *   throttle_time_ms int32,
 *   topics [name string,
 *           partitions [partition_index int32, error_code int16,
 *                       error_message nullable string,
 *                       active_producers [producer_id int64, producer_epoch int32,
 *                                         last_sequence int32, last_timestamp int64,
 *                                         coordinator_epoch int32,
 *                                         current_txn_start_offset int64, tags], tags],
 *           tags], tags
 */
import { defineApi, type Field } from '../schema.js'

export interface DescribeProducersRequest {
  topics: { name: string, partitionIndexes: number[] }[]
}

export interface ActiveProducer {
  producerId: number
  producerEpoch: number
  lastSequence: number
  lastTimestamp: number
  coordinatorEpoch: number
  currentTxnStartOffset: number
}

export interface DescribeProducersResponse {
  throttleTimeMs: number
  topics: {
    name: string
    partitions: {
      partitionIndex: number
      errorCode: number
      errorMessage: string | null
      activeProducers: ActiveProducer[]
    }[]
  }[]
}

const request: Field[] = [
  {
    name: 'topics',
    type: [
      { name: 'name', type: 'string', versions: [0] },
      { name: 'partitionIndexes', type: { items: 'int32' }, versions: [0] },
    ],
    versions: [0],
  },
]

const response: Field[] = [
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
          { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0, default: null },
          {
            name: 'activeProducers',
            type: [
              { name: 'producerId', type: 'int64', versions: [0] },
              { name: 'producerEpoch', type: 'int32', versions: [0] },
              { name: 'lastSequence', type: 'int32', versions: [0], default: -1 },
              { name: 'lastTimestamp', type: 'int64', versions: [0], default: -1 },
              { name: 'coordinatorEpoch', type: 'int32', versions: [0] },
              { name: 'currentTxnStartOffset', type: 'int64', versions: [0], default: -1 },
            ],
            versions: [0],
          },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
]

export const DescribeProducers = defineApi<DescribeProducersRequest,
DescribeProducersResponse>({
  key: 61, name: 'DescribeProducers', minVersion: 0, maxVersion: 0, flexibleFrom: 0,
  request, response,
  // Kafka's DescribeProducersRequest.getErrorResponse: the error for every partition.
  errorEcho: {
    topics: { from: 'topics', each: {
      name: 'name', partitions: { from: 'partitionIndexes', each: 'partitionIndex' },
    } },
  },
})
