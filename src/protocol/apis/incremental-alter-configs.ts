/**
 * IncrementalAlterConfigs (key 44, KIP-339). Codec versions 0-1, flexible from 1.
 *
 * Version history (Kafka's IncrementalAlterConfigsRequest.json / ...Response.json):
 *   v1 is flexible (KIP-482). config_operation: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT.
 *
 * Request grammar:
 *   resources array[resource_type int8, resource_name string, configs array[name string,
 *   config_operation int8, value nullable_string, (tags v1)], (tags v1)],
 *   validate_only bool, (tags v1)
 * Response grammar: as AlterConfigs (alterConfigsResponseFields), flexible from v1.
 */
import { defineApi } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'
import { alterConfigsResponseFields, type AlterConfigsResponse } from './alter-configs.js'

export interface IncrementalAlterConfigsRequest {
  resources: { resourceType: number, resourceName: string,
    configs: { name: string, configOperation: number, value: string | null }[] }[]
  validateOnly: boolean
}

export type IncrementalAlterConfigsResponse = AlterConfigsResponse

export const IncrementalAlterConfigs = defineApi<IncrementalAlterConfigsRequest,
IncrementalAlterConfigsResponse>({
  key: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: [
    {
      name: 'resources',
      type: [
        { name: 'resourceType', type: 'int8', versions: [0] },
        { name: 'resourceName', type: 'string', versions: [0] },
        {
          name: 'configs',
          type: [
            { name: 'name', type: 'string', versions: [0] },
            { name: 'configOperation', type: 'int8', versions: [0] },
            { name: 'value', type: 'string', versions: [0], nullableFrom: 0,
              maxBytes: STRING_BYTES_MAX },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
    { name: 'validateOnly', type: 'bool', versions: [0] },
  ],
  response: alterConfigsResponseFields,
  // Kafka's IncrementalAlterConfigsRequest.getErrorResponse: the error for every resource.
  errorEcho: {
    responses: { from: 'resources',
      each: { resourceType: 'resourceType', resourceName: 'resourceName' } },
  },
})
