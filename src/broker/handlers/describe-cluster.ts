/**
 * DescribeCluster (KIP-700): the brokers and the controller; flexible from v0, so it exercises
 * the compact encoding and tagged fields of the protocol layer.
 */
import {
  DescribeCluster, type DescribeClusterRequest, type DescribeClusterResponse,
} from '../../protocol/apis/describe-cluster.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const describeClusterHandler:
HandlerEntry<DescribeClusterRequest, DescribeClusterResponse> = {
  api: DescribeCluster,
  minVersion: 0,
  maxVersion: 0,
  async handle (broker, _request, context) {
    return {
      throttleTimeMs: 0,
      errorCode: ERROR.NONE,
      errorMessage: null,
      endpointType: 1,
      clusterId: broker.settings.clusterId,
      controllerId: broker.controller.activeControllerId,
      brokers: [...broker.image.brokers.values()].map(info => {
        const endpoint = info.endpoints.find(e => e.listener === context.listener) ?? info
        return { brokerId: info.brokerId, host: endpoint.host, port: endpoint.port,
          rack: info.rack, isFenced: false }
      }),
      clusterAuthorizedOperations: -2147483648,
    }
  },
}
