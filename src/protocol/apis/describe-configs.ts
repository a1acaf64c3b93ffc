/**
 * DescribeConfigs (key 32). Codec versions 0-4, flexible from 4.
 *
 * Version history (Kafka's DescribeConfigsRequest.json / DescribeConfigsResponse.json):
 *   v1 adds include_synonyms to the request, and config_source (replacing is_default) and
 *   synonyms to the response (KIP-226); v2 is v1 (KIP-219 throttling); v3 adds
 *   include_documentation, and config_type and documentation per config (KIP-569); v4 is
 *   flexible (KIP-482).
 *
 * Request grammar:
 *   resources array[resource_type int8, resource_name string,
 *   configuration_keys nullable_array[string], (tags v4+)], include_synonyms bool (v1+),
 *   include_documentation bool (v3+), (tags v4+)
 * Response grammar:
 *   throttle_time_ms int32, results array[error_code int16, error_message nullable_string,
 *   resource_type int8, resource_name string, configs array[name string,
 *   value nullable_string, read_only bool, is_default bool (v0 only),
 *   config_source int8 (v1+), is_sensitive bool, synonyms array[name string,
 *   value nullable_string, source int8, (tags v4+)] (v1+), config_type int8 (v3+),
 *   documentation nullable_string (v3+), (tags v4+)], (tags v4+)], (tags v4+)
 */
import { defineApi } from '../schema.js'

export interface DescribeConfigsRequest {
  resources: { resourceType: number, resourceName: string, configurationKeys: string[] | null }[]
  includeSynonyms: boolean
  includeDocumentation: boolean
}

export interface DescribeConfigsResponse {
  throttleTimeMs: number
  results: {
    errorCode: number
    errorMessage: string | null
    resourceType: number
    resourceName: string
    configs: {
      name: string
      value: string | null
      readOnly: boolean
      isDefault: boolean
      configSource: number
      isSensitive: boolean
      synonyms: { name: string, value: string | null, source: number }[]
      configType: number
      documentation: string | null
    }[]
  }[]
}

export const DescribeConfigs = defineApi<DescribeConfigsRequest, DescribeConfigsResponse>({
  key: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: [
    {
      name: 'resources',
      type: [
        { name: 'resourceType', type: 'int8', versions: [0] },
        { name: 'resourceName', type: 'string', versions: [0] },
        { name: 'configurationKeys', type: { items: 'string' }, versions: [0], nullableFrom: 0 },
      ],
      versions: [0],
    },
    { name: 'includeSynonyms', type: 'bool', versions: [1] },
    { name: 'includeDocumentation', type: 'bool', versions: [3] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    {
      name: 'results',
      type: [
        { name: 'errorCode', type: 'int16', versions: [0] },
        { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0, default: null },
        { name: 'resourceType', type: 'int8', versions: [0] },
        { name: 'resourceName', type: 'string', versions: [0] },
        {
          name: 'configs',
          type: [
            { name: 'name', type: 'string', versions: [0] },
            { name: 'value', type: 'string', versions: [0], nullableFrom: 0 },
            { name: 'readOnly', type: 'bool', versions: [0] },
            { name: 'isDefault', type: 'bool', versions: [0, 0] },
            { name: 'configSource', type: 'int8', versions: [1], default: -1 },
            { name: 'isSensitive', type: 'bool', versions: [0] },
            {
              name: 'synonyms',
              type: [
                { name: 'name', type: 'string', versions: [1] },
                { name: 'value', type: 'string', versions: [1], nullableFrom: 1 },
                { name: 'source', type: 'int8', versions: [1] },
              ],
              versions: [1],
            },
            { name: 'configType', type: 'int8', versions: [3] },
            { name: 'documentation', type: 'string', versions: [3], nullableFrom: 0,
              default: null },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  // Kafka's DescribeConfigsRequest.getErrorResponse: the error for every resource.
  errorEcho: {
    results: { from: 'resources',
      each: { resourceType: 'resourceType', resourceName: 'resourceName' } },
  },
})
