/**
 * ElectLeaders (key 43, KIP-183; election types KIP-460). Codec versions 0-2, flexible from 2.
 *
 * Version history (Kafka's ElectLeadersRequest.json / ElectLeadersResponse.json):
 *   v1 adds the request's election_type (0 preferred, 1 unclean) and the response's top-level
 *   error_code; v2 is flexible (KIP-482).
 *
 * Request grammar:
 *   election_type int8 (v1+), topic_partitions nullable_array[topic string,
 *   partitions array[int32], (tags v2+)], timeout_ms int32, (tags v2+)
 * Response grammar:
 *   throttle_time_ms int32, error_code int16 (v1+), replica_election_results array[
 *   topic string, partition_result array[partition_id int32, error_code int16,
 *   error_message nullable_string, (tags v2+)], (tags v2+)], (tags v2+)
 */
import { defineApi } from '../schema.js'

/** Kafka's ElectionType: PREFERRED (0) and UNCLEAN (1). */
export const ELECTION_TYPE_PREFERRED = 0
export const ELECTION_TYPE_UNCLEAN = 1

export interface ElectLeadersRequest {
  electionType: number
  /** null: every partition of the cluster. */
  topicPartitions: { topic: string, partitions: number[] }[] | null
  timeoutMs: number
}

export interface ElectLeadersResponse {
  throttleTimeMs: number
  errorCode: number
  replicaElectionResults: {
    topic: string
    partitionResult: { partitionId: number, errorCode: number, errorMessage: string | null }[]
  }[]
}

export const ElectLeaders = defineApi<ElectLeadersRequest, ElectLeadersResponse>({
  key: 43,
  name: 'ElectLeaders',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [
    // v0 only elects preferred replicas.
    { name: 'electionType', type: 'int8', versions: [1], default: ELECTION_TYPE_PREFERRED },
    {
      name: 'topicPartitions',
      type: [
        { name: 'topic', type: 'string', versions: [0] },
        { name: 'partitions', type: { items: 'int32' }, versions: [0] },
      ],
      versions: [0],
      nullableFrom: 0,
    },
    { name: 'timeoutMs', type: 'int32', versions: [0], default: 60_000 },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'errorCode', type: 'int16', versions: [1] },
    {
      name: 'replicaElectionResults',
      type: [
        { name: 'topic', type: 'string', versions: [0] },
        {
          name: 'partitionResult',
          type: [
            { name: 'partitionId', type: 'int32', versions: [0] },
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
  // Kafka's ElectLeadersRequest.getErrorResponse: the error for every partition asked for.
  errorEcho: {
    replicaElectionResults: { from: 'topicPartitions', each: {
      topic: 'topic', partitionResult: { from: 'partitions', each: 'partitionId' },
    } },
  },
})
