/**
 * AddOffsetsToTxn (key 25, KIP-98). Codec versions 0-4, flexible from 3.
 *
 * Version history (Kafka's AddOffsetsToTxnRequest.json / ...Response.json):
 *   v1 is v0 (KIP-219 throttling); v2 is v1 (PRODUCER_FENCED, KIP-588); v3 is flexible
 *   (KIP-482); v4 (KIP-890, TRANSACTION_ABORTABLE) has v3's layout.
 *
 * Request grammar:
 *   transactional_id string, producer_id int64, producer_epoch int16, group_id string,
 *   (tags v3)
 * Response grammar:
 *   throttle_time_ms int32, error_code int16, (tags v3)
 */
import { defineApi } from '../schema.js'

export interface AddOffsetsToTxnRequest {
  transactionalId: string
  producerId: number
  producerEpoch: number
  groupId: string
}

export interface AddOffsetsToTxnResponse {
  throttleTimeMs: number
  errorCode: number
}

export const AddOffsetsToTxn = defineApi<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
  key: 25,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: [
    { name: 'transactionalId', type: 'string', versions: [0] },
    { name: 'producerId', type: 'int64', versions: [0] },
    { name: 'producerEpoch', type: 'int16', versions: [0] },
    { name: 'groupId', type: 'string', versions: [0] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'errorCode', type: 'int16', versions: [0] },
  ],
})
