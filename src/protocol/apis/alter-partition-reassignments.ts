/**
 * AlterPartitionReassignments (key 45, KIP-455). Codec versions 0-1, flexible from 0.
 *
 * Version history (Kafka 4.1's AlterPartitionReassignmentsRequest.json / Response.json):
 *   v1 adds allow_replication_factor_change to the request and the response (KIP-860;
 *   default true: a reassignment may change a partition's replica count).
 *
 * Request grammar:
 *   timeout_ms int32, allow_replication_factor_change bool (v1+), topics array[name string,
 *   partitions array[partition_index int32, replicas nullable_array[int32], tags], tags], tags
 * Response grammar:
 *   throttle_time_ms int32, allow_replication_factor_change bool (v1+), error_code int16,
 *   error_message nullable_string, responses array[name string, partitions array[
 *   partition_index int32, error_code int16, error_message nullable_string, tags], tags], tags
 */
import { defineApi } from '../schema.js'

export interface AlterPartitionReassignmentsRequest {
  timeoutMs: number
  allowReplicationFactorChange: boolean
  topics: {
    name: string
    /** replicas null cancels the partition's reassignment. */
    partitions: { partitionIndex: number, replicas: number[] | null }[]
  }[]
}

export interface AlterPartitionReassignmentsResponse {
  throttleTimeMs: number
  allowReplicationFactorChange: boolean
  errorCode: number
  errorMessage: string | null
  responses: {
    name: string
    partitions: { partitionIndex: number, errorCode: number, errorMessage: string | null }[]
  }[]
}

export const AlterPartitionReassignments = defineApi<AlterPartitionReassignmentsRequest,
AlterPartitionReassignmentsResponse>({
  key: 45,
  name: 'AlterPartitionReassignments',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 0,
  request: [
    { name: 'timeoutMs', type: 'int32', versions: [0], default: 60_000 },
    { name: 'allowReplicationFactorChange', type: 'bool', versions: [1], default: true },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'replicas', type: { items: 'int32' }, versions: [0], nullableFrom: 0,
              default: null },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'allowReplicationFactorChange', type: 'bool', versions: [1], default: true },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0, default: null },
    {
      name: 'responses',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        {
          name: 'partitions',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'errorCode', type: 'int16', versions: [0] },
            { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0,
              default: null },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  // Kafka's AlterPartitionReassignmentsRequest.getErrorResponse: every partition asked for.
  errorEcho: {
    allowReplicationFactorChange: 'allowReplicationFactorChange',
    responses: { from: 'topics', each: {
      name: 'name', partitions: { from: 'partitions', each: { partitionIndex: 'partitionIndex' } },
    } },
  },
})
