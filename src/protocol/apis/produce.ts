/**
 * Produce (key 0). Codec versions 3-9, flexible from 9 (ProduceRequest/Response.json).
 * v3: transactional_id (magic 2 only from here); v5: log_start_offset; v8: record_errors and
 * error_message. throttle_time_ms comes AFTER the responses array.
 */
import { defineApi, type Field } from '../schema.js'

export interface ProduceRequest {
  transactionalId: string | null
  acks: number
  timeoutMs: number
  topicData: { name: string, partitionData: { index: number, records: Buffer | null }[] }[]
}

export interface ProduceResponse {
  responses: {
    name: string
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
      { name: 'name', type: 'string', versions: [0] },
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
      { name: 'name', type: 'string', versions: [0] },
      {
        name: 'partitionResponses',
        type: [
          { name: 'index', type: 'int32', versions: [0] },
          { name: 'errorCode', type: 'int16', versions: [0] },
          { name: 'baseOffset', type: 'int64', versions: [0] },
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
  key: 0, name: 'Produce', minVersion: 3, maxVersion: 9, flexibleFrom: 9, request, response,
})
