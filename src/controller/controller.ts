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
  | { kind: 'alterPartition', change: AlterPartitionChange }

export interface ControllerResult {
  block?: { first: number, end: number }
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
   * (KRaft's ReplicationControlManager.generateLeaderAndIsrUpdates on fencing): dead brokers
   * leave the ISR unless one would be the last member (kept, so it can lead again when it
   * returns: no unclean election), and the leader is the first live ISR member, or -1.
   */
  #leadershipChanges (live: ReadonlySet<number>): MetadataRecord[] {
    const records: MetadataRecord[] = []
    for (const topic of this.image.topics()) {
      for (const partition of topic.partitions) {
        const liveIsr = partition.isr.filter(id => live.has(id))
        const isr = liveIsr.length > 0 ? liveIsr : partition.isr
        const leader = live.has(partition.leader) ? partition.leader : liveIsr[0] ?? -1
        if (leader === partition.leader && isr.length === partition.isr.length) continue
        records.push({
          type: 'Partition', version: VERSION, topicId: topic.topicId,
          partitionId: partition.partitionId, replicas: partition.replicas, isr, leader,
          leaderEpoch: partition.leaderEpoch + (leader === partition.leader ? 0 : 1),
          partitionEpoch: partition.partitionEpoch + 1,
        })
      }
    }
    return records
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
      await this.#commit([{
        type: 'Partition', version: VERSION, topicId, partitionId: change.partition,
        replicas: current.replicas, isr: change.isr, leader: current.leader,
        leaderEpoch: current.leaderEpoch, partitionEpoch: current.partitionEpoch + 1,
      }])
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
    const ineligible = change.isr.filter(id => !current.isr.includes(id) &&
      (!current.replicas.includes(id) || !this.image.brokers.has(id)))
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
