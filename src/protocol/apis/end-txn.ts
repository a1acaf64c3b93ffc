/**
 * EndTxn (key 26, KIP-98). Codec versions 0-5, flexible from 3.
 *
 * Version history (Kafka's EndTxnRequest.json / EndTxnResponse.json):
 *   v1 is v0 (KIP-219 throttling); v2 is v1 (PRODUCER_FENCED, KIP-588); v3 is flexible
 *   (KIP-482); v4 is v3 (KIP-890 errors); v5 returns the producer id and epoch (KIP-890 part
 *   2), declared here gated at v5.
 *
 * Request grammar:
 *   transactional_id string, producer_id int64, producer_epoch int16, committed bool,
 *   (tags v3)
 * Response grammar:
 *   throttle_time_ms int32, error_code int16, producer_id int64 (v5+),
 *   producer_epoch int16 (v5+), (tags v3)
 */
import { defineApi } from '../schema.js'

export interface EndTxnRequest {
  transactionalId: string
  producerId: number
  producerEpoch: number
  /** true = commit, false = abort. */
  committed: boolean
}

export interface EndTxnResponse {
  throttleTimeMs: number
  errorCode: number
  /** v5+ only. */
  producerId?: number
  producerEpoch?: number
}

export const EndTxn = defineApi<EndTxnRequest, EndTxnResponse>({
  key: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 3,
  request: [
    { name: 'transactionalId', type: 'string', versions: [0] },
    { name: 'producerId', type: 'int64', versions: [0] },
    { name: 'producerEpoch', type: 'int16', versions: [0] },
    { name: 'committed', type: 'bool', versions: [0] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'producerId', type: 'int64', versions: [5], default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: [5], default: -1 },
  ],
})
