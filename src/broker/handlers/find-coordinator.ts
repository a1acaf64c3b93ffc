/**
 * FindCoordinator (see docs/protocol.md). A group's coordinator is the leader of its
 * `__consumer_offsets` partition, abs(hashCode(group)) % partitions (Kafka's
 * GroupCoordinatorService.partitionFor). The answer names that node with the address of the
 * listener the request came in on; kafkajs only uses the node id, so it must be a node of
 * Metadata (docs/protocol.md, "The coordinator is a broker from Metadata"). Key type 1
 * (transactions): the leader of the id's `__transaction_state` partition, by the same hash
 * (Kafka's TransactionStateManager.partitionFor). Key type 2 (share groups, v6+, KIP-932) is
 * INVALID_REQUEST, as from a Kafka broker with share groups disabled.
 *
 * v4+ (KIP-699) look up several keys at once, each answered on its own; a request may name at
 * most as many keys as the decoder's element budget allows.
 */
import {
  FindCoordinator, type FindCoordinatorRequest, type FindCoordinatorResponse,
} from '../../protocol/apis/find-coordinator.js'
import { ERROR } from '../../protocol/errors.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from '../internal-topics.js'
import type { RequestContext } from '../request-context.js'

const GROUP_KEY_TYPE = 0
const TRANSACTION_KEY_TYPE = 1
const FIRST_BATCHED_VERSION = 4

interface Coordinator {
  errorCode: number
  errorMessage: string | null
  nodeId: number
  host: string
  port: number
}

function unavailable (errorCode: number, errorMessage: string): Coordinator {
  return { errorCode, errorMessage, nodeId: -1, host: '', port: -1 }
}

export const findCoordinatorHandler: HandlerEntry<FindCoordinatorRequest,
FindCoordinatorResponse> = {
  api: FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  async handle (broker, request, context) {
    if (context.version < FIRST_BATCHED_VERSION) {
      return { throttleTimeMs: 0, ...await coordinatorFor(broker, request.keyType, request.key,
        context) }
    }
    const coordinators = []
    for (const key of request.coordinatorKeys ?? []) {
      coordinators.push({ key, ...await coordinatorFor(broker, request.keyType, key, context) })
    }
    return {
      throttleTimeMs: 0, errorCode: ERROR.NONE, errorMessage: null, nodeId: -1, host: '',
      port: -1, coordinators,
    }
  },
}

async function coordinatorFor (broker: Broker, keyType: number, key: string,
  context: RequestContext): Promise<Coordinator> {
  const transactional = keyType === TRANSACTION_KEY_TYPE
  if (keyType !== GROUP_KEY_TYPE && !transactional) {
    return unavailable(ERROR.INVALID_REQUEST, `key type ${keyType} is not served`)
  }
  if (key === '') {
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
  const leader = topic.partitions[coordinator.partitionFor(key)]?.leader ?? -1
  const node = broker.image.brokers.get(leader)
  const endpoint = node?.endpoints.find(e => e.listener === context.listener) ?? node
  if (endpoint === undefined) {
    return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, 'the coordinator has no leader')
  }
  return { errorCode: ERROR.NONE, errorMessage: null, nodeId: leader, host: endpoint.host,
    port: endpoint.port }
}
