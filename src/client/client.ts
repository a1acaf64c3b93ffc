/**
 * KafkaClient: a lean client of any Kafka-compatible broker on top of `KafkaConnection`, for
 * the CLI, the load generator and tests. It keeps one connection per broker, learns brokers
 * and partition leaders from Metadata, sends each partition's requests to its leader, and
 * turns a non-zero error code into a KafkaClientError.
 */
import { CreatePartitions } from '../protocol/apis/create-partitions.js'
import { CreateTopics } from '../protocol/apis/create-topics.js'
import { DeleteRecords } from '../protocol/apis/delete-records.js'
import { DeleteTopics } from '../protocol/apis/delete-topics.js'
import { DescribeConfigs } from '../protocol/apis/describe-configs.js'
import { Fetch, type FetchResponse } from '../protocol/apis/fetch.js'
import { IncrementalAlterConfigs } from '../protocol/apis/incremental-alter-configs.js'
import { InitProducerId } from '../protocol/apis/init-producer-id.js'
import { ListOffsets } from '../protocol/apis/list-offsets.js'
import { Metadata, type MetadataResponse } from '../protocol/apis/metadata.js'
import { Produce } from '../protocol/apis/produce.js'
import { KafkaClientError, KafkaConnection, type ConnectionOptions } from './connection.js'

export { KafkaClientError } from './connection.js'

export interface KafkaClientOptions extends ConnectionOptions {
  bootstrap: string | string[]
}

export type TopicMetadata = MetadataResponse['topics'][number]
export type FetchedPartition = FetchResponse['responses'][number]['partitions'][number]

function parseAddress (address: string): { host: string, port: number } {
  const at = address.lastIndexOf(':')
  const port = Number(address.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`invalid broker address "${address}": expected host:port`)
  }
  return { host: address.slice(0, at), port }
}

function check (errorCode: number, message?: string | null): void {
  if (errorCode !== 0) throw new KafkaClientError(errorCode, message ?? undefined)
}

export class KafkaClient {
  readonly #options: KafkaClientOptions
  readonly #connections = new Map<string, Promise<KafkaConnection>>()
  readonly #brokers = new Map<number, string>()
  readonly #leaders = new Map<string, number>()

  constructor (options: KafkaClientOptions) {
    this.#options = options
  }

  #connect (address: string): Promise<KafkaConnection> {
    let connection = this.#connections.get(address)
    if (connection === undefined) {
      const { host, port } = parseAddress(address)
      connection = KafkaConnection.connect(host, port, this.#options)
      connection.catch(() => this.#connections.delete(address))
      this.#connections.set(address, connection)
    }
    return connection.then(open => {
      if (!open.closed) return open
      this.#connections.delete(address)
      return this.#connect(address)
    })
  }

  /** A connection to any broker: the known ones first, then the bootstrap list. */
  async any (): Promise<KafkaConnection> {
    const bootstrap = Array.isArray(this.#options.bootstrap)
      ? this.#options.bootstrap
      : this.#options.bootstrap.split(',')
    let lastError: unknown
    for (const address of [...this.#brokers.values(), ...bootstrap]) {
      try {
        return await this.#connect(address.trim())
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
    for (const broker of response.brokers) {
      this.#brokers.set(broker.nodeId, `${broker.host}:${broker.port}`)
    }
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        this.#leaders.set(`${topic.name ?? ''}:${partition.partitionIndex}`, partition.leaderId)
      }
    }
    return response
  }

  async #leader (topic: string, partition: number): Promise<KafkaConnection> {
    const key = `${topic}:${partition}`
    if (!this.#leaders.has(key)) await this.metadata([topic])
    const address = this.#brokers.get(this.#leaders.get(key) ?? -1)
    if (address === undefined) {
      throw new KafkaClientError(3, `no leader known for ${topic}-${partition}`)
    }
    return this.#connect(address)
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

  async describeConfigs (resourceType: number, resourceName: string):
  Promise<{ name: string, value: string | null, source: number, readOnly: boolean }[]> {
    const response = await (await this.any()).send(DescribeConfigs, {
      resources: [{ resourceType, resourceName, configurationKeys: null }],
      includeSynonyms: false, includeDocumentation: false,
    })
    const result = response.results[0]
    if (result === undefined) return []
    check(result.errorCode, result.errorMessage)
    return result.configs.map(config => ({
      name: config.name, value: config.value, source: config.configSource,
      readOnly: config.readOnly,
    }))
  }

  async alterTopicConfigs (topic: string, changes: Record<string, string | null>):
  Promise<void> {
    const response = await (await this.any()).send(IncrementalAlterConfigs, {
      resources: [{
        resourceType: 2,
        resourceName: topic,
        configs: Object.entries(changes).map(([name, value]) => ({
          name, value, configOperation: value === null ? 1 : 0,
        })),
      }],
      validateOnly: false,
    })
    const result = response.responses[0]
    if (result !== undefined) check(result.errorCode, result.errorMessage)
  }

  async deleteRecords (topic: string, partition: number, offset: number): Promise<number> {
    const response = await (await this.#leader(topic, partition)).send(DeleteRecords, {
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset }] }],
      timeoutMs: 30_000,
    })
    const result = response.topics[0]?.partitions[0]
    if (result === undefined) throw new Error('empty DeleteRecords response')
    check(result.errorCode)
    return result.lowWatermark
  }

  /** -1: the latest offset (high watermark); -2: the earliest; else a timestamp. */
  async listOffsets (topic: string, partition: number,
    timestamp: number): Promise<{ offset: number, timestamp: number }> {
    const response = await (await this.#leader(topic, partition)).send(ListOffsets, {
      replicaId: -1, isolationLevel: 0,
      topics: [{ name: topic, partitions: [{
        partitionIndex: partition, currentLeaderEpoch: -1, timestamp,
      }] }],
    })
    const result = response.topics[0]?.partitions[0]
    if (result === undefined) throw new Error('empty ListOffsets response')
    check(result.errorCode)
    return { offset: result.offset, timestamp: result.timestamp }
  }

  async initProducerId (): Promise<{ producerId: number, producerEpoch: number }> {
    const response = await (await this.any()).send(InitProducerId, {
      transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1,
    })
    check(response.errorCode)
    return { producerId: response.producerId, producerEpoch: response.producerEpoch }
  }

  /** Sends one batch to the partition leader; acks 0 resolves at once with offset -1. */
  async produce (topic: string, partition: number, batch: Buffer,
    options: { acks?: number, timeoutMs?: number } = {}): Promise<{ baseOffset: number,
    logAppendTimeMs: number }> {
    const connection = await this.#leader(topic, partition)
    const request = {
      transactionalId: null,
      acks: options.acks ?? -1,
      timeoutMs: options.timeoutMs ?? 30_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
    }
    if (request.acks === 0) {
      connection.sendNoResponse(Produce, request, connection.versionFor(Produce))
      return { baseOffset: -1, logAppendTimeMs: -1 }
    }
    const response = await connection.send(Produce, request)
    const result = response.responses[0]?.partitionResponses[0]
    if (result === undefined) throw new Error('empty Produce response')
    check(result.errorCode, result.errorMessage)
    return { baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTimeMs }
  }

  async fetch (topic: string, partition: number, offset: number,
    options: { maxWaitMs?: number, minBytes?: number, maxBytes?: number,
      isolationLevel?: number } = {}): Promise<FetchedPartition> {
    const maxBytes = options.maxBytes ?? 1024 * 1024
    const response = await (await this.#leader(topic, partition)).send(Fetch, {
      replicaId: -1,
      maxWaitMs: options.maxWaitMs ?? 500,
      minBytes: options.minBytes ?? 1,
      maxBytes,
      isolationLevel: options.isolationLevel ?? 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, topicId: Buffer.alloc(16), partitions: [{
        partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1,
        logStartOffset: -1, partitionMaxBytes: maxBytes,
      }] }],
      forgottenTopicsData: [],
      rackId: '',
    }, { timeoutMs: (options.maxWaitMs ?? 500) + 30_000 })
    const result = response.responses[0]?.partitions[0]
    if (result === undefined) throw new Error('empty Fetch response')
    check(result.errorCode)
    return result
  }

  async close (): Promise<void> {
    for (const connection of this.#connections.values()) {
      await connection.then(open => open.close(), () => undefined)
    }
    this.#connections.clear()
  }
}
