/**
 * InitProducerId (key 22). Versions 0-5, flexible from 2 (InitProducerIdRequest.json /
 * InitProducerIdResponse.json); min 0 for librdkafka's IdempotentProducer gate.
 *
 * Version history: v1 is v0 (throttling after the response, KIP-219); v2 is flexible; v3 adds
 * producer_id and producer_epoch to the request, so a producer can bump its epoch instead of
 * getting a new id (KIP-360); v4 is v3 (may return PRODUCER_FENCED); v5 is v4 (KIP-890: a
 * transactional producer's epoch is bumped at every transaction end).
 *
 * Request grammar:
 *   transactional_id nullable string, transaction_timeout_ms int32,
 *   producer_id int64 (v3+), producer_epoch int16 (v3+), (tags v2+)
 * Response grammar:
 *   throttle_time_ms int32, error_code int16, producer_id int64, producer_epoch int16,
 *   (tags v2+)
 */
import { defineApi, type Field } from '../schema.js'

export interface InitProducerIdRequest {
  transactionalId: string | null
  transactionTimeoutMs: number
  producerId: number
  producerEpoch: number
}

export interface InitProducerIdResponse {
  throttleTimeMs: number
  errorCode: number
  producerId: number
  producerEpoch: number
}

export const InitProducerId = defineApi<InitProducerIdRequest, InitProducerIdResponse>({
  key: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 2,
  request: [
    { name: 'transactionalId', type: 'string', versions: [0], nullableFrom: 0, default: null },
    { name: 'transactionTimeoutMs', type: 'int32', versions: [0] },
    { name: 'producerId', type: 'int64', versions: [3], default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: [3], default: -1 },
  ] satisfies Field[],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'producerId', type: 'int64', versions: [0], default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: [0], default: -1 },
  ],
})
