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
 */
import { newTopicId } from './topic-id.js'
import { validateTopicName } from '../protocol/topic-name.js'
import { MetadataImage, type TopicInfo } from '../metadata/image.js'
import {
  METADATA_RECORD_VERSION as VERSION, type MetadataRecord,
} from '../metadata/records.js'
import { METADATA_TOPIC } from './metadata-topic.js'

export interface MetadataLog {
  /** Appends the records as one batch and resolves once they are durable. */
  append (records: MetadataRecord[]): Promise<void>
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
  #tail: Promise<unknown> = Promise.resolve()

  constructor (image: MetadataImage, log: MetadataLog, nodeId: number) {
    this.image = image
    this.#log = log
    this.#nodeId = nodeId
  }

  #serialize<T> (operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation, operation)
    this.#tail = result.catch(() => undefined)
    return result
  }

  async #commit (records: MetadataRecord[]): Promise<void> {
    if (records.length === 0) return
    await this.#log.append(records)
    for (const record of records) this.image.replay(record)
    for (const publisher of this.#publishers) await publisher.publish(this.image, records)
  }

  /** Adds a publisher; it first catches up with the whole image, serialized with operations. */
  addPublisher (publisher: MetadataPublisher): Promise<void> {
    return this.#serialize(async () => {
      this.#publishers.push(publisher)
      await publisher.publish(this.image, undefined)
    })
  }

  get liveBrokerCount (): number {
    return Math.max(1, this.image.brokers.size)
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
      for (let partitionId = 0; partitionId < spec.partitions; partitionId++) {
        records.push(this.#newPartition(topicId, partitionId))
      }
      await this.#commit(records)
      return this.image.topic(spec.name) as TopicInfo
    })
  }

  #newPartition (topicId: string, partitionId: number): MetadataRecord {
    return {
      type: 'Partition', version: VERSION, topicId, partitionId, replicas: [this.#nodeId],
      isr: [this.#nodeId], leader: this.#nodeId, leaderEpoch: 0, partitionEpoch: 0,
    }
  }

  deleteTopic (name: string): Promise<TopicInfo> {
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
      if (validateOnly) return
      const records: MetadataRecord[] = []
      for (let partitionId = current; partitionId < totalCount; partitionId++) {
        records.push(this.#newPartition(topic.topicId, partitionId))
      }
      await this.#commit(records)
    })
  }

  /** Sets (value) or removes (null) configs of a topic or of this broker. */
  alterConfigs (resourceType: 'topic' | 'broker', resourceName: string,
    changes: Map<string, string | null>): Promise<void> {
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
    return this.#serialize(async () => {
      const first = this.image.nextProducerId
      const end = first + PRODUCER_ID_BLOCK_SIZE
      await this.#commit([{
        type: 'ProducerIds', version: VERSION, brokerId: this.#nodeId, nextProducerId: end,
      }])
      return { first, end }
    })
  }
}
