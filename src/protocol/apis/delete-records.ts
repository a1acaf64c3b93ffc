/**
 * DeleteRecords (key 21, KIP-107). Codec versions 0-2, flexible from 2.
 *
 * Version history (Kafka's DeleteRecordsRequest.json / DeleteRecordsResponse.json):
 *   v1 is v0 (KIP-219 throttling); v2 is flexible (KIP-482).
 *
 * Request grammar:
 *   topics array[name string, partitions array[partition_index int32, offset int64,
 *   (tags v2+)], (tags v2+)], timeout_ms int32, (tags v2+)
 * Response grammar:
 *   throttle_time_ms int32, topics array[name string, partitions array[
 *   partition_index int32, low_watermark int64, error_code int16, (tags v2+)], (tags v2+)],
 *   (tags v2+)
 */
import { defineApi } from '../schema.js'

export interface DeleteRecordsRequest {
  topics: { name: string, partitions: { partitionIndex: number, offset: number }[] }[]
  timeoutMs: number
}

export interface DeleteRecordsResponse {
  throttleTimeMs: number
  topics: {
    name: string
    partitions: { partitionIndex: number, lowWatermark: number, errorCode: number }[]
  }[]
}

export const DeleteRecords = defineApi<DeleteRecordsRequest, DeleteRecordsResponse>({
  key: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'offset', type: 'int64', versions: [0] },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
    { name: 'timeoutMs', type: 'int32', versions: [0] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'lowWatermark', type: 'int64', versions: [0], default: -1 },
            { name: 'errorCode', type: 'int16', versions: [0] },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  // Kafka's DeleteRecordsRequest.getErrorResponse: the error for every partition.
  errorEcho: {
    topics: { from: 'topics', each: {
      name: 'name', partitions: { from: 'partitions', each: { partitionIndex: 'partitionIndex' } },
    } },
  },
})
