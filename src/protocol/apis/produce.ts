/**
 * Produce (key 0). Versions 3-13, flexible from 9 (ProduceRequest.json /
 * ProduceResponse.json). 3 is the oldest Kafka 4.x serves (KIP-896) and librdkafka's MsgVer2
 * gate.
 *
 * Version history: v3 adds transactional_id and requires record batches of magic 2 (the
 * first version we implement, as Kafka 4.0); v4 may answer KAFKA_STORAGE_ERROR; v5 adds
 * log_start_offset; v6 and v7 are v5 (v7 allows zstd, KIP-110); v8 adds record_errors and
 * error_message (KIP-467); v9 is flexible; v10 adds the tagged current_leader and
 * node_endpoints (KIP-951: leader discovery on NOT_LEADER_OR_FOLLOWER; never sent here, where
 * the one broker leads every partition); v11 may answer TRANSACTION_ABORTABLE and v12 lets a
 * transaction add partitions implicitly (both KIP-890; no transactions here); v13 replaces
 * topic names with topic ids (KIP-516).
 * acks=0 requests get no response at all (see the broker handler).
 *
 * Request grammar:
 *   transactional_id nullable string, acks int16, timeout_ms int32,
 *   topic_data [name string (v0-12), topic_id uuid (v13+),
 *               partition_data [index int32, records nullable bytes, (tags v9+)],
 *               (tags v9+)], (tags v9+)
 * Response grammar (throttle_time_ms comes AFTER the responses array):
 *   responses [name string (v0-12), topic_id uuid (v13+),
 *              partition_responses [index int32, error_code int16, base_offset int64,
 *                                   log_append_time_ms int64, log_start_offset int64 (v5+),
 *                                   record_errors [batch_index int32,
 *                                                  batch_index_error_message nullable string,
 *                                                  (tags v9+)] (v8+),
 *                                   error_message nullable string (v8+), (tags v9+)],
 *              (tags v9+)],
 *   throttle_time_ms int32, (tags v9+)
 *
 * Records are opaque here: decoding returns a view into the request frame (no copy), which
 * the handler validates (src/records/validate.ts) before appending.
 */
import { defineApi, type Field } from '../schema.js'

export interface ProduceRequest {
  transactionalId: string | null
  acks: number
  timeoutMs: number
  topicData: {
    name: string
    topicId?: Buffer
    partitionData: { index: number, records: Buffer | null }[]
  }[]
}

export interface ProduceResponse {
  responses: {
    name: string
    topicId?: Buffer
    partitionResponses: {
      index: number
      errorCode: number
      baseOffset: number
      logAppendTimeMs: number
      logStartOffset: number
      recordErrors: { batchIndex: number, batchIndexErrorMessage: string | null }[]
      errorMessage: string | null
    }[]
  }[]
  throttleTimeMs: number
}

const request: Field[] = [
  { name: 'transactionalId', type: 'string', versions: [3], nullableFrom: 0, default: null },
  { name: 'acks', type: 'int16', versions: [0] },
  { name: 'timeoutMs', type: 'int32', versions: [0] },
  {
    name: 'topicData',
    type: [
      { name: 'name', type: 'string', versions: [0, 12] },
      { name: 'topicId', type: 'uuid', versions: [13] },
      {
        name: 'partitionData',
        type: [
          { name: 'index', type: 'int32', versions: [0] },
          { name: 'records', type: 'bytes', versions: [0], nullableFrom: 0 },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
]

const response: Field[] = [
  {
    name: 'responses',
    type: [
      { name: 'name', type: 'string', versions: [0, 12] },
      { name: 'topicId', type: 'uuid', versions: [13] },
      {
        name: 'partitionResponses',
        type: [
          { name: 'index', type: 'int32', versions: [0] },
          { name: 'errorCode', type: 'int16', versions: [0] },
          { name: 'baseOffset', type: 'int64', versions: [0], default: -1 },
          { name: 'logAppendTimeMs', type: 'int64', versions: [2], default: -1 },
          { name: 'logStartOffset', type: 'int64', versions: [5], default: -1 },
          {
            name: 'recordErrors',
            type: [
              { name: 'batchIndex', type: 'int32', versions: [8] },
              { name: 'batchIndexErrorMessage', type: 'string', versions: [8], nullableFrom: 8,
                default: null },
            ],
            versions: [8],
          },
          { name: 'errorMessage', type: 'string', versions: [8], nullableFrom: 8, default: null },
        ],
        versions: [0],
      },
    ],
    versions: [0],
  },
  { name: 'throttleTimeMs', type: 'int32', versions: [1] },
]

export const Produce = defineApi<ProduceRequest, ProduceResponse>({
  key: 0, name: 'Produce', minVersion: 3, maxVersion: 13, flexibleFrom: 9, request, response,
  // Kafka's ProduceRequest.getErrorResponse: the error for every partition (an acks=0
  // request is never answered, error or not).
  errorEcho: {
    responses: { from: 'topicData', each: {
      name: 'name', topicId: 'topicId',
      partitionResponses: { from: 'partitionData', each: { index: 'index' } },
    } },
  },
})
