/**
 * The group and transaction coordinators' start-up, built by the composition root, and the
 * metadata followers that keep each on this broker's leadership of the __consumer_offsets and
 * __transaction_state partitions. A single node starts both before it listens; a cluster broker
 * starts its groups once registered with a controller (main.ts, registerBroker), and its
 * transactions on first use or once __transaction_state exists.
 */
import { randomUUID } from 'node:crypto'
import type { Broker } from './broker/broker.js'
import { transactionalOffsetsKey } from './broker/delayed-operations.js'
import { TRANSACTION_STATE_TOPIC, CONSUMER_OFFSETS_TOPIC } from './broker/internal-topics.js'
import {
  ensureOffsetsTopic, ensureTransactionStateTopic, offsetsLogFor,
} from './broker/offsets-log.js'
import { txnMarkerChannel } from './broker/txn-markers.js'
import { numericProperty, type BrokerConfig } from './config/index.js'
import type { MetadataPublisher } from './controller/controller.js'
import { GroupCoordinator } from './group/coordinator.js'
import { partitionForGroup } from './group/offsets-store.js'
import { systemClock } from './io/clock.js'
import type { BrokerStage, ClusterStage, Logger } from './main.js'
import type { MetadataImage } from './metadata/image.js'
import { TransactionCoordinator } from './txn/txn-coordinator.js'

/** A new cluster's broker waits this long for its peers before creating __consumer_offsets. */
const INTERNAL_TOPIC_BROKERS_WAIT_MS = 5_000
/** Partitions (and staged offsets) one transaction may hold. */
const TRANSACTION_PARTITIONS_MAX = 10_000

/** The coordinators, each set once it has loaded; the broker reads them through getters. */
export interface Coordinators {
  group?: GroupCoordinator
  transaction?: TransactionCoordinator
  /** A transaction coordinator starting, which concurrent callers share; unset if it failed. */
  transactionStarting?: Promise<void>
}

/**
 * A single node's coordinators, started before it listens: the groups (creating
 * __consumer_offsets if the node is new) and, if it has had transactions, the transactions.
 */
export async function startSingleNodeCoordinators (config: BrokerConfig, logger: Logger,
  cluster: ClusterStage, core: BrokerStage): Promise<void> {
  await startGroups(config, logger, cluster, core)
  // A single node that has had transactions resumes them (and their markers) at start-up, and
  // does not start without them (a cluster broker starts its coordinator once it follows the
  // metadata, in registerBroker).
  if (cluster.image.topic(TRANSACTION_STATE_TOPIC) !== undefined) {
    await core.broker.transactionCoordinator()
    if (core.coordinators.transaction === undefined) {
      throw new Error(`${TRANSACTION_STATE_TOPIC} could not be loaded (see the warning above)`)
    }
  }
}

/**
 * Starts the group coordinator and sets it in `coordinators`; in a cluster it then follows this
 * broker's leadership of the __consumer_offsets partitions as the metadata changes.
 */
export async function startGroups (config: BrokerConfig, logger: Logger, cluster: ClusterStage,
  core: BrokerStage): Promise<void> {
  const { image, member, controller } = cluster
  // In a cluster a broker coordinates the groups of the __consumer_offsets partitions it
  // leads, with a live session (FindCoordinator names that leader).
  const leadsOffsets = member === undefined
    ? undefined
    : (partition: number) => member.sessionAlive &&
      image.topic(CONSUMER_OFFSETS_TOPIC)?.partitions[partition]?.leader === config.nodeId
  core.coordinators.group = await startGroupCoordinator(config, core.broker, leadsOffsets)
  if (leadsOffsets !== undefined) {
    await controller.addPublisher(offsetsLeadershipFollower(core.coordinators.group,
      leadsOffsets, logger))
  }
}

/**
 * Creates __transaction_state if it does not exist, loads the transaction coordinator from it
 * and sets it in `coordinators`.
 */
export async function startTransactionCoordinator (config: BrokerConfig, logger: Logger,
  cluster: ClusterStage, broker: Broker, coordinators: Coordinators): Promise<void> {
  const { image, member } = cluster
  // In a cluster a broker coordinates the transactional ids of the __transaction_state
  // partitions it leads with a live session, in that partition's leader epoch.
  const txnLeaderEpoch = member === undefined
    ? undefined
    : (partition: number): number | undefined => {
      const info = image.topic(TRANSACTION_STATE_TOPIC)?.partitions[partition]
      return member.sessionAlive && info?.leader === config.nodeId ? info.leaderEpoch : undefined
    }
  const partitions = await ensureTransactionStateTopic(broker,
    numericProperty(config, 'transaction.state.log.num.partitions'),
    numericProperty(config, 'transaction.state.log.replication.factor'),
    numericProperty(config, 'transaction.state.log.min.isr'))
  const coordinator = new TransactionCoordinator({
    clock: systemClock,
    limits: {
      maxTimeoutMs: numericProperty(config, 'transaction.max.timeout.ms'),
      idExpirationMs: numericProperty(config, 'transactional.id.expiration.ms'),
      partitionsMax: TRANSACTION_PARTITIONS_MAX,
    },
    log: offsetsLogFor(broker, partitions, TRANSACTION_STATE_TOPIC),
    markers: txnMarkerChannel(broker),
    nextProducerId: () => broker.producerIds.nextProducerId(),
    groupPartition: groupId => ({ topic: CONSUMER_OFFSETS_TOPIC, partition: partitionForGroup(
      groupId, image.topic(CONSUMER_OFFSETS_TOPIC)?.partitions.length ?? 1) }),
    ...(txnLeaderEpoch === undefined ? {} : { leaderEpoch: txnLeaderEpoch }),
    logger,
  })
  await coordinator.load()
  coordinators.transaction = coordinator
  // Leadership may have moved while it loaded; from here the follower
  // (transactionLeadershipFollower) keeps it in step.
  void coordinator.followLeadership()
}

/** Resolves once the image has `count` registered brokers, or after `timeoutMs`. */
async function waitForBrokers (image: MetadataImage, count: number,
  timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (image.brokers.size < count && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** Creates __consumer_offsets if the cluster is new, then loads the groups from it. */
async function startGroupCoordinator (config: BrokerConfig, broker: Broker,
  leads: ((partition: number) => boolean) | undefined): Promise<GroupCoordinator> {
  const clock = systemClock
  const replicationFactor = numericProperty(config, 'offsets.topic.replication.factor')
  if (leads !== undefined && broker.image.topic(CONSUMER_OFFSETS_TOPIC) === undefined) {
    // Brokers of a new cluster start together: give them a moment to register, so the first
    // one does not create __consumer_offsets with fewer replicas than the cluster will have.
    await waitForBrokers(broker.image, replicationFactor, INTERNAL_TOPIC_BROKERS_WAIT_MS)
  }
  const offsetPartitions = await ensureOffsetsTopic(broker,
    numericProperty(config, 'offsets.topic.num.partitions'), replicationFactor)
  const coordinator = new GroupCoordinator({
    clock,
    limits: {
      initialRebalanceDelayMs: numericProperty(config, 'group.initial.rebalance.delay.ms'),
      minSessionTimeoutMs: numericProperty(config, 'group.min.session.timeout.ms'),
      maxSessionTimeoutMs: numericProperty(config, 'group.max.session.timeout.ms'),
      membersMax: numericProperty(config, 'group.max.size'),
    },
    log: offsetsLogFor(broker, offsetPartitions),
    offsetsRetentionMs: numericProperty(config, 'offsets.retention.minutes') * 60_000,
    newMemberId: clientId => `${clientId}-${randomUUID()}`,
    ...(leads === undefined ? {} : { leads }),
    onTransactionalOffsetsDecided: groupId => {
      broker.replicaManager.purgatory.notify(transactionalOffsetsKey(groupId))
    },
  })
  await coordinator.load()
  return coordinator
}

/**
 * Tells the group coordinator when leadership of a __consumer_offsets partition moves to or
 * away from this broker (it then loads or unloads that partition's groups). The first
 * publication only records the current state: the coordinator has just loaded everything.
 * Loading runs in the background so following the metadata never waits for it.
 */
function offsetsLeadershipFollower (coordinator: GroupCoordinator,
  leads: (partition: number) => boolean, logger: Logger): MetadataPublisher {
  const led = new Map<number, boolean>()
  return {
    async publish (image) {
      const partitions = image.topic(CONSUMER_OFFSETS_TOPIC)?.partitions ?? []
      const first = led.size === 0
      for (const { partitionId } of partitions) {
        const now = leads(partitionId)
        if (led.get(partitionId) === now) continue
        led.set(partitionId, now)
        if (first) continue
        coordinator.onLeadershipChange(partitionId, now).catch((error: unknown) => {
          logger.warn(`${CONSUMER_OFFSETS_TOPIC}-${partitionId}: leadership change failed ` +
            `(${String(error)})`)
        })
      }
    },
  }
}

/**
 * Keeps the transaction coordinator in step with this broker's leadership of
 * `__transaction_state` partitions: once the topic exists (another broker may have created it)
 * the coordinator is started, so that the ids of partitions this broker comes to lead are
 * loaded and their pending markers and timeouts resumed even before a client asks; every later
 * metadata change lets it load newly led partitions and drop lost ones. Runs in the
 * background, so following the metadata never waits for a load.
 */
export function transactionLeadershipFollower (broker: Broker, logger: Logger): MetadataPublisher {
  return {
    async publish (image) {
      if (image.topic(TRANSACTION_STATE_TOPIC) === undefined) return
      broker.transactionCoordinator()
        .then(coordinator => coordinator?.followLeadership())
        .catch((error: unknown) => {
          logger.warn(`${TRANSACTION_STATE_TOPIC}: following leadership failed (` +
            `${String(error)})`)
        })
    },
  }
}
