/**
 * DescribeCluster (KIP-700): the cluster id, the controller and the brokers with their
 * address on the listener the request came in on.
 *
 * v1+: a broker serves endpoint_type 1 (brokers); asked for controllers (2) it answers
 * MISMATCHED_ENDPOINT_TYPE and for any other type UNSUPPORTED_ENDPOINT_TYPE, as Kafka's brokers
 * do (KIP-919). v2+: no broker here is ever fenced, so include_fenced_brokers changes nothing
 * and is_fenced is false. Cluster authorized operations are all allowed when asked for.
 */
import {
  DescribeCluster, type DescribeClusterRequest, type DescribeClusterResponse,
} from '../../protocol/apis/describe-cluster.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import { authorizedOperations, CLUSTER_OPERATIONS } from '../authorized-operations.js'
import type { HandlerEntry } from '../broker.js'

const ENDPOINT_TYPE_BROKER = 1
const ENDPOINT_TYPE_CONTROLLER = 2

export const describeClusterHandler:
HandlerEntry<DescribeClusterRequest, DescribeClusterResponse> = {
  api: DescribeCluster,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker, request, context) {
    if (context.version >= 1 && request.endpointType !== ENDPOINT_TYPE_BROKER) {
      const mismatched = request.endpointType === ENDPOINT_TYPE_CONTROLLER
      return {
        throttleTimeMs: 0,
        errorCode: errorCodeOf(mismatched ? 'MISMATCHED_ENDPOINT_TYPE' : 'UNSUPPORTED_ENDPOINT_TYPE'),
        errorMessage: mismatched
          ? 'The request was sent to a broker endpoint, but controllers were asked for.'
          : `Unsupported endpoint type ${request.endpointType}`,
        endpointType: ENDPOINT_TYPE_BROKER,
        clusterId: broker.settings.clusterId,
        controllerId: -1,
        brokers: [],
        clusterAuthorizedOperations: authorizedOperations(false, 0),
      }
    }
    return {
      throttleTimeMs: 0,
      errorCode: ERROR.NONE,
      errorMessage: null,
      endpointType: ENDPOINT_TYPE_BROKER,
      clusterId: broker.settings.clusterId,
      controllerId: broker.controller.activeControllerId,
      brokers: [...broker.image.brokers.values()].map(info => {
        const endpoint = info.endpoints.find(e => e.listener === context.listener) ?? info
        return { brokerId: info.brokerId, host: endpoint.host, port: endpoint.port,
          rack: info.rack, isFenced: false }
      }),
      clusterAuthorizedOperations: authorizedOperations(
        request.includeClusterAuthorizedOperations, CLUSTER_OPERATIONS),
    }
  },
}
