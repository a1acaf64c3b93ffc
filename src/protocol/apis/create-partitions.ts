/** CreatePartitions (key 37). Codec versions 0-2, flexible from 2. */
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
  maxVersion: 2,
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
})
