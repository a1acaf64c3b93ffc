/**
 * OffsetDelete (key 47, KIP-496). Codec version 0 only; never flexible.
 *
 * Version history (Kafka's OffsetDeleteRequest.json / OffsetDeleteResponse.json): v0 only.
 * Deletes a group's committed offsets for partitions it no longer subscribes to.
 *
 * Request grammar:
 *   group_id string, topics array[name string, partitions array[partition_index int32]]
 * Response grammar:
 *   error_code int16, throttle_time_ms int32, topics array[name string,
 *   partitions array[partition_index int32, error_code int16]]
 * Note the response starts with error_code, before throttle_time_ms.
 */
import { defineApi } from '../schema.js'

export interface OffsetDeleteRequest {
  groupId: string
  topics: { name: string, partitions: { partitionIndex: number }[] }[]
}

export interface OffsetDeleteResponse {
  errorCode: number
  throttleTimeMs: number
  topics: { name: string, partitions: { partitionIndex: number, errorCode: number }[] }[]
}

export const OffsetDelete = defineApi<OffsetDeleteRequest, OffsetDeleteResponse>({
  key: 47,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: Infinity,
  request: [
    { name: 'groupId', type: 'string', versions: [0] },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [{ name: 'partitionIndex', type: 'int32', versions: [0] }],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  response: [
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'errorCode', type: 'int16', versions: [0] },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
})
