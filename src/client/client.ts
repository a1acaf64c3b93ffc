/**
 * KafkaClient: a lean client of any Kafka-compatible broker on top of `KafkaConnection`, for
 * the CLI, the load generator, tests and (later) the follower fetcher.
 *
 * State: one lazily opened connection per broker address; the brokers and partition leaders
 * learnt from Metadata. A cached leader is used for at most `metadataMaxAgeMs` (Kafka's
 * `metadata.max.age.ms`, 5 minutes) and is forgotten at once when a broker says it is not the
 * leader, as the Java client's `Metadata.requestUpdate` does. Both maps are bounded by the
 * cluster's size, and the leader cache is cleared outright past `LEADERS_CACHED_MAX`.
 *
 * Concurrency: every operation may run concurrently with any other; operations on one broker
 * share its connection and are pipelined there (up to `inflightMax`), so concurrent `produce`
 * calls are never serialised behind each other.
 *
 * Failure: a non-zero Kafka error code becomes a `KafkaClientError` (name, code and message
 * from protocol/errors.ts); no answer becomes a `KafkaConnectionError`. Calls that cannot have
 * taken effect (a leader that moved: NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE) are retried
 * on the new leader up to `LEADER_RETRIES_MAX` times after `retryBackoffMs`, as the Java
 * producer retries them; reads are also retried once after a connection failure. A produce
 * that lost its connection is not retried, since it may have been written.
 */
import { systemClock, type Clock } from '../io/clock.js'
import { AlterConfigs } from '../protocol/apis/alter-configs.js'
import {
  AlterPartitionReassignments,
} from '../protocol/apis/alter-partition-reassignments.js'
import {
  ELECTION_TYPE_PREFERRED, ELECTION_TYPE_UNCLEAN, ElectLeaders,
} from '../protocol/apis/elect-leaders.js'
import {
  ListPartitionReassignments,
} from '../protocol/apis/list-partition-reassignments.js'
import { CreatePartitions } from '../protocol/apis/create-partitions.js'
import { CreateTopics } from '../protocol/apis/create-topics.js'
import { DeleteRecords } from '../protocol/apis/delete-records.js'
import { DeleteTopics } from '../protocol/apis/delete-topics.js'
import { DescribeCluster } from '../protocol/apis/describe-cluster.js'
import { DescribeConfigs, type DescribeConfigsResponse } from '../protocol/apis/describe-configs.js'
import { DeleteGroups } from '../protocol/apis/delete-groups.js'
import { DescribeProducers, type ActiveProducer } from '../protocol/apis/describe-producers.js'
import {
  DescribeTransactions, type DescribedTransaction,
} from '../protocol/apis/describe-transactions.js'
import { DescribeGroups, type DescribeGroupsResponse } from '../protocol/apis/describe-groups.js'
import { FindCoordinator } from '../protocol/apis/find-coordinator.js'
import { ListGroups } from '../protocol/apis/list-groups.js'
import {
  ListTransactions, type ListTransactionsResponse,
} from '../protocol/apis/list-transactions.js'
import { WriteTxnMarkers } from '../protocol/apis/write-txn-markers.js'
import { OffsetCommit } from '../protocol/apis/offset-commit.js'
import { OffsetDelete } from '../protocol/apis/offset-delete.js'
import { OffsetFetch } from '../protocol/apis/offset-fetch.js'
import { Fetch, type FetchRequest, type FetchResponse } from '../protocol/apis/fetch.js'
import { IncrementalAlterConfigs } from '../protocol/apis/incremental-alter-configs.js'
import { InitProducerId } from '../protocol/apis/init-producer-id.js'
import { ListOffsets, type ListOffsetsRequest } from '../protocol/apis/list-offsets.js'
import { Metadata, type MetadataResponse } from '../protocol/apis/metadata.js'
import { Produce, type ProduceResponse } from '../protocol/apis/produce.js'
import { ERROR, errorNameOf } from '../protocol/errors.js'
import { KafkaConnection, type ConnectionOptions } from './connection.js'
import { KafkaClientError, KafkaConnectionError } from './errors.js'

export { KafkaClientError, KafkaConnectionError } from './errors.js'

/** Retries of a call whose partition leader moved (the Java producer's `retries` is larger,
 * but its delivery timeout bounds it; two retries cover one leader election). */
const LEADER_RETRIES_MAX = 2
/** How long createTopic waits for the new topic's leaders to show in Metadata. */
const TOPIC_VISIBLE_TIMEOUT_MS = 10_000
/** More partitions than this in the leader cache clears it (a cache, so always safe). */
const LEADERS_CACHED_MAX = 100_000
/** Kafka's ConfigResource.Type.TOPIC. */
export const RESOURCE_TYPE_TOPIC = 2
/** Kafka's DescribeConfigsResponse.ConfigSource.DYNAMIC_TOPIC_CONFIG. */
const CONFIG_SOURCE_DYNAMIC_TOPIC = 1

export interface KafkaClientOptions extends ConnectionOptions {
  bootstrap: string | string[]
  /** How long learnt partition leaders are trusted (Kafka's metadata.max.age.ms). */
  metadataMaxAgeMs?: number
  /** Pause before retrying on a new leader (Kafka's retry.backoff.ms). */
  retryBackoffMs?: number
}

export type TopicMetadata = MetadataResponse['topics'][number]
export type FetchedPartition = FetchResponse['responses'][number]['partitions'][number]
export type ConfigEntry = DescribeConfigsResponse['results'][number]['configs'][number]

export interface ProduceOptions {
  acks?: number
  timeoutMs?: number
  transactionalId?: string | null
}

export interface ProducedBatch {
  baseOffset: number
  logAppendTimeMs: number
  logStartOffset: number
}

/** What an acks=0 produce reports, as Kafka's producer does: no offsets. */
const NOT_ANSWERED: ProducedBatch = Object.freeze({ baseOffset: -1, logAppendTimeMs: -1,
  logStartOffset: -1 })

export interface ClusterDescription {
  clusterId: string | null
  controllerId: number
  brokers: { nodeId: number, host: string, port: number, rack: string | null }[]
}

export function parseAddress (address: string): { host: string, port: number } {
  const trimmed = address.trim()
  const at = trimmed.lastIndexOf(':')
  const port = Number(trimmed.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`invalid broker address "${address}": expected host:port`)
  }
  const host = trimmed.slice(0, at)
  // [::1]:9092 names an IPv6 host.
  return { host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port }
}

/** A response without the one partition or resource asked about. */
function missing (apiName: string): KafkaClientError {
  return new KafkaClientError(ERROR.UNKNOWN_SERVER_ERROR,
    `UNKNOWN_SERVER_ERROR: ${apiName} answered without the partition asked about`)
}

/**
 * A consumer's Fetch of one partition (replica -1, no fetch session, no leader epoch), as
 * `fetch` sends it; also for a caller that picks the leader's connection itself.
 */
export function partitionFetchRequest (topic: string, partition: number, offset: number,
  options: { maxWaitMs: number, minBytes: number, maxBytes: number, isolationLevel: number }):
  FetchRequest {
  return {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs,
    minBytes: options.minBytes,
    maxBytes: options.maxBytes,
    isolationLevel: options.isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, topicId: Buffer.alloc(16), partitions: [{
      partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1,
      logStartOffset: -1, partitionMaxBytes: options.maxBytes,
    }] }],
    forgottenTopicsData: [],
    rackId: '',
  }
}

/** A consumer's ListOffsets of one partition: -1 the latest, -2 the earliest, else a time. */
export function partitionListOffsetsRequest (topic: string, partition: number,
  timestamp: number, isolationLevel: number): ListOffsetsRequest {
  return {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: [{
      partitionIndex: partition, currentLeaderEpoch: -1, timestamp,
    }] }],
  }
}

/** One partition's answer to an admin request: 'NONE' or a Kafka error name. */
export interface PartitionAnswer {
  topic: string
  partition: number
  errorName: string
  message: string | null
}

function check (errorCode: number, message?: string | null): void {
  if (errorCode !== 0) throw new KafkaClientError(errorCode, message ?? undefined)
}

/** Errors after which the partition's leader must be looked up again. */
function leaderMoved (error: unknown): boolean {
  if (error instanceof KafkaConnectionError) return true
  if (!(error instanceof KafkaClientError)) return false
  return error.code === ERROR.NOT_LEADER_OR_FOLLOWER ||
    error.code === ERROR.LEADER_NOT_AVAILABLE ||
    error.code === ERROR.UNKNOWN_TOPIC_OR_PARTITION ||
    error.code === ERROR.FENCED_LEADER_EPOCH ||
    error.code === ERROR.UNKNOWN_LEADER_EPOCH
}

/** Errors meaning the request was not applied and another leader will take it. */
function retriableOnNewLeader (error: unknown): boolean {
  return error instanceof KafkaClientError &&
    (error.code === ERROR.NOT_LEADER_OR_FOLLOWER || error.code === ERROR.LEADER_NOT_AVAILABLE)
}

function retriableRead (error: unknown): boolean {
  return retriableOnNewLeader(error) || error instanceof KafkaConnectionError
}

interface LeaderEntry {
  leaderId: number
  learntAtMs: number
}

export class KafkaClient {
  readonly #options: KafkaClientOptions
  readonly #clock: Clock
  readonly #bootstrap: string[]
  readonly #connections = new Map<string, Promise<KafkaConnection>>()
  readonly #brokers = new Map<number, string>()
  readonly #leaders = new Map<string, LeaderEntry>()
  #closed = false

  constructor (options: KafkaClientOptions) {
    this.#options = options
    this.#clock = options.clock ?? systemClock
    this.#bootstrap = (Array.isArray(options.bootstrap)
      ? options.bootstrap
      : options.bootstrap.split(',')).map(address => address.trim()).filter(Boolean)
    if (this.#bootstrap.length === 0) throw new Error('no bootstrap broker given')
    for (const address of this.#bootstrap) parseAddress(address)
  }

  #connect (address: string): Promise<KafkaConnection> {
    if (this.#closed) return Promise.reject(new Error('the client is closed'))
    let connection = this.#connections.get(address)
    if (connection === undefined) {
      const { host, port } = parseAddress(address)
      const opened = KafkaConnection.connect(host, port, this.#options)
      connection = opened
      opened.catch(() => {
        if (this.#connections.get(address) === opened) this.#connections.delete(address)
      })
      this.#connections.set(address, opened)
    }
    const current = connection
    return current.then(open => {
      if (!open.closed) return open
      if (this.#connections.get(address) === current) this.#connections.delete(address)
      return this.#connect(address)
    })
  }

  /** A connection to any broker: the known ones first, then the bootstrap list. */
  async any (): Promise<KafkaConnection> {
    let lastError: unknown
    for (const address of new Set([...this.#brokers.values(), ...this.#bootstrap])) {
      try {
        return await this.#connect(address)
      } catch (error) {
        lastError = error
      }
    }
    throw lastError instanceof Error ? lastError : new Error('no broker reachable')
  }

  async metadata (topics: string[] | null = null,
    allowAutoTopicCreation = false): Promise<MetadataResponse> {
    const connection = await this.any()
    const response = await connection.send(Metadata, {
      topics: topics === null ? null : topics.map(name => ({ name, topicId: Buffer.alloc(16) })),
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    })
    this.#learn(response)
    return response
  }

  #learn (response: MetadataResponse): void {
    for (const broker of response.brokers) {
      this.#brokers.set(broker.nodeId, `${broker.host}:${broker.port}`)
    }
    const learntAtMs = this.#clock.monotonicMs()
    for (const topic of response.topics) {
      if (topic.name === null) continue
      for (const partition of topic.partitions) {
        const key = `${topic.name}:${partition.partitionIndex}`
        if (partition.errorCode !== 0 || partition.leaderId < 0) {
          this.#leaders.delete(key)
          continue
        }
        if (this.#leaders.size >= LEADERS_CACHED_MAX) this.#leaders.clear()
        this.#leaders.set(key, { leaderId: partition.leaderId, learntAtMs })
      }
    }
  }

  async #leader (topic: string, partition: number): Promise<KafkaConnection> {
    const key = `${topic}:${partition}`
    const maxAgeMs = this.#options.metadataMaxAgeMs ?? 300_000
    let entry = this.#leaders.get(key)
    if (entry === undefined || this.#clock.monotonicMs() - entry.learntAtMs > maxAgeMs) {
      const response = await this.metadata([topic])
      const found = response.topics.find(candidate => candidate.name === topic)
      if (found !== undefined) check(found.errorCode)
      entry = this.#leaders.get(key)
    }
    const address = entry === undefined ? undefined : this.#brokers.get(entry.leaderId)
    if (address === undefined) {
      throw new KafkaClientError(ERROR.UNKNOWN_TOPIC_OR_PARTITION,
        `UNKNOWN_TOPIC_OR_PARTITION: no leader known for ${topic}-${partition}`)
    }
    return this.#connect(address)
  }

  /** Runs `call` on the partition leader, looking it up again when it moved. */
  async #onLeader<T> (topic: string, partition: number,
    call: (connection: KafkaConnection) => Promise<T>,
    retriable: (error: unknown) => boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(await this.#leader(topic, partition))
      } catch (error) {
        if (leaderMoved(error)) this.#leaders.delete(`${topic}:${partition}`)
        if (attempt >= LEADER_RETRIES_MAX || !retriable(error) || this.#closed) throw error
        // A broker error leaves the connection open (it keeps the process alive through the
        // backoff); after a lost connection the reconnect itself is the pause.
        if (error instanceof KafkaClientError) {
          await this.#sleep(this.#options.retryBackoffMs ?? 100)
        }
      }
    }
  }

  #sleep (delayMs: number): Promise<void> {
    return new Promise(resolve => this.#clock.setTimer(delayMs, resolve))
  }

  async createTopic (name: string, options: { partitions?: number, replicationFactor?: number,
    configs?: Record<string, string>, validateOnly?: boolean } = {}): Promise<void> {
    const response = await (await this.any()).send(CreateTopics, {
      topics: [{
        name,
        numPartitions: options.partitions ?? -1,
        replicationFactor: options.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(options.configs ?? {}).map(([key, value]) => ({
          name: key, value,
        })),
      }],
      timeoutMs: 30_000,
      validateOnly: options.validateOnly ?? false,
    })
    const result = response.topics[0]
    if (result !== undefined) check(result.errorCode, result.errorMessage)
    if (options.validateOnly !== true) await this.#awaitLeaders(name)
  }

  /**
   * Waits (bounded) until Metadata shows every partition of a new topic with a leader. Kafka
   * answers CreateTopics before its brokers' metadata has the topic, so a produce right after
   * would get UNKNOWN_TOPIC_OR_PARTITION (kafkajs' createTopics waitForLeaders does the same);
   * a Tributary broker answers once the partitions exist, so this returns at the first look.
   */
  async #awaitLeaders (name: string): Promise<void> {
    const deadline = this.#clock.monotonicMs() + TOPIC_VISIBLE_TIMEOUT_MS
    for (;;) {
      const topic = (await this.metadata([name])).topics.find(found => found.name === name)
      const led = topic !== undefined && topic.errorCode === ERROR.NONE &&
        topic.partitions.length > 0 && topic.partitions.every(p => p.leaderId >= 0)
      if (led || this.#clock.monotonicMs() >= deadline || this.#closed) return
      await this.#sleep(this.#options.retryBackoffMs ?? 100)
    }
  }

  async deleteTopic (name: string): Promise<void> {
    const response = await (await this.any()).send(DeleteTopics, {
      topics: [{ name, topicId: Buffer.alloc(16) }], topicNames: [name], timeoutMs: 30_000,
    })
    const result = response.responses[0]
    if (result !== undefined) check(result.errorCode, result.errorMessage)
  }

  async createPartitions (name: string, count: number): Promise<void> {
    const response = await (await this.any()).send(CreatePartitions, {
      topics: [{ name, count, assignments: null }], timeoutMs: 30_000, validateOnly: false,
    })
    const result = response.results[0]
    if (result !== undefined) check(result.errorCode, result.errorMessage)
  }

  /**
   * ElectLeaders (kafka-leader-election.sh): one answer per partition, error name 'NONE' when
   * elected. `partitions` null elects every partition that can be.
   */
  async electLeaders (type: 'preferred' | 'unclean',
    partitions: { topic: string, partition: number }[] | null):
  Promise<PartitionAnswer[]> {
    const byTopic = new Map<string, number[]>()
    for (const { topic, partition } of partitions ?? []) {
      byTopic.set(topic, [...byTopic.get(topic) ?? [], partition])
    }
    const response = await (await this.any()).send(ElectLeaders, {
      electionType: type === 'preferred' ? ELECTION_TYPE_PREFERRED : ELECTION_TYPE_UNCLEAN,
      topicPartitions: partitions === null
        ? null
        : [...byTopic].map(([topic, ids]) => ({ topic, partitions: ids })),
      timeoutMs: 30_000,
    })
    check(response.errorCode)
    return response.replicaElectionResults.flatMap(topic => topic.partitionResult.map(p => ({
      topic: topic.topic, partition: p.partitionId, errorName: errorNameOf(p.errorCode),
      message: p.errorMessage,
    })))
  }

  /** AlterPartitionReassignments (KIP-455): replicas null cancels. One answer per partition. */
  async alterPartitionReassignments (
    reassignments: { topic: string, partition: number, replicas: number[] | null }[],
    allowReplicationFactorChange = true): Promise<PartitionAnswer[]> {
    const byTopic = new Map<string, { partitionIndex: number, replicas: number[] | null }[]>()
    for (const { topic, partition, replicas } of reassignments) {
      byTopic.set(topic, [...byTopic.get(topic) ?? [], { partitionIndex: partition, replicas }])
    }
    const response = await (await this.any()).send(AlterPartitionReassignments, {
      timeoutMs: 30_000, allowReplicationFactorChange,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    })
    check(response.errorCode, response.errorMessage)
    return response.responses.flatMap(topic => topic.partitions.map(p => ({
      topic: topic.name, partition: p.partitionIndex, errorName: errorNameOf(p.errorCode),
      message: p.errorMessage,
    })))
  }

  /** ListPartitionReassignments: the reassignments in progress. */
  async listPartitionReassignments (): Promise<{ topic: string, partition: number,
    replicas: number[], addingReplicas: number[], removingReplicas: number[] }[]> {
    const response = await (await this.any()).send(ListPartitionReassignments, {
      timeoutMs: 30_000, topics: null,
    })
    check(response.errorCode, response.errorMessage)
    return response.topics.flatMap(topic => topic.partitions.map(p => ({
      topic: topic.name, partition: p.partitionIndex, replicas: p.replicas,
      addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas,
    })))
  }

  async describeConfigs (resourceType: number, resourceName: string):
  Promise<{ name: string, value: string | null, source: number, readOnly: boolean }[]> {
    const configs = await this.#describeRaw(await this.any(), resourceType, resourceName)
    return configs.map(config => ({
      name: config.name, value: config.value, source: config.configSource,
      readOnly: config.readOnly,
    }))
  }

  async #describeRaw (connection: KafkaConnection, resourceType: number,
    resourceName: string): Promise<ConfigEntry[]> {
    const response = await connection.send(DescribeConfigs, {
      resources: [{ resourceType, resourceName, configurationKeys: null }],
      includeSynonyms: false, includeDocumentation: false,
    })
    const result = response.results[0]
    if (result === undefined) return []
    check(result.errorCode, result.errorMessage)
    return result.configs
  }

  /**
   * Sets (value) or deletes (null) configs of one resource. IncrementalAlterConfigs (KIP-339)
   * where the broker advertises it; otherwise the legacy AlterConfigs, which replaces the whole
   * set, so the current dynamic configs are read first and merged, as Kafka's admin tools did.
   */
  async alterConfigs (resourceType: number, resourceName: string,
    changes: Record<string, string | null>): Promise<void> {
    const connection = await this.any()
    if (connection.supports(IncrementalAlterConfigs)) {
      const response = await connection.send(IncrementalAlterConfigs, {
        resources: [{
          resourceType,
          resourceName,
          configs: Object.entries(changes).map(([name, value]) => ({
            name, value, configOperation: value === null ? 1 : 0,
          })),
        }],
        validateOnly: false,
      })
      const result = response.responses[0]
      if (result !== undefined) check(result.errorCode, result.errorMessage)
      return
    }
    const merged = new Map<string, string | null>()
    for (const config of await this.#describeRaw(connection, resourceType, resourceName)) {
      const dynamic = config.configSource === CONFIG_SOURCE_DYNAMIC_TOPIC ||
        (config.configSource === -1 && !config.isDefault)
      if (dynamic && !config.readOnly) merged.set(config.name, config.value)
    }
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) merged.delete(name)
      else merged.set(name, value)
    }
    const response = await connection.send(AlterConfigs, {
      resources: [{
        resourceType,
        resourceName,
        configs: [...merged].map(([name, value]) => ({ name, value })),
      }],
      validateOnly: false,
    })
    const result = response.responses[0]
    if (result !== undefined) check(result.errorCode, result.errorMessage)
  }

  async alterTopicConfigs (topic: string, changes: Record<string, string | null>):
  Promise<void> {
    await this.alterConfigs(RESOURCE_TYPE_TOPIC, topic, changes)
  }

  async deleteRecords (topic: string, partition: number, offset: number): Promise<number> {
    return this.#onLeader(topic, partition, async connection => {
      const response = await connection.send(DeleteRecords, {
        topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset }] }],
        timeoutMs: 30_000,
      })
      const result = response.topics[0]?.partitions[0]
      if (result === undefined) throw missing('DeleteRecords')
      check(result.errorCode)
      return result.lowWatermark
    }, retriableOnNewLeader)
  }

  /** -1: the latest offset (high watermark); -2: the earliest; else a timestamp in ms. */
  async listOffsets (topic: string, partition: number, timestamp: number,
    isolationLevel = 0): Promise<{ offset: number, timestamp: number }> {
    return this.#onLeader(topic, partition, async connection => {
      const response = await connection.send(ListOffsets,
        partitionListOffsetsRequest(topic, partition, timestamp, isolationLevel))
      const result = response.topics[0]?.partitions[0]
      if (result === undefined) throw missing('ListOffsets')
      check(result.errorCode)
      return { offset: result.offset, timestamp: result.timestamp }
    }, retriableRead)
  }

  async initProducerId (transactionalId: string | null = null,
    transactionTimeoutMs = 60_000): Promise<{ producerId: number, producerEpoch: number }> {
    const response = await (await this.any()).send(InitProducerId, {
      transactionalId, transactionTimeoutMs, producerId: -1, producerEpoch: -1,
    })
    check(response.errorCode)
    return { producerId: response.producerId, producerEpoch: response.producerEpoch }
  }

  /**
   * Sends one record batch to the partition leader, again to a new leader if it moved. With
   * acks=0 nothing comes back, so it resolves at once with offset -1, as Kafka's producer
   * reports it.
   */
  async produce (topic: string, partition: number, batch: Buffer,
    options: ProduceOptions = {}): Promise<ProducedBatch> {
    return this.#onLeader(topic, partition, async connection =>
      (await this.#sendProduce(connection, topic, [{ partition, records: batch }], options))[0] as
        ProducedBatch, retriableOnNewLeader)
  }

  /**
   * Sends one record batch to each of several partitions of a topic in one Produce request per
   * leader, as the Java producer's sender drains every ready batch for a broker into one
   * request. Kafka takes a single batch per partition in a request (ProduceRequest v3+), so two
   * batches for one partition belong in separate calls. Nothing is retried: a partition error
   * fails the call, after which a moved leader is looked up again on the next call (produce()
   * retries on its own). Answers come in the order of `batches`.
   */
  async produceMany (topic: string, batches: { partition: number, records: Buffer }[],
    options: ProduceOptions = {}): Promise<ProducedBatch[]> {
    if (new Set(batches.map(batch => batch.partition)).size !== batches.length) {
      throw new Error('produceMany takes at most one batch per partition')
    }
    const byLeader = new Map<KafkaConnection, { partition: number, records: Buffer }[]>()
    for (const batch of batches) {
      const leader = await this.#leader(topic, batch.partition)
      const list = byLeader.get(leader) ?? []
      list.push(batch)
      byLeader.set(leader, list)
    }
    const answers = new Map<number, ProducedBatch>()
    await Promise.all([...byLeader].map(async ([connection, list]) => {
      const produced = await this.#sendProduce(connection, topic, list, options)
      list.forEach((batch, i) => answers.set(batch.partition, produced[i] as ProducedBatch))
    }))
    return batches.map(batch => answers.get(batch.partition) as ProducedBatch)
  }

  /**
   * One Produce request on `connection`; answers in the order of `batches`. A partition's error
   * fails the whole call, and drops the partition's leader when it moved.
   */
  async #sendProduce (connection: KafkaConnection, topic: string,
    batches: { partition: number, records: Buffer }[], options: ProduceOptions):
    Promise<ProducedBatch[]> {
    const request = {
      transactionalId: options.transactionalId ?? null,
      acks: options.acks ?? -1,
      timeoutMs: options.timeoutMs ?? 30_000,
      topicData: [{ name: topic, partitionData: batches.map(batch =>
        ({ index: batch.partition, records: batch.records })) }],
    }
    if (request.acks === 0) {
      connection.sendNoResponse(Produce, request)
      return batches.map(() => NOT_ANSWERED)
    }
    // The broker may hold an acks=all answer for request.timeoutMs; give it time to travel.
    const waitMs = Math.max(this.#options.requestTimeoutMs ?? 30_000, request.timeoutMs + 5_000)
    let response: ProduceResponse
    try {
      response = await connection.send(Produce, request, { timeoutMs: waitMs })
    } catch (error) {
      if (leaderMoved(error)) {
        for (const batch of batches) this.#leaders.delete(`${topic}:${batch.partition}`)
      }
      throw error
    }
    const answers = response.responses[0]?.partitionResponses ?? []
    // Every partition's answer is read before the first failure is thrown, so that each moved
    // leader is forgotten, not only the first.
    let failure: Error | undefined
    const produced = batches.map(batch => {
      const answer = answers.find(candidate => candidate.index === batch.partition)
      if (answer === undefined) {
        failure ??= missing('Produce')
        return NOT_ANSWERED
      }
      if (answer.errorCode !== 0) {
        const error = new KafkaClientError(answer.errorCode, answer.errorMessage ?? undefined)
        if (leaderMoved(error)) this.#leaders.delete(`${topic}:${batch.partition}`)
        failure ??= error
        return NOT_ANSWERED
      }
      return { baseOffset: answer.baseOffset, logAppendTimeMs: answer.logAppendTimeMs,
        logStartOffset: answer.logStartOffset }
    })
    if (failure !== undefined) throw failure
    return produced
  }

  async fetch (topic: string, partition: number, offset: number,
    options: { maxWaitMs?: number, minBytes?: number, maxBytes?: number,
      isolationLevel?: number } = {}): Promise<FetchedPartition> {
    const maxBytes = options.maxBytes ?? 1024 * 1024
    const maxWaitMs = options.maxWaitMs ?? 500
    const request = partitionFetchRequest(topic, partition, offset, { maxWaitMs,
      minBytes: options.minBytes ?? 1, maxBytes, isolationLevel: options.isolationLevel ?? 0 })
    // A long poll legitimately takes maxWaitMs before its answer starts.
    const waitMs = maxWaitMs + (this.#options.requestTimeoutMs ?? 30_000)
    return this.#onLeader(topic, partition, async connection => {
      const response = await connection.send(Fetch, request, { timeoutMs: waitMs })
      const result = response.responses[0]?.partitions[0]
      if (result === undefined) throw missing('Fetch')
      check(result.errorCode)
      return result
    }, retriableRead)
  }

  /** DescribeCluster (KIP-700) where served, else the same facts from Metadata. */
  async describeCluster (): Promise<ClusterDescription> {
    const connection = await this.any()
    if (connection.supports(DescribeCluster)) {
      const response = await connection.send(DescribeCluster, {
        includeClusterAuthorizedOperations: false, endpointType: 1,
      })
      check(response.errorCode, response.errorMessage)
      return {
        clusterId: response.clusterId,
        controllerId: response.controllerId,
        brokers: response.brokers.map(broker => ({
          nodeId: broker.brokerId, host: broker.host, port: broker.port, rack: broker.rack,
        })),
      }
    }
    const metadata = await this.metadata([])
    return {
      clusterId: metadata.clusterId,
      controllerId: metadata.controllerId,
      brokers: metadata.brokers,
    }
  }

  /** The broker coordinating a consumer group (keyType 0) or a transactional id (1). */
  async findCoordinator (key: string, keyType = 0):
  Promise<{ nodeId: number, host: string, port: number }> {
    const response = await (await this.any()).send(FindCoordinator, { key, keyType })
    check(response.errorCode, response.errorMessage)
    return { nodeId: response.nodeId, host: response.host, port: response.port }
  }

  /** The consumer groups one broker coordinates (ListGroups is per broker in Kafka). */
  async listGroups (): Promise<{ groupId: string, protocolType: string }[]> {
    const response = await (await this.any()).send(ListGroups, { statesFilter: [] })
    check(response.errorCode)
    return response.groups
  }

  async #coordinator (groupId: string): Promise<KafkaConnection> {
    const { host, port } = await this.findCoordinator(groupId)
    return this.#connect(`${host}:${port}`)
  }

  /** DescribeGroups for one group: state, protocol and members with their assignments. */
  async describeGroup (groupId: string): Promise<DescribeGroupsResponse['groups'][number]> {
    const response = await (await this.#coordinator(groupId)).send(DescribeGroups,
      { groups: [groupId], includeAuthorizedOperations: false })
    const group = response.groups[0]
    if (group === undefined) throw new Error('empty DescribeGroups response')
    check(group.errorCode)
    return group
  }

  /** Committed offsets of a group, as `topic → partition → offset`. */
  async fetchGroupOffsets (groupId: string): Promise<Map<string, Map<number, number>>> {
    const response = await (await this.#coordinator(groupId)).send(OffsetFetch,
      { groupId, topics: null })
    check(response.errorCode)
    const offsets = new Map<string, Map<number, number>>()
    for (const topic of response.topics) {
      const partitions = new Map<number, number>()
      for (const p of topic.partitions) {
        check(p.errorCode)
        if (p.committedOffset >= 0) partitions.set(p.partitionIndex, p.committedOffset)
      }
      offsets.set(topic.name, partitions)
    }
    return offsets
  }

  /** Commits offsets outside any generation: Kafka allows it only for an inactive group. */
  async commitGroupOffsets (groupId: string,
    offsets: { topic: string, partition: number, offset: number }[]): Promise<void> {
    const byTopic = new Map<string, { partition: number, offset: number }[]>()
    for (const entry of offsets) {
      byTopic.set(entry.topic, [...(byTopic.get(entry.topic) ?? []), entry])
    }
    const response = await (await this.#coordinator(groupId)).send(OffsetCommit, {
      groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [...byTopic].map(([name, entries]) => ({ name, partitions: entries.map(e => ({
        partitionIndex: e.partition, committedOffset: e.offset, committedLeaderEpoch: -1,
        commitTimestamp: -1, committedMetadata: null })) })),
    })
    for (const topic of response.topics) {
      for (const partition of topic.partitions) check(partition.errorCode)
    }
  }

  async deleteGroup (groupId: string): Promise<void> {
    const response = await (await this.#coordinator(groupId)).send(DeleteGroups,
      { groupsNames: [groupId] })
    check(response.results[0]?.errorCode ?? 0)
  }

  async deleteGroupOffsets (groupId: string,
    partitions: { topic: string, partition: number }[]): Promise<void> {
    const byTopic = new Map<string, number[]>()
    for (const entry of partitions) {
      byTopic.set(entry.topic, [...(byTopic.get(entry.topic) ?? []), entry.partition])
    }
    const response = await (await this.#coordinator(groupId)).send(OffsetDelete, {
      groupId, topics: [...byTopic].map(([name, ids]) => ({ name,
        partitions: ids.map(partitionIndex => ({ partitionIndex })) })),
    })
    check(response.errorCode)
    for (const topic of response.topics) {
      for (const partition of topic.partitions) check(partition.errorCode)
    }
  }

  /**
   * ListTransactions on every broker (each answers for the ids it coordinates, as Kafka's
   * admin client asks every broker): state filters, producer ids, and (v1+) a minimum
   * running time, (v2+) an id pattern.
   */
  async listTransactions (filters: { states?: string[], producerIds?: number[],
    durationMs?: number, pattern?: string } = {}):
  Promise<ListTransactionsResponse['transactionStates']> {
    const metadata = await this.metadata([])
    const listed: ListTransactionsResponse['transactionStates'] = []
    for (const broker of metadata.brokers) {
      const connection = await this.#connect(`${broker.host}:${broker.port}`)
      const response = await connection.send(ListTransactions, {
        stateFilters: filters.states ?? [], producerIdFilters: filters.producerIds ?? [],
        durationFilter: filters.durationMs ?? -1, transactionalIdPattern: filters.pattern ?? null,
      })
      check(response.errorCode)
      if (response.unknownStateFilters.length > 0) {
        throw new Error(`unknown transaction states: ${response.unknownStateFilters.join(', ')}`)
      }
      listed.push(...response.transactionStates)
    }
    return listed
  }

  /** DescribeTransactions for one id, at its transaction coordinator. */
  async describeTransaction (transactionalId: string): Promise<DescribedTransaction> {
    const { host, port } = await this.findCoordinator(transactionalId, 1)
    const response = await (await this.#connect(`${host}:${port}`)).send(DescribeTransactions,
      { transactionalIds: [transactionalId] })
    const state = response.transactionStates[0]
    if (state === undefined) throw missing('DescribeTransactions')
    check(state.errorCode)
    return state
  }

  /** DescribeProducers for one partition, at its leader (KIP-664). */
  async describeProducers (topic: string, partition: number): Promise<ActiveProducer[]> {
    return this.#onLeader(topic, partition, async connection => {
      const response = await connection.send(DescribeProducers,
        { topics: [{ name: topic, partitionIndexes: [partition] }] })
      const result = response.topics[0]?.partitions[0]
      if (result === undefined) throw missing('DescribeProducers')
      check(result.errorCode, result.errorMessage)
      return result.activeProducers
    }, retriableOnNewLeader)
  }

  /** WriteTxnMarkers of one producer on one partition, at its leader (kafka-transactions abort). */
  async writeTxnMarker (topic: string, partition: number, marker: { producerId: number,
    producerEpoch: number, commit: boolean, coordinatorEpoch: number }): Promise<void> {
    await this.#onLeader(topic, partition, async connection => {
      const response = await connection.send(WriteTxnMarkers, { markers: [{
        producerId: marker.producerId, producerEpoch: marker.producerEpoch,
        transactionResult: marker.commit, coordinatorEpoch: marker.coordinatorEpoch,
        topics: [{ name: topic, partitionIndexes: [partition] }] }] })
      const result = response.markers[0]?.topics[0]?.partitions[0]
      if (result === undefined) throw missing('WriteTxnMarkers')
      check(result.errorCode)
    }, retriableOnNewLeader)
  }

  /** Closes every connection; pending calls reject, and later calls fail at once. */
  async close (): Promise<void> {
    this.#closed = true
    const connections = [...this.#connections.values()]
    this.#connections.clear()
    for (const connection of connections) {
      await connection.then(open => open.close(), () => undefined)
    }
  }
}
