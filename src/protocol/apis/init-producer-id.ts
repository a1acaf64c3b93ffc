/**
 * InitProducerId (key 22). Codec versions 0-4, flexible from 2. v3 adds producer_id and
 * producer_epoch to the request (KIP-360 epoch bumps).
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
  maxVersion: 4,
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
