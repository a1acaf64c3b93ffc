/**
 * CreateTopics (key 19). Codec versions 0-7, flexible from 5.
 *
 * Version history (Kafka's CreateTopicsRequest.json / CreateTopicsResponse.json):
 *   v1 adds validate_only to the request and error_message to the response (KIP-108); v2 adds
 *   throttle_time_ms; v3 is v2 (KIP-219 throttling); v4 lets num_partitions and
 *   replication_factor be -1 for the broker defaults (KIP-464); v5 is flexible (KIP-482) and
 *   returns the created topic's partitions, replication factor and configs (KIP-525); v6 is v5
 *   (quota errors, KIP-599); v7 returns the topic id (KIP-516).
 *
 * Request grammar:
 *   topics array[name string, num_partitions int32, replication_factor int16,
 *   assignments array[partition_index int32, broker_ids array[int32], (tags v5+)],
 *   configs array[name string, value nullable_string, (tags v5+)], (tags v5+)],
 *   timeout_ms int32, validate_only bool (v1+), (tags v5+)
 * Response grammar:
 *   throttle_time_ms int32 (v2+), topics array[name string, topic_id uuid (v7+),
 *   error_code int16, error_message nullable_string (v1+), num_partitions int32 (v5+),
 *   replication_factor int16 (v5+), configs nullable_array[name string,
 *   value nullable_string, read_only bool, config_source int8, is_sensitive bool, tags] (v5+),
 *   (tags v5+: tag 0 = topic_config_error_code int16)], (tags v5+)
 * Strings and arrays are compact from v5. The schema codec reads tagged fields and drops them,
 * and writes none: topic_config_error_code (tagged, ignorable) is never sent.
 */
import { defineApi } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface CreateTopicsRequest {
  topics: {
    name: string
    numPartitions: number
    replicationFactor: number
    assignments: { partitionIndex: number, brokerIds: number[] }[]
    configs: { name: string, value: string | null }[]
  }[]
  timeoutMs: number
  validateOnly: boolean
}

export interface CreateTopicsResponse {
  throttleTimeMs: number
  topics: {
    name: string
    topicId?: Buffer
    errorCode: number
    errorMessage: string | null
    numPartitions: number
    replicationFactor: number
    configs: { name: string, value: string | null, readOnly: boolean, configSource: number,
      isSensitive: boolean }[] | null
  }[]
}

export const CreateTopics = defineApi<CreateTopicsRequest, CreateTopicsResponse>({
  key: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 5,
  request: [
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        { name: 'numPartitions', type: 'int32', versions: [0] },
        { name: 'replicationFactor', type: 'int16', versions: [0] },
        {
          name: 'assignments',
          type: [
            { name: 'partitionIndex', type: 'int32', versions: [0] },
            { name: 'brokerIds', type: { items: 'int32' }, versions: [0] },
          ],
          versions: [0],
        },
        {
          name: 'configs',
          type: [
            { name: 'name', type: 'string', versions: [0] },
            { name: 'value', type: 'string', versions: [0], nullableFrom: 0,
              maxBytes: STRING_BYTES_MAX },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
    { name: 'timeoutMs', type: 'int32', versions: [0] },
    { name: 'validateOnly', type: 'bool', versions: [1] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [2] },
    {
      name: 'topics',
      type: [
        { name: 'name', type: 'string', versions: [0] },
        { name: 'topicId', type: 'uuid', versions: [7] },
        { name: 'errorCode', type: 'int16', versions: [0] },
        { name: 'errorMessage', type: 'string', versions: [1], nullableFrom: 0, default: null },
        { name: 'numPartitions', type: 'int32', versions: [5], default: -1 },
        { name: 'replicationFactor', type: 'int16', versions: [5], default: -1 },
        {
          name: 'configs',
          type: [
            { name: 'name', type: 'string', versions: [5] },
            { name: 'value', type: 'string', versions: [5], nullableFrom: 5 },
            { name: 'readOnly', type: 'bool', versions: [5] },
            { name: 'configSource', type: 'int8', versions: [5], default: -1 },
            { name: 'isSensitive', type: 'bool', versions: [5] },
          ],
          versions: [5],
          nullableFrom: 5,
        },
      ],
      versions: [0],
    },
  ],
  // Kafka's CreateTopicsRequest.getErrorResponse: the error for every topic.
  errorEcho: { topics: { from: 'topics', each: { name: 'name' } } },
})
