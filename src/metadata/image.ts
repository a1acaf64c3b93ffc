/**
 * MetadataImage: what the cluster metadata log says, as plain data (Kafka's
 * `org.apache.kafka.image`). Pure: it changes only through `replay(record)`, which both the live
 * controller and start-up run, so the live state always equals a fresh replay of the log.
 *
 * Invariants (asserted in replay, since a violation means the log or the controller is wrong):
 * topic names and ids are unique; a partition belongs to an existing topic; leader epochs of a
 * partition never decrease; the next producer id never decreases.
 */
import { assert } from '../util/assert.js'
import type { MetadataRecord, PartitionRecord } from './records.js'

export interface BrokerInfo {
  brokerId: number
  host: string
  port: number
  rack: string | null
  endpoints: { listener: string, host: string, port: number }[]
  /** Set for cluster brokers (a new one each process start). */
  incarnationId?: string
}

export interface PartitionInfo {
  partitionId: number
  replicas: number[]
  isr: number[]
  leader: number
  leaderEpoch: number
  partitionEpoch: number
  /** A reassignment in progress (KIP-455): replicas joining and leaving; [] when none. */
  addingReplicas: number[]
  removingReplicas: number[]
}

export interface TopicInfo {
  name: string
  topicId: string
  partitions: PartitionInfo[]
  configs: Map<string, string>
}

/** Kafka: topics whose names differ only in '.' versus '_' collide in metric names. */
function collisionKey (name: string): string {
  return name.replaceAll('.', '_')
}

export class MetadataImage {
  readonly brokers = new Map<number, BrokerInfo>()
  readonly #topicsByName = new Map<string, TopicInfo>()
  readonly #topicsById = new Map<string, TopicInfo>()
  /** Topic names by collision key ('.' read as '_'), so a collision check is one lookup. */
  readonly #topicsByCollisionKey = new Map<string, string>()
  readonly brokerConfigs = new Map<string, string>()
  /** The first producer id not yet handed out to any broker. */
  nextProducerId = 0
  /** Bumped by every record that can change a topic's effective configs (cache key). */
  configVersion = 0

  topic (name: string): TopicInfo | undefined {
    return this.#topicsByName.get(name)
  }

  topicById (topicId: string): TopicInfo | undefined {
    return this.#topicsById.get(topicId)
  }

  topics (): IterableIterator<TopicInfo> {
    return this.#topicsByName.values()
  }

  /** The existing topic whose name differs from `name` only in '.' versus '_', if any. */
  topicCollidingWith (name: string): string | undefined {
    return this.#topicsByCollisionKey.get(collisionKey(name))
  }

  get topicCount (): number {
    return this.#topicsByName.size
  }

  replay (record: MetadataRecord): void {
    if (record.type === 'Config' || record.type === 'Topic' || record.type === 'RemoveTopic') {
      this.configVersion++
    }
    switch (record.type) {
      case 'RegisterBroker':
        this.brokers.set(record.brokerId, {
          brokerId: record.brokerId, host: record.host, port: record.port, rack: record.rack,
          endpoints: record.endpoints ?? [],
          ...(record.incarnationId === undefined ? {} : { incarnationId: record.incarnationId }),
        })
        return
      case 'UnregisterBroker':
        this.brokers.delete(record.brokerId)
        return
      case 'Topic': {
        assert(!this.#topicsByName.has(record.name), `topic ${record.name} already exists`)
        assert(!this.#topicsById.has(record.topicId), `topic id ${record.topicId} reused`)
        const topic: TopicInfo = {
          name: record.name, topicId: record.topicId, partitions: [], configs: new Map(),
        }
        this.#topicsByName.set(record.name, topic)
        this.#topicsById.set(record.topicId, topic)
        this.#topicsByCollisionKey.set(collisionKey(record.name), record.name)
        return
      }
      case 'Partition':
        this.#replayPartition(record)
        return
      case 'RemoveTopic': {
        const topic = this.#topicsById.get(record.topicId)
        assert(topic !== undefined, `removing unknown topic id ${record.topicId}`)
        this.#topicsById.delete(record.topicId)
        this.#topicsByName.delete(topic.name)
        this.#topicsByCollisionKey.delete(collisionKey(topic.name))
        return
      }
      case 'Config': {
        const configs = record.resourceType === 'broker'
          ? this.brokerConfigs
          : this.#topicsByName.get(record.resourceName)?.configs
        assert(configs !== undefined, `config for unknown topic ${record.resourceName}`)
        if (record.value === null) configs.delete(record.name)
        else configs.set(record.name, record.value)
        return
      }
      case 'ProducerIds':
        assert(record.nextProducerId >= this.nextProducerId, 'producer ids must never go back')
        this.nextProducerId = record.nextProducerId
    }
  }

  #replayPartition (record: PartitionRecord): void {
    const topic = this.#topicsById.get(record.topicId)
    assert(topic !== undefined, `partition of unknown topic id ${record.topicId}`)
    const existing = topic.partitions[record.partitionId]
    if (existing !== undefined) {
      assert(record.leaderEpoch >= existing.leaderEpoch, 'leader epochs never decrease')
    } else {
      // Partitions are only ever added at the end (CreatePartitions), so ids stay dense.
      assert(record.partitionId === topic.partitions.length,
        `partition ${record.partitionId} of ${topic.name} is not the next one`)
    }
    topic.partitions[record.partitionId] = {
      partitionId: record.partitionId,
      replicas: record.replicas,
      isr: record.isr,
      leader: record.leader,
      leaderEpoch: record.leaderEpoch,
      partitionEpoch: record.partitionEpoch,
      addingReplicas: record.addingReplicas ?? [],
      removingReplicas: record.removingReplicas ?? [],
    }
  }
}
