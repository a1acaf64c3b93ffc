/**
 * FindCoordinator v0-2 (see docs/protocol.md). A group's coordinator is the leader of
 * its `__consumer_offsets` partition, abs(hashCode(group)) % partitions (Kafka's
 * GroupCoordinatorService.partitionFor). The answer names that node with the address of the
 * listener the request came in on; kafkajs only uses the node id, so it must be a node of
 * Metadata (docs/protocol.md, "The coordinator is a broker from Metadata"). Key type 1
 * (transactions): the leader of the id's `__transaction_state` partition, by the same hash
 * (Kafka's TransactionStateManager.partitionFor).
 */
import { FindCoordinator, type FindCoordinatorRequest } from '../../protocol/apis/find-coordinator.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from '../internal-topics.js'

const GROUP_KEY_TYPE = 0
const TRANSACTION_KEY_TYPE = 1

function unavailable (errorCode: number, errorMessage: string) {
  return { throttleTimeMs: 0, errorCode, errorMessage, nodeId: -1, host: '', port: -1 }
}

export const findCoordinatorHandler: HandlerEntry = {
  api: FindCoordinator,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker, request: FindCoordinatorRequest, context) {
    const transactional = request.keyType === TRANSACTION_KEY_TYPE
    if (request.keyType !== GROUP_KEY_TYPE && !transactional) {
      return unavailable(ERROR.INVALID_REQUEST, `unknown key type ${request.keyType}`)
    }
    if (request.key === '') {
      return unavailable(ERROR.INVALID_REQUEST,
        transactional ? 'empty transactional id' : 'empty group id')
    }
    const coordinator = transactional ? await broker.transactionCoordinator() : broker.groups
    const topic = broker.image.topic(transactional ? TRANSACTION_STATE_TOPIC
      : CONSUMER_OFFSETS_TOPIC)
    if (coordinator === undefined || topic === undefined) {
      return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, `the ${transactional ? 'transaction'
        : 'group'} coordinator is not running`)
    }
    const leader = topic.partitions[coordinator.partitionFor(request.key)]?.leader ?? -1
    const node = broker.image.brokers.get(leader)
    const endpoint = node?.endpoints.find(e => e.listener === context.listener) ?? node
    if (endpoint === undefined) {
      return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, 'the coordinator has no leader')
    }
    return { throttleTimeMs: 0, errorCode: ERROR.NONE, errorMessage: null, nodeId: leader,
      host: endpoint.host, port: endpoint.port }
  },
}
