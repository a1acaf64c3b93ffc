/**
 * DescribeConfigs (key 32). Codec versions 0-3, flexible from 4. v1: synonyms and
 * config_source (replacing is_default); v3: documentation and config_type.
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
  maxVersion: 3,
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
})
