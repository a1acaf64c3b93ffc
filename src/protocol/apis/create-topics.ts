/**
 * CreateTopics (key 19). Codec versions 0-5, flexible from 5. v1: validate_only and
 * error_message; v2: throttle_time_ms; v4: -1 defaults for partitions and replication factor
 * (KIP-464); v5: the created topic's partitions, replication factor and configs.
 */
import { defineApi } from '../schema.js'

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
  maxVersion: 5,
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
            { name: 'value', type: 'string', versions: [0], nullableFrom: 0 },
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
})
