/**
 * CreatePartitions (key 37, KIP-195). Codec versions 0-3, flexible from 2.
 *
 * Version history (Kafka's CreatePartitionsRequest.json / CreatePartitionsResponse.json):
 *   v1 is v0 (KIP-219 throttling); v2 is flexible (KIP-482); v3 is v2 (quota errors, KIP-599).
 *
 * Request grammar:
 *   topics array[name string, count int32, assignments nullable_array[
 *   broker_ids array[int32], (tags v2+)], (tags v2+)], timeout_ms int32,
 *   validate_only bool, (tags v2+)
 * Response grammar:
 *   throttle_time_ms int32, results array[name string, error_code int16,
 *   error_message nullable_string, (tags v2+)], (tags v2+)
 */
import { defineApi } from '../schema.js'

export interface CreatePartitionsRequest {
  topics: { name: string, count: number, assignments: { brokerIds: number[] }[] | null }[]
  timeoutMs: number
  validateOnly: boolean
}

export interface CreatePartitionsResponse {
  throttleTimeMs: number
  results: { name: string, errorCode: number, errorMessage: string | null }[]
}

export const CreatePartitions = defineApi<CreatePartitionsRequest, CreatePartitionsResponse>({
  key: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: [
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        { name: 'count', type: 'int32', versions: [0] },
        {
          name: 'assignments',
          type: [{ name: 'brokerIds', type: { items: 'int32' }, versions: [0] }],
          versions: [0],
          nullableFrom: 0,
        },
      ],
      versions: [0],
    },
    { name: 'timeoutMs', type: 'int32', versions: [0] },
    { name: 'validateOnly', type: 'bool', versions: [0] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    {
      name: 'results',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        { name: 'errorCode', type: 'int16', versions: [0] },
        { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0, default: null },
      ],
      versions: [0],
    },
  ],
  // Kafka's CreatePartitionsRequest.getErrorResponse: the error for every topic.
  errorEcho: { results: { from: 'topics', each: { name: 'name' } } },
})
