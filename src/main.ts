/**
 * The composition root: builds the real I/O ports and wires every module into a running broker.
 * Nothing else constructs LogManager, Controller, the servers or the clock.
 *
 * Start-up order: lock and recover the data directory; replay the metadata log into the image;
 * reconcile partition logs with it; listen for Kafka; register this broker with its real port;
 * serve HTTP; print the ready line. Shutdown reverses it within `SHUTDOWN_BUDGET_MS`.
 * `startOnLogManager` lists the stages in order, each a function below; the Kafka listeners,
 * the coordinators' start-up and the close sequence are in kafka-listeners.ts, coordinators.ts
 * and shutdown.ts beside this file.
 */
import { Broker, type BrokerSettings } from './broker/broker.js'
import { followerFetchKey, partitionKey, Purgatory } from './broker/delayed-operations.js'
import { LatencySampler } from './broker/latency-sampler.js'
import { ALL_HANDLERS } from './broker/handlers/index.js'
import { BrokerConnections } from './broker/broker-connections.js'
import { GroupLagSampler } from './broker/group-lag.js'
import { ProducerIdManager } from './broker/producer-id-manager.js'
import { randomUUID } from 'node:crypto'
import { ReplicaManager } from './broker/replica-manager.js'
import { createBrokerConfigView, topicSettingsFor } from './broker/topic-settings.js'
import { numericProperty, topicConfigValue, type BrokerConfig } from './config/index.js'
import { effectiveTopicConfig } from './config/topic.js'
import {
  IsrChangeCounter, replicationStatus, type ReplicationHealthOptions,
} from './broker/replication-health.js'
import { Controller, type ControllerOptions } from './controller/controller.js'
import { SegmentMetadataLog } from './controller/metadata-log.js'
import { ClusterMember } from './cluster/cluster-member.js'
import { parseEtcdEndpoints } from './cluster/etcd-connection.js'
import { startHttpServer, type HttpServer } from './http/server.js'
import { systemClock } from './io/clock.js'
import { MetadataImage } from './metadata/image.js'
import { createMetrics, type ClusterSample, type Metrics } from './metrics/metrics.js'
import { closeListeners, startListeners, type KafkaListeners } from './kafka-listeners.js'
import { closeSequence, type Readiness } from './shutdown.js'
import {
  startGroups, startSingleNodeCoordinators, startTransactionCoordinator,
  transactionLeadershipFollower, type Coordinators,
} from './coordinators.js'
import { LogManager } from './storage/log-manager.js'
import { ByteRateThrottle } from './replication/byte-rate-throttle.js'
import { ReplicaFetcherManager } from './replication/replica-fetcher.js'
import type { ReplicaLog } from './replication/replica-log.js'
import { ReplicaRoles } from './replication/replica-roles.js'
import { logConfigFromBroker } from './broker/topic-settings.js'

/** Long-poll fetches waiting at once; past this, fetches answer without waiting. */
const FETCH_WAITERS_MAX = 10_000
/** A cluster broker waits this long at start-up for a controller to exist. */
const CONTROLLER_WAIT_MS = 30_000
export { SHUTDOWN_BUDGET_MS } from './shutdown.js'

export interface Logger {
  info (message: string): void
  warn (message: string): void
  error (message: string): void
}

export const consoleLogger: Logger = {
  info: message => console.log(`${new Date().toISOString()} INFO ${message}`),
  warn: message => console.error(`${new Date().toISOString()} WARN ${message}`),
  error: message => console.error(`${new Date().toISOString()} ERROR ${message}`),
}

export interface RunningBroker {
  broker: Broker
  kafkaPort: number
  httpPort: number
  metrics: Metrics
  close (): Promise<void>
}

export async function startBroker (config: BrokerConfig, logger: Logger = consoleLogger):
Promise<RunningBroker> {
  const clock = systemClock
  const logManager = await LogManager.open({
    dataDir: config.dataDir,
    nodeId: config.nodeId,
    clock,
    logger,
    defaultConfig: logConfigFromBroker(config),
    retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
    cleaner: config.logCleaner,
    tailCacheBytes: numericProperty(config, 'tributary.log.tail.cache.bytes'),
  })
  try {
    return await startOnLogManager(config, logger, logManager)
  } catch (error) {
    await logManager.close().catch(() => undefined)
    throw error
  }
}

/**
 * The broker's start-up on an open log manager, stage by stage; the order matters (see each
 * stage). On a failed start, openCluster closes the member if the controller does not open,
 * registerBroker closes the listeners and the member if a cluster broker cannot register, and
 * startBroker closes the log manager.
 */
async function startOnLogManager (config: BrokerConfig, logger: Logger,
  logManager: LogManager): Promise<RunningBroker> {
  const metrics = createMetrics({ perPartition: config.metricsPartitionEnabled })
  const cluster = await openCluster(config, logger, logManager, metrics)
  const started: StartedParts = {}
  try {
    return await startOnCluster(config, logger, logManager, cluster, metrics, started)
  } catch (error) {
    await abandonStart(cluster, started)
    throw error
  }
}

/** What a start that fails part-way has to stop (the log manager is `startBroker`'s). */
interface StartedParts {
  replicas?: ReplicaStage
  core?: BrokerStage
  lagSampler?: GroupLagSampler
  listeners?: KafkaListeners
  http?: HttpServer
}

async function startOnCluster (config: BrokerConfig, logger: Logger, logManager: LogManager,
  cluster: ClusterStage, metrics: Metrics, started: StartedParts): Promise<RunningBroker> {
  const replicas = started.replicas =
    await createReplicaManager(config, logger, logManager, cluster, metrics)
  const core = started.core =
    createBroker(config, logger, logManager, cluster, replicas, metrics)
  // A single node creates __consumer_offsets before it listens, as before; a cluster broker
  // first needs its registration and a controller (registerBroker, after the listeners).
  if (cluster.member === undefined) {
    await startSingleNodeCoordinators(config, logger, cluster, core)
  }
  const lagSampler = started.lagSampler = wireMetrics(logManager, core.broker, metrics)
  const listeners = started.listeners =
    await startListeners(config, logger, core.broker, core.settings, metrics)
  await registerBroker(config, logger, cluster, core, listeners)
  await wireClusterMetrics(config, cluster, replicas.roles, metrics)
  const readiness: Readiness = { kafkaReady: true }
  const http = started.http =
    await startHttp(config, core.broker, metrics, replicas.latencySampler, readiness)
  logger.info(`Tributary broker ${config.nodeId} ready: kafka=${config.host}:` +
    `${listeners.kafkaServer.port} http=${config.host}:${http.port} data=${config.dataDir}` +
    (listeners.externalServer === undefined
      ? ''
      : ` external=${config.host}:${listeners.externalServer.port}`))
  const close = closeSequence(config, logger, {
    readiness, member: cluster.member, purgatory: replicas.purgatory,
    coordinators: core.coordinators, lagSampler, roles: replicas.roles, listeners, http,
    brokerConnections: core.brokerConnections, logManager, latencySampler: replicas.latencySampler,
  })
  return { broker: core.broker, kafkaPort: listeners.kafkaServer.port, httpPort: http.port,
    metrics, close }
}

/**
 * Stops what a failed start got to, in the close sequence's order and without its drain (no
 * client was told this broker is ready): coordinators and samplers, roles, listeners, HTTP,
 * inter-broker connections, then the cluster session. Errors here would hide the start's own.
 */
async function abandonStart (cluster: ClusterStage, started: StartedParts): Promise<void> {
  const quietly = async (step: () => Promise<void> | undefined): Promise<void> => {
    try {
      await step()
    } catch {
      // The start's own error is the one reported.
    }
  }
  const { replicas, core } = started
  replicas?.purgatory.completeAll()
  core?.coordinators.group?.stop()
  core?.coordinators.transaction?.stop()
  started.lagSampler?.stop()
  const { listeners, http } = started
  await quietly(() => replicas?.roles?.close())
  await quietly(() => listeners === undefined ? undefined : closeListeners(listeners, 0))
  await quietly(() => http?.close())
  core?.brokerConnections?.close()
  await quietly(() => cluster.member?.close())
  replicas?.latencySampler?.stop()
}

/** The metadata side of a broker: its image, its controller and, in a cluster, its member. */
export interface ClusterStage {
  image: MetadataImage
  member: ClusterMember | undefined
  controller: Controller
}

/** The replica manager and what shares its data path: the purgatory, samplers and roles. */
interface ReplicaStage {
  purgatory: Purgatory
  latencySampler: LatencySampler | undefined
  roles: ReplicaRoles | undefined
  replicaManager: ReplicaManager
}

/**
 * Joins the cluster if `tributary.etcd.endpoints` is set, then opens the controller on a fresh
 * image. If the controller does not open, the member leaves the cluster again.
 */
async function openCluster (config: BrokerConfig, logger: Logger, logManager: LogManager,
  metrics: Metrics): Promise<ClusterStage> {
  const image = new MetadataImage()
  const member = await joinCluster(config, logger, logManager.clusterId)
  let controller: Controller
  try {
    controller = await openController(config, logger, logManager, image, member, metrics)
  } catch (error) {
    await member?.close()
    throw error
  }
  return { image, member, controller }
}

/**
 * The replica manager over the partition logs, with the fetch purgatory, the latency sampler
 * (`tributary.debug.latency.sample.rate`) and, in a cluster, the replica roles. It opens the
 * logs of the replayed image before this returns, and follows the metadata from then on.
 */
async function createReplicaManager (config: BrokerConfig, logger: Logger,
  logManager: LogManager, cluster: ClusterStage, metrics: Metrics): Promise<ReplicaStage> {
  const clock = systemClock
  const { image, member, controller } = cluster
  const purgatory = new Purgatory(clock, FETCH_WAITERS_MAX)
  const sampleRate = numericProperty(config, 'tributary.debug.latency.sample.rate')
  const latencySampler = sampleRate > 0 ? new LatencySampler(sampleRate, clock) : undefined
  const topicSettings = cachedTopicSettings(config, image)
  const roles = member === undefined
    ? undefined
    : replicaRolesFor(config, logger, logManager, image, controller, purgatory, member)
  const replicaManager = new ReplicaManager({
    nodeId: config.nodeId,
    logManager,
    image,
    clock,
    purgatory,
    topicSettings,
    onAppended: (topic, _partition, result, durableMs) => {
      metrics.recordProduce(topic, result.recordsCount, result.sizeBytes, durableMs / 1000)
    },
    onRead: (topic, bytes, records) => metrics.recordFetch(topic, bytes, records),
    latencySampler,
    logger,
    ...(member === undefined ? {} : {
      mayLead: (topic: string, partition: number) => member.sessionAlive &&
        image.topic(topic)?.partitions[partition]?.leader === config.nodeId,
      hostsReplica: (replicas: readonly number[]) => replicas.includes(config.nodeId),
      roles,
    }),
  })
  // From here on the replica manager follows every metadata commit by itself; this first
  // publication opens the logs of every partition in the replayed image (and, in a cluster,
  // starts leading or following each of them).
  await controller.addPublisher(replicaManager)
  roles?.start()
  return { purgatory, latencySampler, roles, replicaManager }
}

/** The broker, with the settings and coordinators the later stages fill in. */
export interface BrokerStage {
  broker: Broker
  /** The broker's own settings object: `advertisedPort` is set once the listener is bound. */
  settings: BrokerSettings
  coordinators: Coordinators
  brokerConnections: BrokerConnections | undefined
}

/**
 * The `Broker` with the handler table. Its coordinators start later (startGroups, and
 * startTransactionCoordinator on the first call that needs one); it reads them from
 * `coordinators` once they have loaded.
 */
function createBroker (config: BrokerConfig, logger: Logger, logManager: LogManager,
  cluster: ClusterStage, replicas: ReplicaStage, metrics: Metrics): BrokerStage {
  const { image, member, controller } = cluster
  const settings: BrokerSettings = {
    nodeId: config.nodeId,
    clusterId: member?.clusterId ?? logManager.clusterId,
    advertisedHost: config.advertisedHost,
    advertisedPort: config.port,
    autoCreateTopicsEnable: config.autoCreateTopicsEnable,
    deleteTopicEnable: config.deleteTopicEnable,
    numPartitions: config.numPartitions,
    defaultReplicationFactor: config.defaultReplicationFactor,
    socketRequestMaxBytes: config.socketRequestMaxBytes,
    fetchMaxBytes: config.fetchMaxBytes,
  }
  // Inter-broker requests (transaction markers, transaction verification) in a cluster.
  const brokerConnections = member === undefined ? undefined : new BrokerConnections(image)
  const coordinators: Coordinators = {}
  const broker: Broker = new Broker({
    settings,
    logManager,
    controller,
    replicaManager: replicas.replicaManager,
    producerIds: new ProducerIdManager(controller),
    clock: systemClock,
    logger,
    configs: createBrokerConfigView(config),
    get groups () { return coordinators.group },
    get transactions () { return coordinators.transaction },
    startTransactions: () => {
      coordinators.transactionStarting ??= startTransactionCoordinator(config, logger, cluster,
        broker, coordinators)
        .catch((error: unknown) => {
          coordinators.transactionStarting = undefined
          throw error
        })
      return coordinators.transactionStarting
    },
    ...(brokerConnections === undefined ? {} : { brokerConnections }),
    onRequestDone: (api, durationMs, failed) => metrics.recordRequest(api, durationMs / 1000,
      failed),
    ...(replicas.latencySampler === undefined ? {} : {
      onResponseWritten: replicas.latencySampler.recordAnswerWait,
    }),
  }, ALL_HANDLERS)
  return { broker, settings, coordinators, brokerConnections }
}

/**
 * The metrics pulled at scrape time from the partition logs, the groups' lag, the flusher, the
 * clients and the cleaner, and segment reclaims as they happen. Starts the group lag sampler,
 * which the close sequence stops.
 */
function wireMetrics (logManager: LogManager, broker: Broker, metrics: Metrics):
GroupLagSampler {
  metrics.setPartitionProvider(() => [...logManager.logs()].map(log => ({
    topic: log.topic, partition: log.partition, logEndOffset: log.logEndOffset,
    sizeBytes: log.sizeBytes,
  })))
  const lagSampler = new GroupLagSampler(broker)
  metrics.setGroupLagProvider(() => lagSampler.samples())
  metrics.setFlushProvider(() => logManager.flushStats)
  metrics.setClientSoftwareProvider(() => broker.clientSoftware.counts())
  metrics.setCleanerProvider(() => logManager.cleanerStats)
  logManager.setReclaimListener(reclaim => {
    metrics.recordSegmentReclaimed(reclaim.bytes, reclaim.latencyMs / 1000)
  })
  lagSampler.start()
  return lagSampler
}

/**
 * Registers this broker in the metadata with the port it bound. A single node registers with
 * its own controller. A cluster broker registers in etcd, waits for a controller, then starts
 * its groups and follows __transaction_state leadership; if any of that fails, it closes the
 * listeners and leaves the cluster before the error goes up.
 */
async function registerBroker (config: BrokerConfig, logger: Logger, cluster: ClusterStage,
  core: BrokerStage, listeners: KafkaListeners): Promise<void> {
  const { member, controller } = cluster
  const { endpoints } = listeners
  const registration = { host: config.advertisedHost, port: core.settings.advertisedPort,
    rack: config.properties.get('broker.rack')?.value ?? null, endpoints }
  if (member === undefined) {
    await controller.registerBroker(registration.host, registration.port, registration.rack,
      endpoints)
  } else {
    // A failure here is undone by abandonStart (listeners, then the member).
    await member.register({ ...registration, incarnationId: randomUUID() })
    await member.awaitController(CONTROLLER_WAIT_MS)
    await startGroups(config, logger, cluster, core)
    await controller.addPublisher(transactionLeadershipFollower(core.broker, logger))
  }
}

/** The cluster gauges, the replication gauges with ISR change counts, and follower lag. */
async function wireClusterMetrics (config: BrokerConfig, cluster: ClusterStage,
  roles: ReplicaRoles | undefined, metrics: Metrics): Promise<void> {
  metrics.setClusterProvider(clusterSampler(config.nodeId, cluster.image, cluster.member))
  await watchReplicationHealth(config, cluster.controller, metrics)
  // Follower lag, sampled at scrape from the partitions this broker leads.
  if (roles !== undefined) metrics.setReplicationProvider(() => roles.replicationSamples())
}

/**
 * The HTTP server: the REST API, health checks and /metrics. It reports ready until the close
 * sequence turns `readiness` false.
 */
async function startHttp (config: BrokerConfig, broker: Broker, metrics: Metrics,
  latencySampler: LatencySampler | undefined, readiness: Readiness): Promise<HttpServer> {
  return await startHttpServer({
    broker, metrics, latencySampler, host: config.host, port: config.httpPort,
    ready: () => readiness.kafkaReady,
    // Room for a batch of max-size messages in JSON (base64 grows bytes by a third).
    bodyLimitBytes: Math.max(16 * 1024 * 1024, config.socketRequestMaxBytes / 4),
    consumerInstanceTimeoutMs: config.consumerInstanceTimeoutMs,
    consumerInstancesMax: numericProperty(config, 'http.consumer.instances.max'),
    sseStreamsMax: numericProperty(config, 'http.sse.streams.max'),
    connectionsMax: numericProperty(config, 'http.connections.max'),
  })
}

/** A topic's effective settings: the broker's config under the topic's own overrides. */
function cachedTopicSettings (config: BrokerConfig, image: MetadataImage):
(topic: string) => ReturnType<typeof topicSettingsFor> {
  // Effective settings are derived once per topic and config version, not on every produce.
  const settingsCache = new Map<string, { version: number,
    settings: ReturnType<typeof topicSettingsFor> }>()
  return (topic: string): ReturnType<typeof topicSettingsFor> => {
    const cached = settingsCache.get(topic)
    if (cached !== undefined && cached.version === image.configVersion) return cached.settings
    const settings = topicSettingsFor(config, image.topic(topic)?.configs)
    if (settingsCache.size > 100_000) settingsCache.clear()
    settingsCache.set(topic, { version: image.configVersion, settings })
    return settings
  }
}

/**
 * A cluster broker's replication: follower fetchers to each leader's PLAINTEXT endpoint, and the
 * leader/follower roles with their ISR changes sent to the controller (src/replication).
 */
function replicaRolesFor (config: BrokerConfig, logger: Logger, logManager: LogManager,
  image: MetadataImage, controller: Controller, purgatory: Purgatory, member: ClusterMember):
  ReplicaRoles {
  // Broker configs are static here (AlterConfigs refuses broker resources), so are the rates.
  const rate = (name: string) => (): number => numericProperty(config, name)
  const nowMs = systemClock.monotonicMs()
  const logOf = (topic: string, partition: number): ReplicaLog | undefined =>
    logManager.getLog(topic, partition)
  const fetchers = new ReplicaFetcherManager({
    nodeId: config.nodeId,
    clock: systemClock,
    config: {
      waitMaxMs: numericProperty(config, 'replica.fetch.wait.max.ms'),
      maxBytes: numericProperty(config, 'replica.fetch.max.bytes'),
      responseMaxBytes: numericProperty(config, 'replica.fetch.response.max.bytes'),
      backoffMs: numericProperty(config, 'replica.fetch.backoff.ms'),
    },
    endpointOf: brokerId => {
      const broker = image.brokers.get(brokerId)
      return broker === undefined ? undefined : { host: broker.host, port: broker.port }
    },
    logOf,
    mayFetch: () => member.sessionAlive,
    throttle: new ByteRateThrottle(rate('follower.replication.throttled.rate'), nowMs),
    topicIdOf: topic => {
      const topicId = image.topic(topic)?.topicId
      return topicId === undefined ? undefined : Buffer.from(topicId, 'base64url')
    },
    logger,
  })
  return new ReplicaRoles({
    nodeId: config.nodeId,
    clock: systemClock,
    image,
    replicaLagTimeMaxMs: numericProperty(config, 'replica.lag.time.max.ms'),
    fetchers,
    logOf,
    alterPartition: change => controller.alterPartition(change),
    leaderThrottle: new ByteRateThrottle(rate('leader.replication.throttled.rate'), nowMs),
    notify: (topic, partition) => purgatory.notify(partitionKey(topic, partition)),
    wakeFollowers: (topic, partition) => purgatory.notify(followerFetchKey(topic, partition)),
    logger,
  })
}

/** `tributary.etcd.endpoints` set: connects to the cluster's etcd; else a single node. */
async function joinCluster (config: BrokerConfig, logger: Logger, clusterId: string):
Promise<ClusterMember | undefined> {
  const endpoints = config.properties.get('tributary.etcd.endpoints')?.value ?? null
  if (endpoints === null) return undefined
  return ClusterMember.connect({
    endpoints: parseEtcdEndpoints(endpoints),
    clusterName: config.properties.get('tributary.cluster.name')?.value ?? 'tributary',
    nodeId: config.nodeId,
    sessionTimeoutMs: numericProperty(config, 'broker.session.timeout.ms'),
    proposedClusterId: clusterId,
    logger,
  })
}

/** The controller on the local metadata log, or in a cluster on the etcd log it follows. */
async function openController (config: BrokerConfig, logger: Logger, logManager: LogManager,
  image: MetadataImage, member: ClusterMember | undefined, metrics: Metrics):
Promise<Controller> {
  if (member === undefined) {
    const metadataLog = await SegmentMetadataLog.open(logManager, systemClock)
    const replayed = await metadataLog.replayInto(image)
    logger.info(`replayed ${replayed} metadata records: ${image.topicCount} topics`)
    return new Controller(image, metadataLog, config.nodeId,
      replicationControlOptions(config, logger, metrics))
  }
  const controller = new Controller(image, member.log, config.nodeId, {
    role: member,
    ...replicationControlOptions(config, logger, metrics),
  })
  await member.follow(controller)
  logger.info(`replayed ${member.log.appliedOffset + 1} metadata batches from etcd: ` +
    `${image.topicCount} topics, cluster ${member.clusterId}`)
  return controller
}

/**
 * The controller's replication settings: each topic's effective
 * `unclean.leader.election.enable` (a topic override, else the broker's), unclean elections
 * counted in `tributary_unclean_leader_elections_total`, and the automatic preferred-leader
 * rebalance (`auto.leader.rebalance.enable`, `leader.imbalance.*`).
 */
function replicationControlOptions (config: BrokerConfig, logger: Logger, metrics: Metrics):
ControllerOptions {
  return {
    uncleanLeaderElection: topic =>
      effectiveTopicConfig(config, topic.configs).uncleanLeaderElectionEnable,
    onUncleanElection: () => metrics.recordUncleanElection(),
    logger,
    leaderRebalance: {
      enabled: config.properties.get('auto.leader.rebalance.enable')?.value !== 'false',
      intervalMs: numericProperty(config, 'leader.imbalance.check.interval.seconds') * 1000,
      imbalancePercent: numericProperty(config, 'leader.imbalance.per.broker.percentage'),
    },
  }
}

/** The replication gauges from the image, and ISR changes as they are committed. */
async function watchReplicationHealth (config: BrokerConfig, controller: Controller,
  metrics: Metrics): Promise<void> {
  const options: ReplicationHealthOptions = {
    nodeId: config.nodeId,
    image: controller.image,
    isActiveController: () => controller.isActive,
    minInsyncReplicas: topic => Number(topicConfigValue(config,
      controller.image.topic(topic)?.configs, 'min.insync.replicas')),
    onIsrChange: kind => metrics.recordIsrChange(kind),
  }
  metrics.setReplicationStatusProvider(() => replicationStatus(options))
  await controller.addPublisher(new IsrChangeCounter(options))
}

/** The cluster gauges' view: a cluster member's, or on a single node this broker alone. */
function clusterSampler (nodeId: number, image: MetadataImage,
  member: ClusterMember | undefined): () => ClusterSample {
  if (member === undefined) {
    return () => ({ activeControllerId: nodeId, isActiveController: true,
      liveBrokers: image.brokers.size, latestRevision: 0, appliedRevision: 0 })
  }
  return () => ({
    activeControllerId: member.activeControllerId,
    isActiveController: member.active,
    liveBrokers: image.brokers.size,
    latestRevision: member.log.latestRevision,
    appliedRevision: member.log.appliedRevision,
  })
}
