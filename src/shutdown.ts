/**
 * A running broker's close sequence, built by the composition root. It runs once (later calls
 * get the same promise) and within `SHUTDOWN_BUDGET_MS`: readiness turns false; a cluster broker
 * moves its leaderships away while it still serves (controlled shutdown); waiting fetches
 * complete and the coordinators and samplers stop; the listeners drain and close; then HTTP,
 * the inter-broker connections, the cluster session and the log manager close, in that order.
 */
import type { BrokerConnections } from './broker/broker-connections.js'
import type { Purgatory } from './broker/delayed-operations.js'
import type { GroupLagSampler } from './broker/group-lag.js'
import type { LatencySampler } from './broker/latency-sampler.js'
import type { ClusterMember } from './cluster/cluster-member.js'
import type { BrokerConfig } from './config/index.js'
import type { HttpServer } from './http/server.js'
import { closeListeners, type KafkaListeners } from './kafka-listeners.js'
import type { Coordinators } from './coordinators.js'
import type { Logger } from './main.js'
import type { ReplicaRoles } from './replication/replica-roles.js'
import type { LogManager } from './storage/log-manager.js'

/** The contract: a clean shutdown completes within 5 s. */
export const SHUTDOWN_BUDGET_MS = 4_000
/**
 * The part of that budget a cluster broker spends in controlled shutdown (moving leadership
 * away while it still serves), taken from the listeners' half. Kafka retries for up to
 * controlled.shutdown.max.retries × controlled.shutdown.retry.backoff.ms (15 s); here the
 * controller answers in one etcd round trip, and the 5 s contract leaves this much.
 */
const CONTROLLED_SHUTDOWN_MAX_MS = SHUTDOWN_BUDGET_MS / 4

/** Whether the broker answers ready (HTTP readiness); the close sequence turns it false. */
export interface Readiness {
  kafkaReady: boolean
}

/** Everything the close sequence stops; `coordinators` is read when it runs, not before. */
export interface ClosableBroker {
  readiness: Readiness
  member: ClusterMember | undefined
  purgatory: Purgatory
  coordinators: Coordinators
  lagSampler: GroupLagSampler
  roles: ReplicaRoles | undefined
  listeners: KafkaListeners
  http: HttpServer
  brokerConnections: BrokerConnections | undefined
  logManager: LogManager
  latencySampler: LatencySampler | undefined
}

/** The broker's `close`: the first call starts the sequence, every call returns its promise. */
export function closeSequence (config: BrokerConfig, logger: Logger,
  parts: ClosableBroker): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => {
    closing ??= closeInOrder(config, logger, parts)
    return closing
  }
}

async function closeInOrder (config: BrokerConfig, logger: Logger,
  parts: ClosableBroker): Promise<void> {
  const { member, coordinators } = parts
  parts.readiness.kafkaReady = false
  const startedMs = Date.now()
  if (member !== undefined &&
    config.properties.get('controlled.shutdown.enable')?.value !== 'false') {
    const handedOff = await member.controlledShutdown(CONTROLLED_SHUTDOWN_MAX_MS)
    logger.info(`controlled shutdown ${handedOff ? 'moved leadership away' : 'timed out ' +
      'with leadership left to move (it moves when the session ends)'} in ` +
      `${Date.now() - startedMs} ms`)
  }
  // The listeners get what the controlled shutdown left of their half of the budget.
  const listenersMs = Math.max(SHUTDOWN_BUDGET_MS / 4,
    SHUTDOWN_BUDGET_MS / 2 - (Date.now() - startedMs))
  parts.purgatory.completeAll()
  coordinators.group?.stop()
  coordinators.transaction?.stop()
  parts.lagSampler.stop()
  await parts.roles?.close()
  await closeListeners(parts.listeners, listenersMs)
  await parts.http.close()
  parts.brokerConnections?.close()
  await member?.close()
  await parts.logManager.close()
  parts.latencySampler?.stop()
}
