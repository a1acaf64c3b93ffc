/**
 * DescribeCluster (key 60, KIP-700). Codec versions 0-1, flexible from 0. v1 adds
 * endpoint_type.
 */
import { defineApi } from '../schema.js'

export interface DescribeClusterRequest {
  includeClusterAuthorizedOperations: boolean
  endpointType: number
}

export interface DescribeClusterResponse {
  throttleTimeMs: number
  errorCode: number
  errorMessage: string | null
  endpointType: number
  clusterId: string
  controllerId: number
  brokers: { brokerId: number, host: string, port: number, rack: string | null,
    isFenced?: boolean }[]
  clusterAuthorizedOperations: number
}

export const DescribeCluster = defineApi<DescribeClusterRequest, DescribeClusterResponse>({
  key: 60,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 0,
  request: [
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: [0] },
    { name: 'endpointType', type: 'int8', versions: [1], default: 1 },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: [0] },
    { name: 'errorCode', type: 'int16', versions: [0] },
    { name: 'errorMessage', type: 'string', versions: [0], nullableFrom: 0, default: null },
    { name: 'endpointType', type: 'int8', versions: [1], default: 1 },
    { name: 'clusterId', type: 'string', versions: [0] },
    { name: 'controllerId', type: 'int32', versions: [0], default: -1 },
    {
      name: 'brokers',
      type: [
        { name: 'brokerId', type: 'int32', versions: [0] },
        { name: 'host', type: 'string', versions: [0] },
        { name: 'port', type: 'int32', versions: [0] },
        { name: 'rack', type: 'string', versions: [0], nullableFrom: 0, default: null },
      ],
      versions: [0],
    },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: [0],
      default: -2147483648 },
  ],
})
