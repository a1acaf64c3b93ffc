/**
 * ListPartitionReassignments (key 46, KIP-455). Codec version 0, flexible.
 *
 * Request grammar:
 *   timeout_ms int32, topics nullable_array[name string, partition_indexes array[int32], tags],
 *   tags
 * Response grammar:
 *   throttle_time_ms int32, error_code int16, error_message nullable_string, topics array[
 *   name string, partitions array[partition_index int32, replicas array[int32],
 *   adding_replicas array[int32], removing_replicas array[int32], tags], tags], tags
 */
import { defineApi } from '../schema.js'

export interface ListPartitionReassignmentsRequest {
  timeoutMs: number
  /** null: every reassignment in progress. */
  topics: { name: string, partitionIndexes: number[] }[] | null
}

export interface ListPartitionReassignmentsResponse {
  throttleTimeMs: number
  errorCode: number
  errorMessage: string | null
  topics: {
    name: string
    partitions: { partitionIndex: number, replicas: number[], addingReplicas: number[],
      removingReplicas: number[] }[]
  }[]
}

export const ListPartitionReassignments = defineApi<ListPartitionReassignmentsRequest,
ListPartitionReassignmentsResponse>({
  key: 46,
  name: 'ListPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: [
    { name: 'timeoutMs', type: 'int32', versions: [0], default: 60_000 },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        { name: 'partitionIndexes', type: { items: 'int32' }, versions: [0] },
      ],
      versions: [0],
      nullableFrom: 0,
      default: null,
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0, default: null },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'replicas', type: { items: 'int32' }, versions: [0] },
            { name: 'addingReplicas', type: { items: 'int32' }, versions: [0] },
            { name: 'removingReplicas', type: { items: 'int32' }, versions: [0] },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  // Kafka's ListPartitionReassignmentsRequest.getErrorResponse: the top-level error only.
})
