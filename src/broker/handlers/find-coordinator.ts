/**
 * FindCoordinator v0-2 (see docs/protocol.md). A group's coordinator is the leader of
 * its `__consumer_offsets` partition, abs(hashCode(group)) % partitions (Kafka's
 * GroupCoordinatorService.partitionFor). The answer names that node with the address of the
 * listener the request came in on; kafkajs only uses the node id, so it must be a node of
 * Metadata (docs/protocol.md, "The coordinator is a broker from Metadata"). Key type 1
 * (transactions) has no coordinator here yet:
 * COORDINATOR_NOT_AVAILABLE, which clients retry.
 */
import { FindCoordinator, type FindCoordinatorRequest } from '../../protocol/apis/find-coordinator.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'
import { CONSUMER_OFFSETS_TOPIC } from '../internal-topics.js'

const GROUP_KEY_TYPE = 0

function unavailable (errorCode: number, errorMessage: string) {
  return { throttleTimeMs: 0, errorCode, errorMessage, nodeId: -1, host: '', port: -1 }
}

export const findCoordinatorHandler: HandlerEntry = {
  api: FindCoordinator,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker, request: FindCoordinatorRequest, context) {
    if (request.keyType !== GROUP_KEY_TYPE) {
      return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, 'no transaction coordinator')
    }
    if (request.key === '') return unavailable(ERROR.INVALID_REQUEST, 'empty group id')
    const groups = broker.groups
    const topic = broker.image.topic(CONSUMER_OFFSETS_TOPIC)
    if (groups === undefined || topic === undefined) {
      return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, 'the group coordinator is not running')
    }
    const leader = topic.partitions[groups.partitionFor(request.key)]?.leader ?? -1
    const node = broker.image.brokers.get(leader)
    const endpoint = node?.endpoints.find(e => e.listener === context.listener) ?? node
    if (endpoint === undefined) {
      return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, 'the coordinator has no leader')
    }
    return { throttleTimeMs: 0, errorCode: ERROR.NONE, errorMessage: null, nodeId: leader,
      host: endpoint.host, port: endpoint.port }
  },
}
