/**
 * FindCoordinator v0-6 (see docs/protocol.md). A group's coordinator is the leader of
 * its `__consumer_offsets` partition, abs(hashCode(group)) % partitions (Kafka's
 * GroupCoordinatorService.partitionFor). The answer names that node with the address of the
 * listener the request came in on; kafkajs only uses the node id, so it must be a node of
 * Metadata (docs/protocol.md, "The coordinator is a broker from Metadata"). Key type 1
 * (transactions) has no coordinator here yet: COORDINATOR_NOT_AVAILABLE, which clients retry.
 * Key type 2 (share groups, v6+, KIP-932) is INVALID_REQUEST, as from a Kafka broker with share
 * groups disabled.
 *
 * v4+ (KIP-699) look up several keys at once, each answered on its own; a request may name at
 * most as many keys as the decoder's element budget allows.
 */
import {
  FindCoordinator, type FindCoordinatorRequest, type FindCoordinatorResponse,
} from '../../protocol/apis/find-coordinator.js'
import { ERROR } from '../../protocol/errors.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { CONSUMER_OFFSETS_TOPIC } from '../internal-topics.js'
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
      return { throttleTimeMs: 0, ...coordinatorFor(broker, request.keyType, request.key,
        context) }
    }
    return {
      throttleTimeMs: 0, errorCode: ERROR.NONE, errorMessage: null, nodeId: -1, host: '',
      port: -1,
      coordinators: (request.coordinatorKeys ?? []).map(key =>
        ({ key, ...coordinatorFor(broker, request.keyType, key, context) })),
    }
  },
}

function coordinatorFor (broker: Broker, keyType: number, key: string,
  context: RequestContext): Coordinator {
  if (keyType === TRANSACTION_KEY_TYPE) {
    return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, 'no transaction coordinator')
  }
  if (keyType !== GROUP_KEY_TYPE) {
    return unavailable(ERROR.INVALID_REQUEST, `key type ${keyType} is not served`)
  }
  if (key === '') return unavailable(ERROR.INVALID_REQUEST, 'empty group id')
  const groups = broker.groups
  const topic = broker.image.topic(CONSUMER_OFFSETS_TOPIC)
  if (groups === undefined || topic === undefined) {
    return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, 'the group coordinator is not running')
  }
  const leader = topic.partitions[groups.partitionFor(key)]?.leader ?? -1
  const node = broker.image.brokers.get(leader)
  const endpoint = node?.endpoints.find(e => e.listener === context.listener) ?? node
  if (endpoint === undefined) {
    return unavailable(ERROR.COORDINATOR_NOT_AVAILABLE, 'the coordinator has no leader')
  }
  return { errorCode: ERROR.NONE, errorMessage: null, nodeId: leader, host: endpoint.host,
    port: endpoint.port }
}
