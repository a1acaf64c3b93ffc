/**
 * AlterConfigs (key 33). Codec versions 0-2, flexible from 2.
 *
 * Version history (Kafka's AlterConfigsRequest.json / AlterConfigsResponse.json):
 *   v1 is v0 (KIP-219 throttling); v2 is flexible (KIP-482). Superseded by
 *   IncrementalAlterConfigs (KIP-339), which shares this response layout.
 *
 * Request grammar:
 *   resources array[resource_type int8, resource_name string, configs array[name string,
 *   value nullable_string, (tags v2+)], (tags v2+)], validate_only bool, (tags v2+)
 * Response grammar:
 *   throttle_time_ms int32, responses array[error_code int16, error_message nullable_string,
 *   resource_type int8, resource_name string, (tags v2+)], (tags v2+)
 */
import { defineApi, type Field } from '../schema.js'
import { STRING_BYTES_MAX } from '../decode-limits.js'

export interface AlterConfigsRequest {
  resources: { resourceType: number, resourceName: string,
    configs: { name: string, value: string | null }[] }[]
  validateOnly: boolean
}

export interface AlterConfigsResponse {
  throttleTimeMs: number
  responses: { errorCode: number, errorMessage: string | null, resourceType: number,
    resourceName: string }[]
}

/** The response of AlterConfigs and IncrementalAlterConfigs. */
export const alterConfigsResponseFields: Field[] = [
  { name: 'throttleTimeMs', type: 'int32', versions: [0] },
  {
    name: 'responses',
    type: [
      { name: 'errorCode', type: 'int16', versions: [0] },
      { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0, default: null },
      { name: 'resourceType', type: 'int8', versions: [0] },
      { name: 'resourceName', type: 'string', versions: [0] },
    ],
    versions: [0],
  },
]

export const AlterConfigs = defineApi<AlterConfigsRequest, AlterConfigsResponse>({
  key: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
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
  // Kafka's AlterConfigsRequest.getErrorResponse: the error for every resource.
  errorEcho: {
    responses: { from: 'resources',
      each: { resourceType: 'resourceType', resourceName: 'resourceName' } },
  },
})
