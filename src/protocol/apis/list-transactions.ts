/**
 * ListTransactions (key 66, KIP-664). Versions 0-2, all flexible (ListTransactionsRequest.json
 * / ListTransactionsResponse.json): the transactional ids a coordinator knows, filtered, as
 * `kafka-transactions list` and the Java admin client's listTransactions show them.
 *
 * Version history:
 *   v1 adds duration_filter (KIP-994): only transactions running longer than it.
 *   v2 adds transactional_id_pattern (KIP-1152): only ids matching the regular expression;
 *      a pattern that does not compile answers INVALID_REGULAR_EXPRESSION.
 *
 * Request grammar:
 *   state_filters [string], producer_id_filters [int64], duration_filter int64 (v1+),
 *   transactional_id_pattern nullable string (v2+), tags
 * Response grammar:
 *   throttle_time_ms int32, error_code int16, unknown_state_filters [string],
 *   transaction_states [transactional_id string, producer_id int64, transaction_state string,
 *                       tags], tags
 */
import { defineApi, type Field } from '../schema.js'

export interface ListTransactionsRequest {
  stateFilters: string[]
  producerIdFilters: number[]
  /** -1 (the default, and always before v1): no duration filter. */
  durationFilter: number
  /** null (the default, and always before v2): no pattern. */
  transactionalIdPattern: string | null
}

export interface ListTransactionsResponse {
  throttleTimeMs: number
  errorCode: number
  unknownStateFilters: string[]
  transactionStates: { transactionalId: string, producerId: number, transactionState: string }[]
}

const request: Field[] = [
  { name: 'stateFilters', type: { items: 'string' }, versions: [0] },
  { name: 'producerIdFilters', type: { items: 'int64' }, versions: [0] },
  { name: 'durationFilter', type: 'int64', versions: [1], default: -1 },
  { name: 'transactionalIdPattern', type: 'string', versions: [2], nullableFrom: 2,
    default: null },
]

const response: Field[] = [
  { name: 'throttleTimeMs', type: 'int32', versions: [0] },
  { name: 'errorCode', type: 'int16', versions: [0] },
  { name: 'unknownStateFilters', type: { items: 'string' }, versions: [0] },
  {
    name: 'transactionStates',
    type: [
      { name: 'transactionalId', type: 'string', versions: [0] },
      { name: 'producerId', type: 'int64', versions: [0] },
      { name: 'transactionState', type: 'string', versions: [0] },
    ],
    versions: [0],
  },
]

// Kafka's ListTransactionsRequest.getErrorResponse answers the top-level error code only.
export const ListTransactions = defineApi<ListTransactionsRequest, ListTransactionsResponse>({
  key: 66, name: 'ListTransactions', minVersion: 0, maxVersion: 2, flexibleFrom: 0,
  request, response,
})
