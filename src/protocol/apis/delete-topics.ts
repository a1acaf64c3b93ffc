/**
 * DeleteTopics (key 20). Codec versions 0-6, flexible from 4.
 *
 * Version history (Kafka's DeleteTopicsRequest.json / DeleteTopicsResponse.json):
 *   v1 adds throttle_time_ms to the response; v2 and v3 are v1 (KIP-219 throttling); v4 is
 *   flexible (KIP-482); v5 adds error_message (KIP-599); v6 names topics by name or id
 *   (KIP-516): topic_names becomes a topics array of (name, topic_id), and responses carry the
 *   topic id with a nullable name.
 *
 * Request grammar:
 *   v0-v5: topic_names array[string], timeout_ms int32, (tags v4+)
 *   v6:    topics compact_array[name compact_nullable_string, topic_id uuid, tags],
 *          timeout_ms int32, tags
 * Response grammar:
 *   throttle_time_ms int32 (v1+), responses array[name string (nullable v6+),
 *   topic_id uuid (v6+), error_code int16, error_message nullable_string (v5+), (tags v4+)],
 *   (tags v4+)
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
  // Kafka's DeleteTopicsRequest.getErrorResponse: the error for every topic, named in
  // topic_names up to v5 and in topics from v6.
  errorEcho: {
    responses: [{ from: 'topicNames', each: 'name' },
      { from: 'topics', each: { name: 'name', topicId: 'topicId' } }],
  },
})
