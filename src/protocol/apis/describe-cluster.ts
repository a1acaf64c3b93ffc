/**
 * DescribeCluster (key 60, KIP-700). Codec versions 0-1, flexible from 0
 * (DescribeClusterRequest.json / DescribeClusterResponse.json). Advertised 0 only; none of the
 * four reference clients sends it, our own client and admin tools do.
 *
 * Version history: v1 adds endpoint_type (KIP-919: 1 = brokers, 2 = controllers).
 *
 * Request grammar:
 *   include_cluster_authorized_operations bool, endpoint_type int8 (v1+), tags
 * Response grammar:
 *   throttle_time_ms int32, error_code int16, error_message compact nullable string,
 *   endpoint_type int8 (v1+), cluster_id compact string, controller_id int32,
 *   brokers [broker_id int32, host compact string, port int32,
 *            rack compact nullable string, tags],
 *   cluster_authorized_operations int32, tags
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
    /** DescribeCluster v2's is_fenced (KIP-1073): beyond our max, never on the wire. */
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
