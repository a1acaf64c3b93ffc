/**
 * DescribeCluster (key 60, KIP-700). Versions 0-2, flexible from 0
 * (DescribeClusterRequest.json / DescribeClusterResponse.json). The Java admin client's
 * describeCluster uses it.
 *
 * Version history: v1 adds endpoint_type (KIP-919: 1 = brokers, 2 = controllers); v2 adds
 * include_fenced_brokers and is_fenced (KIP-1073).
 *
 * Request grammar:
 *   include_cluster_authorized_operations bool, endpoint_type int8 (v1+),
 *   include_fenced_brokers bool (v2+), tags
 * Response grammar:
 *   throttle_time_ms int32, error_code int16, error_message compact nullable string,
 *   endpoint_type int8 (v1+), cluster_id compact string, controller_id int32,
 *   brokers [broker_id int32, host compact string, port int32,
 *            rack compact nullable string, is_fenced bool (v2+), tags],
 *   cluster_authorized_operations int32, tags
 */
import { defineApi } from '../schema.js'

export interface DescribeClusterRequest {
  includeClusterAuthorizedOperations: boolean
  endpointType: number
  includeFencedBrokers?: boolean
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
  maxVersion: 2,
  flexibleFrom: 0,
  request: [
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: [0] },
    { name: 'endpointType', type: 'int8', versions: [1], default: 1 },
    { name: 'includeFencedBrokers', type: 'bool', versions: [2] },
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
        { name: 'isFenced', type: 'bool', versions: [2] },
      ],
      versions: [0],
    },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: [0],
      default: -2147483648 },
  ],
})
