/**
 * The active controller: validates admin operations against the MetadataImage, turns them into
 * metadata records, makes the records durable in the metadata log, and only then replays them
 * into the image (Kafka's QuorumController: "will not be completed until the results of the
 * operation have been made durable"). On one node the quorum is this node alone; a cluster puts
 * Raft behind the same `MetadataLog` port.
 *
 * Concurrency: operations run one at a time through `#serialize`, so every validation sees the
 * image that the previous operation left (no check-then-act race between two CreateTopics).
 *
 * Failure: a rejected operation throws `ControllerError` with a Kafka error name; nothing is
 * appended. If the append fails, nothing is replayed, so the image never runs ahead of the log.
 *
 * Publishing: after replaying an operation's records, the controller hands them to every
 * registered `MetadataPublisher` (Kafka's MetadataPublisher / BrokerMetadataPublisher) before
 * the operation resolves, still inside `#serialize`. So the replica manager follows metadata by
 * itself, its reconciliations never overlap each other or a topic creation, and a CreateTopics
 * answer is sent only once the partition logs exist. A publisher must not call back into the
 * controller (it would wait for itself). If a publisher fails, the records stay committed and
 * the operation rejects with that error; the next publication reconciles from the whole image.
 *
 * In a cluster (src/cluster, on etcd) the same class runs on every broker. The log then delivers
 * committed records back through `applyCommitted` (every broker, the active controller too,
 * replays what its etcd watch sees, so there is one replay path), and `#apply` serializes those
 * replays and publications apart from the operations. Only the active controller (its
 * `ControllerRole` says so) runs operations; every other broker forwards them to it (Kafka's
 * forwarding, KIP-590) and resolves once its own image has applied the result.
 */
import { newTopicId } from './topic-id.js'
import { validateTopicName } from '../protocol/topic-name.js'
import { MetadataImage, type PartitionInfo, type TopicInfo } from '../metadata/image.js'
import {
  METADATA_RECORD_VERSION as VERSION, type MetadataRecord,
} from '../metadata/records.js'
import { METADATA_TOPIC } from './metadata-topic.js'
import { placeReplicas } from './replica-placement.js'
import {
  changes, completedReassignment, onlineTarget, partitionRecord, preferredElection,
  reassigning, revertedReassignment, startReassignment, uncleanElection, type BrokerStates,
  type ElectionOutcome, type PartitionTarget,
} from './partition-change.js'

export interface MetadataLog {
  /** Appends the records as one batch and resolves once they are durable. */
  append (records: MetadataRecord[]): Promise<void>
  /**
   * True when the log itself hands every committed batch to `Controller.applyCommitted` before
   * `append` resolves (the etcd log, whose watch feeds every broker); the controller then does
   * not replay its own appends a second time.
   */
  readonly deliversCommits?: boolean
}

/** A controller operation as it travels from a broker to the active controller. */
export type ControllerOperation =
  | { kind: 'createTopic', spec: CreateTopicSpec }
  | { kind: 'deleteTopic', name: string }
  | { kind: 'createPartitions', name: string, totalCount: number }
  | { kind: 'alterConfigs', resourceType: 'topic' | 'broker', resourceName: string,
    changes: [string, string | null][] }
  | { kind: 'allocateProducerIdBlock' }
  | { kind: 'controlledShutdown', brokerId: number }
  | { kind: 'electLeaders', electionType: ElectionType,
    partitions: TopicPartitionRef[] | null }
  | { kind: 'alterPartitionReassignments', reassignments: ReassignmentRequest[],
    allowReplicationFactorChange: boolean }
  | { kind: 'alterPartition', change: AlterPartitionChange }

export interface ControllerResult {
  block?: { first: number, end: number }
  /** electLeaders and alterPartitionReassignments: one result per partition. */
  partitionResults?: PartitionResult[]
}

export type ElectionType = 'preferred' | 'unclean'

export interface TopicPartitionRef {
  topic: string
  partition: number
}

/** A target replica list for a partition, or null to cancel its reassignment (KIP-455). */
export interface ReassignmentRequest extends TopicPartitionRef {
  replicas: number[] | null
}

/** One partition's answer: errorName 'NONE' on success, else a Kafka error name. */
export interface PartitionResult extends TopicPartitionRef {
  errorName: string
  message: string | null
}

/** A reassignment in progress, as ListPartitionReassignments shows it. */
export interface OngoingReassignment extends TopicPartitionRef {
  replicas: number[]
  addingReplicas: number[]
  removingReplicas: number[]
}

/** A leader's ISR change for one partition (Kafka's AlterPartition, KIP-497). */
export interface AlterPartitionChange {
  topic: string
  partition: number
  /** The broker asking: it must be the partition's leader in `leaderEpoch`. */
  leaderId: number
  leaderEpoch: number
  /** The partition epoch the change is based on; any other is INVALID_UPDATE_VERSION. */
  partitionEpoch: number
  isr: number[]
}

/** Who runs operations in a cluster: this node when active, else the active one, forwarded. */
export interface ControllerRole {
  /** True while this node holds the controller election (its writes are fenced by epoch). */
  readonly active: boolean
  /** The active controller's node id, or -1 when there is none (an election is under way). */
  readonly activeControllerId: number
  /**
   * Runs the operation on the active controller and resolves once this node's image has
   * applied it; rejects with ControllerError (NOT_CONTROLLER, REQUEST_TIMED_OUT, or the
   * controller's own refusal).
   */
  forward (operation: ControllerOperation): Promise<ControllerResult>
}

export interface ControllerOptions {
  /** Absent: a single-node cluster, this node is always the controller. */
  role?: ControllerRole
  /** Kafka draws placement start and shift at random; tests pass a fixed source. */
  random?: () => number
  /** The topic's effective `unclean.leader.election.enable` (broker default false). */
  uncleanLeaderElection?: (topic: TopicInfo) => boolean
  /** Counted once per unclean election (main.ts: the recordUncleanElection metric). */
  onUncleanElection?: () => void
  /** Where elections are logged (an unclean one at ERROR). */
  logger?: { info (message: string): void, error (message: string): void }
  /**
   * `auto.leader.rebalance.enable` and its check (Kafka's checkAndTriggerAutoLeaderRebalance):
   * every `intervalMs`, a preferred election for the partitions of each broker whose share of
   * preferred partitions it does not lead passes `imbalancePercent`.
   */
  leaderRebalance?: { enabled: boolean, intervalMs: number, imbalancePercent: number }
}

/** Follows the image: told of every committed change, in commit order, one at a time. */
export interface MetadataPublisher {
  /**
   * `records` were just replayed into `image`; undefined means "catch up with the whole
   * image" (once, when the publisher is added, e.g. at start-up after the log replay).
   */
  publish (image: MetadataImage, records: readonly MetadataRecord[] | undefined): Promise<void>
}

export class ControllerError extends Error {
  override name = 'ControllerError'
  readonly errorName: string

  constructor (errorName: string, message: string) {
    super(message)
    this.errorName = errorName
  }
}

/** Kafka's Topic.validate, defined once in the protocol layer; re-exported for callers here. */
export { TOPIC_NAME_LENGTH_MAX, validateTopicName } from '../protocol/topic-name.js'
/** How many producer ids one ProducerIds record reserves (Kafka's PRODUCER_ID_BLOCK_SIZE). */
export const PRODUCER_ID_BLOCK_SIZE = 1000
/** CreatePartitions / CreateTopics cap, far above any sane use, to bound memory per request. */
export const PARTITIONS_PER_TOPIC_MAX = 10_000

/** The metadata topic's name can never be a topic's. */
export function validateNotReserved (name: string): void {
  if (name === METADATA_TOPIC) {
    // KRaft's ControllerApis.createTopics answers exactly this for its metadata topic.
    throw new ControllerError('INVALID_REQUEST',
      `Creation of internal topic ${METADATA_TOPIC} is prohibited.`)
  }
}

export interface CreateTopicSpec {
  name: string
  partitions: number
  replicationFactor: number
  configs: Record<string, string>
}

export class Controller {
  readonly image: MetadataImage
  readonly #log: MetadataLog
  readonly #nodeId: number
  readonly #publishers: MetadataPublisher[] = []
  readonly #role: ControllerRole | undefined
  readonly #random: () => number
  readonly #uncleanLeaderElection: (topic: TopicInfo) => boolean
  readonly #onUncleanElection: () => void
  readonly #logger: { info (message: string): void, error (message: string): void } | undefined
  readonly #leaderRebalance: { enabled: boolean, intervalMs: number, imbalancePercent: number }
  /**
   * Brokers in controlled shutdown (KIP-631's wantShutDown), on the active controller only:
   * they may not lead or join an ISR. Bounded by the registered brokers: an entry goes when its
   * broker unregisters or comes back as a new incarnation. A controller failover forgets it;
   * the shutting-down broker repeats its request until it leads nothing it could hand off.
   */
  readonly #shuttingDown = new Map<number, string | undefined>()
  #lastRebalanceMs: number | undefined
  #tail: Promise<unknown> = Promise.resolve()
  /** Replays and publications, one at a time and in commit order. */
  #applyTail: Promise<unknown> = Promise.resolve()

  constructor (image: MetadataImage, log: MetadataLog, nodeId: number,
    options: ControllerOptions = {}) {
    this.image = image
    this.#log = log
    this.#nodeId = nodeId
    this.#role = options.role
    this.#random = options.random ?? Math.random
    this.#uncleanLeaderElection = options.uncleanLeaderElection ??
      (topic => topic.configs.get('unclean.leader.election.enable') === 'true')
    this.#onUncleanElection = options.onUncleanElection ?? (() => undefined)
    this.#logger = options.logger
    // Kafka's defaults: auto.leader.rebalance.enable=true, 300 s, 10 %.
    this.#leaderRebalance = options.leaderRebalance ??
      { enabled: true, intervalMs: 300_000, imbalancePercent: 10 }
  }

  #serialize<T> (operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation, operation)
    this.#tail = result.catch(() => undefined)
    return result
  }

  #apply<T> (step: () => Promise<T>): Promise<T> {
    const result = this.#applyTail.then(step, step)
    this.#applyTail = result.catch(() => undefined)
    return result
  }

  async #commit (records: MetadataRecord[]): Promise<void> {
    await this.#commitBatch(records)
    // KIP-455: a reassignment completes as soon as its last target replica is in the ISR,
    // whichever operation put it there (an ISR expansion, a broker's return, its start).
    const completions = this.#reassignmentCompletions(records)
    if (completions.length > 0) await this.#commitBatch(completions)
  }

  async #commitBatch (records: MetadataRecord[]): Promise<void> {
    if (records.length === 0) return
    if (this.#role !== undefined && !this.#role.active) {
      throw new ControllerError('NOT_CONTROLLER', `broker ${this.#nodeId} is no longer the ` +
        'active controller; retry')
    }
    await this.#log.append(records)
    if (this.#log.deliversCommits !== true) await this.applyCommitted(records)
  }

  /**
   * Replays committed records into the image and publishes them, after every earlier batch
   * (the etcd follower calls this for each batch its watch delivers, in log order).
   */
  applyCommitted (records: readonly MetadataRecord[]): Promise<void> {
    return this.#apply(async () => {
      for (const record of records) this.image.replay(record)
      for (const publisher of this.#publishers) await publisher.publish(this.image, records)
    })
  }

  /** Adds a publisher; it first catches up with the whole image, serialized with operations. */
  addPublisher (publisher: MetadataPublisher): Promise<void> {
    return this.#serialize(() => this.#apply(async () => {
      this.#publishers.push(publisher)
      await publisher.publish(this.image, undefined)
    }))
  }

  get liveBrokerCount (): number {
    return Math.max(1, this.image.brokers.size)
  }

  /** The active controller's node id (-1 while a cluster elects one); this node when alone. */
  get activeControllerId (): number {
    return this.#role === undefined ? this.#nodeId : this.#role.activeControllerId
  }

  /** True when operations run here rather than being forwarded. */
  get isActive (): boolean {
    return this.#role === undefined || this.#role.active
  }

  /** Runs a forwarded operation on this (active) controller. */
  async execute (operation: ControllerOperation): Promise<ControllerResult> {
    switch (operation.kind) {
      case 'createTopic': await this.createTopic(operation.spec); return {}
      case 'deleteTopic': await this.deleteTopic(operation.name); return {}
      case 'createPartitions':
        await this.createPartitions(operation.name, operation.totalCount, false)
        return {}
      case 'alterConfigs':
        await this.alterConfigs(operation.resourceType, operation.resourceName,
          new Map(operation.changes))
        return {}
      case 'allocateProducerIdBlock': return { block: await this.allocateProducerIdBlock() }
      case 'controlledShutdown': await this.controlledShutdown(operation.brokerId); return {}
      case 'electLeaders':
        return { partitionResults:
          await this.electLeaders(operation.electionType, operation.partitions) }
      case 'alterPartitionReassignments':
        return { partitionResults: await this.alterPartitionReassignments(
          operation.reassignments, operation.allowReplicationFactorChange) }
      case 'alterPartition': await this.alterPartition(operation.change); return {}
    }
  }

  /** On a broker that is not the active controller: the operation, forwarded. */
  #forwarded (operation: ControllerOperation): Promise<ControllerResult> | undefined {
    if (this.#role === undefined || this.#role.active) return undefined
    return this.#role.forward(operation)
  }

  registerBroker (host: string, port: number, rack: string | null,
    endpoints: { listener: string, host: string, port: number }[] = []): Promise<void> {
    return this.#serialize(async () => {
      const current = this.image.brokers.get(this.#nodeId)
      if (current?.host === host && current.port === port && current.rack === rack &&
        JSON.stringify(current.endpoints) === JSON.stringify(endpoints)) return
      await this.#commit([{
        type: 'RegisterBroker', version: VERSION, brokerId: this.#nodeId, host, port, rack,
        endpoints,
      }])
    })
  }

  /**
   * On the active controller of a cluster: makes the image's live brokers equal `registered`
   * (the brokers with a live etcd session). A broker that left is unregistered and every
   * partition it led moves to the first other live in-sync replica, or to no leader (-1)
   * when none is left (Kafka's PartitionChangeBuilder without unclean election); a broker that
   * (re)joined takes back the leaderless partitions whose ISR holds it. One batch, so a reader
   * never sees a leader that is not a live broker.
   */
  reconcileBrokers (registered: readonly BrokerRegistration[]): Promise<void> {
    return this.#serialize(async () => {
      const byId = new Map(registered.map(broker => [broker.brokerId, broker]))
      for (const [brokerId, incarnationId] of this.#shuttingDown) {
        if (byId.get(brokerId)?.incarnationId !== incarnationId) this.#shuttingDown.delete(brokerId)
      }
      const records: MetadataRecord[] = []
      for (const brokerId of this.image.brokers.keys()) {
        if (!byId.has(brokerId)) {
          records.push({ type: 'UnregisterBroker', version: VERSION, brokerId })
        }
      }
      for (const broker of registered) {
        const current = this.image.brokers.get(broker.brokerId)
        if (current !== undefined && current.incarnationId === broker.incarnationId &&
          JSON.stringify(current.endpoints) === JSON.stringify(broker.endpoints)) continue
        records.push({ type: 'RegisterBroker', version: VERSION, ...broker })
      }
      if (records.length === 0) return
      records.push(...this.#leadershipChanges(new Set(byId.keys())))
      await this.#commit(records)
    })
  }

  /**
   * Partition records for every partition whose leader or ISR must change given the live set
   * and the brokers in controlled shutdown (KRaft's generateLeaderAndIsrUpdates; the decision
   * is partition-change.ts's `onlineTarget`): ineligible brokers leave the ISR unless one would
   * be the last member, and the leader is kept or moves to the next eligible ISR member, or to
   * an out-of-sync replica where the topic allows unclean elections, or to -1.
   */
  #leadershipChanges (live: ReadonlySet<number>): MetadataRecord[] {
    const states: BrokerStates = { live, shuttingDown: new Set(this.#shuttingDown.keys()) }
    const records: MetadataRecord[] = []
    for (const topic of this.image.topics()) {
      for (const partition of topic.partitions) {
        const target = onlineTarget(partition, states, () => this.#uncleanLeaderElection(topic))
        if (!changes(partition, target)) continue
        if (target.unclean) this.#reportUnclean(topic, partition, target)
        records.push(partitionRecord(topic.topicId, partition, target))
      }
    }
    return records
  }

  #reportUnclean (topic: TopicInfo, partition: PartitionInfo, target: PartitionTarget): void {
    this.#onUncleanElection()
    this.#logger?.error(`UNCLEAN LEADER ELECTION for ${topic.name}-${partition.partitionId}: ` +
      `no in-sync replica of ISR [${partition.isr.join(',')}] is alive, so out-of-sync ` +
      `replica ${target.leader} becomes leader (ISR [${target.leader}]). Records acknowledged ` +
      'by the old ISR that this replica never received are LOST, and consumers may see ' +
      'offsets reused (unclean.leader.election.enable=true)')
  }

  /** The brokers as the active controller sees them: registered, and shutting down. */
  #brokerStates (): BrokerStates {
    return { live: new Set(this.image.brokers.keys()),
      shuttingDown: new Set(this.#shuttingDown.keys()) }
  }

  /** True when `brokerId` may lead or join an ISR (registered, not in controlled shutdown). */
  isEligibleReplica (brokerId: number): boolean {
    return this.image.brokers.has(brokerId) && !this.#shuttingDown.has(brokerId)
  }

  /** Validates without committing (CreateTopics `validate_only`). */
  validateCreateTopic (spec: CreateTopicSpec): void {
    const invalid = validateTopicName(spec.name)
    if (invalid !== undefined) throw new ControllerError('INVALID_TOPIC_EXCEPTION', invalid)
    validateNotReserved(spec.name)
    if (this.image.topic(spec.name) !== undefined) {
      throw new ControllerError('TOPIC_ALREADY_EXISTS', `topic '${spec.name}' already exists`)
    }
    const colliding = this.image.topicCollidingWith(spec.name)
    if (colliding !== undefined) {
      throw new ControllerError('INVALID_TOPIC_EXCEPTION', `topic '${spec.name}' collides ` +
        `with existing topic '${colliding}' ('.' and '_' are interchangeable in metrics)`)
    }
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1 ||
      spec.partitions > PARTITIONS_PER_TOPIC_MAX) {
      throw new ControllerError('INVALID_PARTITIONS',
        `number of partitions must be between 1 and ${PARTITIONS_PER_TOPIC_MAX}, ` +
        `got ${spec.partitions}`)
    }
    const brokers = this.liveBrokerCount
    if (!Number.isInteger(spec.replicationFactor) || spec.replicationFactor < 1 ||
      spec.replicationFactor > brokers) {
      throw new ControllerError('INVALID_REPLICATION_FACTOR',
        `replication factor ${spec.replicationFactor} is invalid: the cluster has ` +
        `${brokers} broker${brokers === 1 ? '' : 's'}`)
    }
  }

  createTopic (spec: CreateTopicSpec): Promise<TopicInfo> {
    const forwarded = this.#forwarded({ kind: 'createTopic', spec })
    if (forwarded !== undefined) return forwarded.then(() => this.#visible(spec.name))
    return this.#serialize(async () => {
      this.validateCreateTopic(spec)
      const topicId = newTopicId()
      const records: MetadataRecord[] = [
        { type: 'Topic', version: VERSION, name: spec.name, topicId },
      ]
      for (const [name, value] of Object.entries(spec.configs)) {
        records.push({
          type: 'Config', version: VERSION, resourceType: 'topic', resourceName: spec.name,
          name, value,
        })
      }
      records.push(...this.#newPartitions(topicId, 0, spec.partitions, spec.replicationFactor))
      await this.#commit(records)
      return this.#visible(spec.name)
    })
  }

  #visible (name: string): TopicInfo {
    const topic = this.image.topic(name)
    // Both paths resolve only after the image applied the creation, and only a later
    // operation (serialized after this one) could remove it.
    if (topic === undefined) {
      throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${name}' was deleted right after its creation`)
    }
    return topic
  }

  /** The live brokers replicas go to; alone and unregistered yet, this node. */
  #placementBrokers (): { brokerId: number, rack: string | null }[] {
    const live = [...this.image.brokers.values()]
    return live.length > 0 ? live : [{ brokerId: this.#nodeId, rack: null }]
  }

  /** Partitions [first, first + count) placed over the live brokers (replica-placement.ts). */
  #newPartitions (topicId: string, first: number, count: number,
    replicationFactor: number): MetadataRecord[] {
    const brokers = this.#placementBrokers()
    const draw = (): number => Math.floor(this.#random() * brokers.length)
    const assignments = placeReplicas({
      brokers, partitions: count, replicationFactor, firstPartitionId: first,
      start: draw(), shift: draw(),
    })
    return assignments.map((replicas, index) => ({
      type: 'Partition', version: VERSION, topicId, partitionId: first + index, replicas,
      // A new partition's replicas are all in sync: none has data yet (Kafka does the same).
      isr: replicas, leader: replicas[0] as number, leaderEpoch: 0, partitionEpoch: 0,
    }))
  }

  deleteTopic (name: string): Promise<TopicInfo> {
    if (this.#role !== undefined && !this.#role.active) {
      // The answer names the deleted topic as this broker's image knew it.
      const known = this.image.topic(name)
      if (known === undefined) {
        return Promise.reject(new ControllerError('UNKNOWN_TOPIC_OR_PARTITION',
          `topic '${name}' does not exist`))
      }
      return this.#role.forward({ kind: 'deleteTopic', name }).then(() => known)
    }
    return this.#serialize(async () => {
      const topic = this.image.topic(name)
      if (topic === undefined) {
        throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`)
      }
      await this.#commit([{ type: 'RemoveTopic', version: VERSION, topicId: topic.topicId }])
      return topic
    })
  }

  /** Grows a topic to `totalCount` partitions (Kafka never shrinks one). */
  createPartitions (name: string, totalCount: number, validateOnly: boolean): Promise<void> {
    const forwarded = validateOnly
      ? undefined
      : this.#forwarded({ kind: 'createPartitions', name, totalCount })
    if (forwarded !== undefined) return forwarded.then(() => undefined)
    return this.#serialize(async () => {
      const topic = this.image.topic(name)
      if (topic === undefined) {
        throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`)
      }
      const current = topic.partitions.length
      if (!Number.isInteger(totalCount) || totalCount <= current) {
        throw new ControllerError('INVALID_PARTITIONS', `topic '${name}' has ${current} ` +
          `partitions; the new count ${totalCount} must be larger`)
      }
      if (totalCount > PARTITIONS_PER_TOPIC_MAX) {
        throw new ControllerError('INVALID_PARTITIONS',
          `number of partitions must be at most ${PARTITIONS_PER_TOPIC_MAX}`)
      }
      // Kafka's CreatePartitions keeps the replication factor of the topic's first partition.
      const replicationFactor = topic.partitions[0]?.replicas.length ?? 1
      if (replicationFactor > this.liveBrokerCount) {
        throw new ControllerError('INVALID_REPLICATION_FACTOR', `topic '${name}' has ` +
          `replication factor ${replicationFactor} but only ${this.liveBrokerCount} ` +
          'brokers are alive')
      }
      if (validateOnly) return
      await this.#commit(this.#newPartitions(topic.topicId, current, totalCount - current,
        replicationFactor))
    })
  }

  /** Sets (value) or removes (null) configs of a topic or of this broker. */
  alterConfigs (resourceType: 'topic' | 'broker', resourceName: string,
    changes: Map<string, string | null>): Promise<void> {
    const forwarded = this.#forwarded({
      kind: 'alterConfigs', resourceType, resourceName, changes: [...changes],
    })
    if (forwarded !== undefined) return forwarded.then(() => undefined)
    return this.#serialize(async () => {
      if (resourceType === 'topic' && this.image.topic(resourceName) === undefined) {
        throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION',
          `topic '${resourceName}' does not exist`)
      }
      const records: MetadataRecord[] = [...changes].map(([name, value]) => ({
        type: 'Config', version: VERSION, resourceType, resourceName, name, value,
      }))
      await this.#commit(records)
    })
  }

  /** Reserves a block of producer ids that no broker will ever be given again (KIP-730). */
  allocateProducerIdBlock (): Promise<{ first: number, end: number }> {
    const forwarded = this.#forwarded({ kind: 'allocateProducerIdBlock' })
    if (forwarded !== undefined) {
      return forwarded.then(result => {
        if (result.block === undefined) {
          throw new ControllerError('UNKNOWN_SERVER_ERROR', 'the controller sent no block')
        }
        return result.block
      })
    }
    return this.#serialize(async () => {
      const first = this.image.nextProducerId
      const end = first + PRODUCER_ID_BLOCK_SIZE
      await this.#commit([{
        type: 'ProducerIds', version: VERSION, brokerId: this.#nodeId, nextProducerId: end,
      }])
      return { first, end }
    })
  }

  /**
   * Controlled shutdown (KIP-631's wantShutDown): `brokerId` may no longer lead or join an
   * ISR; every partition it leads moves to another eligible ISR member (leader epoch + 1) and it
   * leaves every ISR where it is not the last member, in one batch. A partition whose only
   * in-sync replica it is stays with it (handing it off would lose data). Repeatable: a second
   * call commits what changed since (an ISR member that came back meanwhile).
   */
  controlledShutdown (brokerId: number): Promise<void> {
    const forwarded = this.#forwarded({ kind: 'controlledShutdown', brokerId })
    if (forwarded !== undefined) return forwarded.then(() => undefined)
    return this.#serialize(async () => {
      const broker = this.image.brokers.get(brokerId)
      // Not registered: it is fenced already and leads nothing.
      if (broker === undefined) return
      this.#shuttingDown.set(brokerId, broker.incarnationId)
      const records = this.#leadershipChanges(new Set(this.image.brokers.keys()))
      await this.#commit(records)
      this.#logger?.info(`controlled shutdown of broker ${brokerId}: ${records.length} ` +
        'partition(s) changed leader or ISR')
    })
  }

  /**
   * ElectLeaders (KIP-183 preferred, KIP-460 unclean) for `partitions`, or for every partition
   * when null (then only the partitions where an election was possible are answered, as
   * Kafka's Admin does). One batch for all elections.
   */
  electLeaders (electionType: ElectionType, partitions: TopicPartitionRef[] | null):
  Promise<PartitionResult[]> {
    const forwarded = this.#forwarded({ kind: 'electLeaders', electionType, partitions })
    if (forwarded !== undefined) return forwarded.then(result => result.partitionResults ?? [])
    return this.#serialize(async () => {
      const states = this.#brokerStates()
      const refs = partitions ?? this.#allPartitions()
      const results: PartitionResult[] = []
      const records: MetadataRecord[] = []
      const seen = new Set<string>()
      for (const ref of refs) {
        const key = `${ref.topic}\u0000${ref.partition}`
        if (seen.has(key)) continue
        seen.add(key)
        const found = this.#partition(ref)
        if (found === undefined) {
          results.push({ ...ref, errorName: 'UNKNOWN_TOPIC_OR_PARTITION',
            message: `${ref.topic}-${ref.partition} does not exist` })
          continue
        }
        const outcome: ElectionOutcome = electionType === 'preferred'
          ? preferredElection(found.partition, states)
          : uncleanElection(found.partition, states)
        if (!('target' in outcome)) {
          if (partitions !== null || outcome.errorName !== 'ELECTION_NOT_NEEDED') {
            results.push({ ...ref, errorName: outcome.errorName, message: outcome.message })
          }
          continue
        }
        if (outcome.target.unclean) {
          this.#reportUnclean(found.topic, found.partition, outcome.target)
        }
        records.push(partitionRecord(found.topic.topicId, found.partition, outcome.target))
        results.push({ ...ref, errorName: 'NONE', message: null })
      }
      await this.#commit(records)
      return results
    })
  }

  #allPartitions (): TopicPartitionRef[] {
    const refs: TopicPartitionRef[] = []
    for (const topic of this.image.topics()) {
      for (const { partitionId } of topic.partitions) {
        refs.push({ topic: topic.name, partition: partitionId })
      }
    }
    return refs
  }

  #partition (ref: TopicPartitionRef): { topic: TopicInfo, partition: PartitionInfo } | undefined {
    const topic = this.image.topic(ref.topic)
    const partition = topic?.partitions[ref.partition]
    return topic === undefined || partition === undefined ? undefined : { topic, partition }
  }

  /**
   * AlterPartitionReassignments (KIP-455): starts (or replaces) a reassignment per partition,
   * or cancels one (replicas null). A reassignment whose target is already in sync completes
   * in the same call; others complete when their last target replica joins the ISR.
   */
  alterPartitionReassignments (reassignments: ReassignmentRequest[],
    allowReplicationFactorChange: boolean): Promise<PartitionResult[]> {
    const forwarded = this.#forwarded({ kind: 'alterPartitionReassignments', reassignments,
      allowReplicationFactorChange })
    if (forwarded !== undefined) return forwarded.then(result => result.partitionResults ?? [])
    return this.#serialize(async () => {
      const states = this.#brokerStates()
      const results: PartitionResult[] = []
      const records: MetadataRecord[] = []
      const seen = new Set<string>()
      for (const request of reassignments) {
        const ref = { topic: request.topic, partition: request.partition }
        const key = `${ref.topic}\u0000${ref.partition}`
        const refused = (errorName: string, message: string): void => {
          results.push({ ...ref, errorName, message })
        }
        if (seen.has(key)) {
          refused('INVALID_REQUEST', `${ref.topic}-${ref.partition} is named twice`)
          continue
        }
        seen.add(key)
        const found = this.#partition(ref)
        if (found === undefined) {
          refused('UNKNOWN_TOPIC_OR_PARTITION', `${ref.topic}-${ref.partition} does not exist`)
          continue
        }
        const decided = this.#reassignmentTarget(found.partition, request.replicas,
          allowReplicationFactorChange, states)
        if ('errorName' in decided) {
          refused(decided.errorName, decided.message)
          continue
        }
        if (changes(found.partition, decided.target)) {
          records.push(partitionRecord(found.topic.topicId, found.partition, decided.target))
        }
        results.push({ ...ref, errorName: 'NONE', message: null })
      }
      await this.#commit(records)
      return results
    })
  }

  /** One partition's reassignment decision, or the reason it is refused. */
  #reassignmentTarget (partition: PartitionInfo, replicas: number[] | null,
    allowReplicationFactorChange: boolean, states: BrokerStates):
    { target: PartitionTarget } | { errorName: string, message: string } {
    if (replicas === null) {
      if (!reassigning(partition)) {
        return { errorName: 'NO_REASSIGNMENT_IN_PROGRESS', message: 'no reassignment of ' +
          'this partition is in progress' }
      }
      const reverted = revertedReassignment(partition, states)
      if (reverted === undefined) {
        return { errorName: 'INVALID_REPLICA_ASSIGNMENT', message: 'only replicas being ' +
          'added are in sync: cancelling would leave the partition without its data; ' +
          'reassign to them instead' }
      }
      return { target: reverted }
    }
    const invalid = this.#invalidAssignment(replicas)
    if (invalid !== undefined) return { errorName: 'INVALID_REPLICA_ASSIGNMENT', message: invalid }
    // A new target replaces one in progress, counted from the current (merged) replicas,
    // as KRaft does: replicas still catching up and kept by the target just go on.
    const current = partition.replicas.filter(id => !partition.addingReplicas.includes(id))
    if (!allowReplicationFactorChange && replicas.length !== current.length) {
      // KIP-860: the request may forbid changing the replication factor.
      return { errorName: 'INVALID_REPLICATION_FACTOR', message: `the replication factor ` +
        `would change from ${current.length} to ${replicas.length}` }
    }
    if (partition.leader === -1) {
      return { errorName: 'INVALID_REPLICA_ASSIGNMENT', message: 'the partition has no ' +
        'leader, so new replicas could not catch up; elect a leader first' }
    }
    return { target: startReassignment(partition, replicas) }
  }

  #invalidAssignment (replicas: number[]): string | undefined {
    if (replicas.length === 0) return 'the replica list is empty'
    if (new Set(replicas).size !== replicas.length) {
      return `the replica list ${replicas.join(',')} names a broker twice`
    }
    const unknown = replicas.filter(id => !this.image.brokers.has(id))
    if (unknown.length > 0) return `broker(s) ${unknown.join(',')} are not registered`
    return undefined
  }

  /** The reassignments in progress, of `partitions` or all (ListPartitionReassignments). */
  listPartitionReassignments (partitions: TopicPartitionRef[] | null): OngoingReassignment[] {
    const ongoing: OngoingReassignment[] = []
    for (const ref of partitions ?? this.#allPartitions()) {
      const partition = this.#partition(ref)?.partition
      if (partition === undefined || !reassigning(partition)) continue
      ongoing.push({ ...ref, replicas: [...partition.replicas],
        addingReplicas: [...partition.addingReplicas],
        removingReplicas: [...partition.removingReplicas] })
    }
    return ongoing
  }

  /** Completion records for the reassigning partitions named by `records`' Partition records. */
  #reassignmentCompletions (records: readonly MetadataRecord[]): MetadataRecord[] {
    const states = this.#brokerStates()
    const completions: MetadataRecord[] = []
    for (const record of records) {
      if (record.type !== 'Partition') continue
      const topic = this.image.topicById(record.topicId)
      const partition = topic?.partitions[record.partitionId]
      if (topic === undefined || partition === undefined) continue
      const target = completedReassignment(partition, states)
      if (target !== undefined) completions.push(partitionRecord(topic.topicId, partition, target))
    }
    return completions
  }

  /**
   * The active controller's periodic duties (controller-seat.ts calls this every tick):
   * completes reassignments whose targets are in sync (a backstop for the check after each
   * commit), and runs the automatic preferred leader election when it is due.
   */
  periodicDuties (nowMs: number): Promise<void> {
    return this.#serialize(async () => {
      const states = this.#brokerStates()
      const records: MetadataRecord[] = []
      for (const topic of this.image.topics()) {
        for (const partition of topic.partitions) {
          const target = completedReassignment(partition, states)
          if (target !== undefined) records.push(partitionRecord(topic.topicId, partition, target))
        }
      }
      const rebalance = this.#leaderRebalance
      if (records.length === 0 && rebalance.enabled &&
        nowMs - (this.#lastRebalanceMs ?? nowMs) >= rebalance.intervalMs) {
        records.push(...this.#rebalanceRecords(states))
        this.#lastRebalanceMs = nowMs
      }
      this.#lastRebalanceMs ??= nowMs
      await this.#commit(records)
    })
  }

  /**
   * Kafka's checkAndTriggerAutoLeaderRebalance: for each broker, the share of the partitions
   * it is the preferred replica of that it does not lead; past `imbalancePercent`, a preferred
   * election for those (where the preferred replica can lead; none being reassigned).
   */
  #rebalanceRecords (states: BrokerStates): MetadataRecord[] {
    const preferredOf = new Map<number, { total: number,
      misled: { topic: TopicInfo, partition: PartitionInfo }[] }>()
    for (const topic of this.image.topics()) {
      for (const partition of topic.partitions) {
        const preferred = partition.replicas[0] as number
        const entry = preferredOf.get(preferred) ?? { total: 0, misled: [] }
        preferredOf.set(preferred, entry)
        entry.total++
        if (partition.leader !== preferred) entry.misled.push({ topic, partition })
      }
    }
    const records: MetadataRecord[] = []
    for (const [brokerId, { total, misled }] of preferredOf) {
      if (misled.length * 100 <= total * this.#leaderRebalance.imbalancePercent) continue
      let moved = 0
      for (const { topic, partition } of misled) {
        if (reassigning(partition)) continue
        const outcome = preferredElection(partition, states)
        if (!('target' in outcome)) continue
        records.push(partitionRecord(topic.topicId, partition, outcome.target))
        moved++
      }
      if (moved > 0) {
        this.#logger?.info(`leader imbalance of broker ${brokerId}: ${misled.length} of ` +
          `${total} preferred partitions led elsewhere; moved ${moved} back`)
      }
    }
    return records
  }
  /**
   * A leader changes its partition's ISR (Kafka's AlterPartition, validated as KRaft's
   * ReplicationControlManager.validateAlterPartitionData): the leader epoch must be the current
   * one (older: FENCED_LEADER_EPOCH; newer: this controller is behind, NOT_CONTROLLER) and so
   * must the partition epoch (INVALID_UPDATE_VERSION: a change the leader has not seen came
   * first); the leader stays in the ISR (INVALID_REQUEST); every new member is a replica with a
   * live registration (INELIGIBLE_REPLICA: never a fenced broker). The change is one Partition
   * record with the partition epoch bumped; the leader applies it when the record arrives.
   */
  alterPartition (change: AlterPartitionChange): Promise<PartitionInfo> {
    const forwarded = this.#forwarded({ kind: 'alterPartition', change })
    if (forwarded !== undefined) {
      return forwarded.then(() => this.#partitionInfo(change.topic, change.partition))
    }
    return this.#serialize(async () => {
      const current = this.#partitionInfo(change.topic, change.partition)
      const topicId = (this.image.topic(change.topic) as TopicInfo).topicId
      this.#validateAlterPartition(change, current)
      if (sameMembers(change.isr, current.isr)) return current
      // partitionRecord carries a reassignment in progress over (and #commit completes it
      // when this change put its last target replica in the ISR).
      await this.#commit([partitionRecord(topicId, current, {
        replicas: current.replicas, isr: change.isr, leader: current.leader,
        addingReplicas: current.addingReplicas, removingReplicas: current.removingReplicas,
        unclean: false,
      })])
      return this.#partitionInfo(change.topic, change.partition)
    })
  }

  #partitionInfo (topic: string, partition: number): PartitionInfo {
    const info = this.image.topic(topic)?.partitions[partition]
    if (info === undefined) {
      throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION',
        `partition ${topic}-${partition} does not exist`)
    }
    return info
  }

  #validateAlterPartition (change: AlterPartitionChange, current: PartitionInfo): void {
    const name = `${change.topic}-${change.partition}`
    if (change.leaderEpoch < current.leaderEpoch || change.leaderId !== current.leader) {
      throw new ControllerError('FENCED_LEADER_EPOCH', `${name}: leader ${change.leaderId} ` +
        `epoch ${change.leaderEpoch} is fenced; the leader is ${current.leader} in epoch ` +
        `${current.leaderEpoch}`)
    }
    if (change.leaderEpoch > current.leaderEpoch) {
      throw new ControllerError('NOT_CONTROLLER', `${name}: leader epoch ` +
        `${change.leaderEpoch} is newer than this controller's ${current.leaderEpoch}`)
    }
    if (change.partitionEpoch !== current.partitionEpoch) {
      throw new ControllerError('INVALID_UPDATE_VERSION', `${name}: partition epoch ` +
        `${change.partitionEpoch} is not the current ${current.partitionEpoch}`)
    }
    if (!change.isr.includes(change.leaderId) || new Set(change.isr).size !== change.isr.length) {
      throw new ControllerError('INVALID_REQUEST', `${name}: the new ISR ` +
        `[${change.isr.join(',')}] must hold the leader once, and no replica twice`)
    }
    // A broker in controlled shutdown may not join an ISR either (isEligibleReplica).
    const ineligible = change.isr.filter(id => !current.isr.includes(id) &&
      (!current.replicas.includes(id) || !this.isEligibleReplica(id)))
    if (ineligible.length > 0) {
      throw new ControllerError('INELIGIBLE_REPLICA', `${name}: replicas ` +
        `[${ineligible.join(',')}] cannot join the ISR (not a replica, or not live)`)
    }
  }
}

function sameMembers (a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every(id => b.includes(id))
}

/** A cluster broker as its registration (src/cluster) describes it. */
export interface BrokerRegistration {
  brokerId: number
  host: string
  port: number
  rack: string | null
  endpoints: { listener: string, host: string, port: number }[]
  incarnationId: string
}
