/**
 * DescribeTransactions (key 65, KIP-664). Version 0, flexible (DescribeTransactionsRequest.json
 * / DescribeTransactionsResponse.json): the coordinator's state of each transactional id, as
 * `kafka-transactions describe` and the Java admin client's describeTransactions show it.
 *
 * Request grammar:
 *   transactional_ids [string], tags
 * Response grammar:
 *   throttle_time_ms int32,
 *   transaction_states [error_code int16, transactional_id string, transaction_state string,
 *                       transaction_timeout_ms int32, transaction_start_time_ms int64,
 *                       producer_id int64, producer_epoch int16,
 *                       topics [topic string, partitions [int32], tags], tags], tags
 */
import { defineApi, type Field } from '../schema.js'

export interface DescribeTransactionsRequest {
  transactionalIds: string[]
}

export interface DescribedTransaction {
  errorCode: number
  transactionalId: string
  transactionState: string
  transactionTimeoutMs: number
  transactionStartTimeMs: number
  producerId: number
  producerEpoch: number
  topics: { topic: string, partitions: number[] }[]
}

export interface DescribeTransactionsResponse {
  throttleTimeMs: number
  transactionStates: DescribedTransaction[]
}

const request: Field[] = [
  { name: 'transactionalIds', type: { items: 'string' }, versions: [0] },
]

const response: Field[] = [
  { name: 'throttleTimeMs', type: 'int32', versions: [0] },
  {
    name: 'transactionStates',
    type: [
      { name: 'errorCode', type: 'int16', versions: [0] },
      { name: 'transactionalId', type: 'string', versions: [0] },
      { name: 'transactionState', type: 'string', versions: [0] },
      { name: 'transactionTimeoutMs', type: 'int32', versions: [0] },
      { name: 'transactionStartTimeMs', type: 'int64', versions: [0], default: -1 },
      { name: 'producerId', type: 'int64', versions: [0], default: -1 },
      { name: 'producerEpoch', type: 'int16', versions: [0], default: -1 },
      {
        name: 'topics',
        type: [
          { name: 'topic', type: 'string', versions: [0] },
          { name: 'partitions', type: { items: 'int32' }, versions: [0] },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
]

export const DescribeTransactions = defineApi<DescribeTransactionsRequest,
DescribeTransactionsResponse>({
  key: 65, name: 'DescribeTransactions', minVersion: 0, maxVersion: 0, flexibleFrom: 0,
  request, response,
  // Kafka's DescribeTransactionsRequest.getErrorResponse: the error for every id asked.
  errorEcho: {
    transactionStates: { from: 'transactionalIds', each: 'transactionalId' },
  },
})
