/**
 * DeleteTopics (key 20). Codec versions 0-6, flexible from 4. v1: throttle_time_ms;
 * v5: error_message; v6: topics by name or id.
 */
import { defineApi } from '../schema.js'

export interface DeleteTopicsRequest {
  topics: { name: string | null, topicId: Buffer }[]
  topicNames: string[]
  timeoutMs: number
}

export interface DeleteTopicsResponse {
  throttleTimeMs: number
  responses: { name: string | null, topicId: Buffer, errorCode: number,
    errorMessage: string | null }[]
}

export const DeleteTopics = defineApi<DeleteTopicsRequest, DeleteTopicsResponse>({
  key: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 4,
  request: [
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [6], nullableFrom: 6 },
        { name: 'topicId', type: 'uuid', versions: [6] },
      ],
      versions: [6],
    },
    { name: 'topicNames', type: { items: 'string' }, versions: [0, 5] },
    { name: 'timeoutMs', type: 'int32', versions: [0] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [1] },
    {
      name: 'responses',
      type: [
        { name: 'name', type: 'string', versions: [0], nullableFrom: 6 },
        { name: 'topicId', type: 'uuid', versions: [6] },
        { name: 'errorCode', type: 'int16', versions: [0] },
        { name: 'errorMessage', type: 'string', versions: [5], nullableFrom: 5, default: null },
      ],
      versions: [0],
    },
  ],
})
