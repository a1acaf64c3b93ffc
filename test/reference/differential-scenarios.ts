/**
 * The scenarios the differential tests run, unchanged, against Apache Kafka 4.1 and against
 * Tributary (differential.test.ts). Each sends raw requests through the lean client at the
 * version the broker negotiates (or one it names) and returns what a client can observe,
 * already normalised (differential-compare.ts says what that leaves out).
 *
 * Every scenario creates its own topics and groups, so the scenarios are independent of each
 * other and of their order.
 */
import net from 'node:net'
import type { KafkaClient } from '../../src/client/client.js'
import type { KafkaConnection } from '../../src/client/connection.js'
import { AlterConfigs } from '../../src/protocol/apis/alter-configs.js'
import { ApiVersions } from '../../src/protocol/apis/api-versions.js'
import { CreatePartitions } from '../../src/protocol/apis/create-partitions.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { DeleteGroups } from '../../src/protocol/apis/delete-groups.js'
import { DeleteRecords } from '../../src/protocol/apis/delete-records.js'
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js'
import { DescribeCluster } from '../../src/protocol/apis/describe-cluster.js'
import { DescribeConfigs } from '../../src/protocol/apis/describe-configs.js'
import { DescribeGroups } from '../../src/protocol/apis/describe-groups.js'
import {
  DescribeTopicPartitions,
} from '../../src/protocol/apis/describe-topic-partitions.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js'
import { Heartbeat } from '../../src/protocol/apis/heartbeat.js'
import { IncrementalAlterConfigs } from '../../src/protocol/apis/incremental-alter-configs.js'
import { JoinGroup } from '../../src/protocol/apis/join-group.js'
import { LeaveGroup } from '../../src/protocol/apis/leave-group.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { OffsetCommit } from '../../src/protocol/apis/offset-commit.js'
import { OffsetFetch } from '../../src/protocol/apis/offset-fetch.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { SyncGroup } from '../../src/protocol/apis/sync-group.js'
import { errorNameOf } from '../../src/protocol/errors.js'
import { apiByKey } from '../../src/protocol/registry.js'
import { buildRecordBatch } from '../../src/records/builder.js'
import type { Observation } from './differential-compare.js'

export interface Target {
  kind: 'kafka' | 'tributary'
  bootstrap: string
  client: KafkaClient
}

export interface Scenario {
  name: string
  observe: (target: Target) => Promise<Observation>
}

const ZERO_ID = Buffer.alloc(16)
const RESOURCE_TOPIC = 2
/** The configs whose descriptions are compared: one of each kind (policy, time, size, count). */
const DESCRIBED_CONFIGS = ['cleanup.policy', 'retention.ms', 'max.message.bytes',
  'segment.bytes', 'min.insync.replicas', 'compression.type']
const WAIT_MS = 30_000

function errorName (code: number): string {
  return errorNameOf(code)
}

async function connection (target: Target): Promise<KafkaConnection> {
  return target.client.any()
}

/** The broker's newest version of `api` that our codec also speaks. */
async function newest (target: Target, api: { key: number, maxVersion: number }):
Promise<number> {
  const range = (await connection(target)).brokerVersions(api.key)
  if (range === undefined) throw new Error(`${target.kind} does not serve API ${api.key}`)
  return Math.min(range.max, api.maxVersion)
}

async function createTopic (target: Target, name: string, partitions = 1,
  configs: Record<string, string> = {}): Promise<number> {
  const conn = await connection(target)
  const response = await conn.send(CreateTopics, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [],
      configs: Object.entries(configs).map(([config, value]) => ({ name: config, value })) }],
    timeoutMs: 30_000, validateOnly: false,
  })
  const code = response.topics[0]?.errorCode ?? -1
  if (code === 0) await waitForLeaders(target, name, partitions)
  return code
}

/** Kafka creates asynchronously: wait until Metadata shows every partition led. */
async function waitForLeaders (target: Target, name: string, partitions: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const topic = (await target.client.metadata([name])).topics[0]
    const led = topic?.partitions.filter(partition => partition.leaderId >= 0).length ?? 0
    if (topic?.errorCode === 0 && led === partitions) return
    if (Date.now() > deadline) throw new Error(`${target.kind}: ${name} has no leaders`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

async function batch (values: string[], timestampMs?: number): Promise<Buffer> {
  return buildRecordBatch(values.map(value => ({ value: Buffer.from(value) })),
    { timestampMs: timestampMs ?? Date.now() })
}

async function produceCode (target: Target, topic: string, partition: number,
  records: Buffer): Promise<string> {
  const conn = await connection(target)
  const response = await conn.send(Produce, {
    transactionalId: null, acks: -1, timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  })
  return errorName(response.responses[0]?.partitionResponses[0]?.errorCode ?? -1)
}

/**
 * Produces until the partition takes it: Kafka lists a new topic's leader in Metadata a moment
 * before that broker has the partition, and a scenario that reads offsets back needs every
 * batch in place (a refused first batch once shifted Kafka's offsets by one on a loaded
 * machine). Any other refusal is returned as it is.
 */
async function produceInPlace (target: Target, topic: string, partition: number,
  records: Buffer): Promise<string> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const code = await produceCode(target, topic, partition, records)
    const retriable = code === 'NOT_LEADER_OR_FOLLOWER' || code === 'UNKNOWN_TOPIC_OR_PARTITION' ||
      code === 'LEADER_NOT_AVAILABLE'
    if (!retriable || Date.now() > deadline) return code
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

async function fetchCode (target: Target, topic: string, offset: number): Promise<string> {
  const conn = await connection(target)
  const response = await conn.send(Fetch, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0,
    sessionId: 0, sessionEpoch: -1,
    topics: [{ topic, topicId: ZERO_ID, partitions: [{ partition: 0, currentLeaderEpoch: -1,
      fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1,
      partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
  })
  return errorName(response.responses[0]?.partitions[0]?.errorCode ?? -1)
}

async function listOffsets (target: Target, topic: string, timestamp: number):
Promise<Observation> {
  const conn = await connection(target)
  const response = await conn.send(ListOffsets, {
    replicaId: -1, isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1,
      timestamp }] }],
    timeoutMs: 10_000,
  }, { version: await newest(target, ListOffsets) })
  const partition = response.topics[0]?.partitions[0]
  if (partition === undefined) return 'no partition in the answer'
  return { error: errorName(partition.errorCode), offset: partition.offset,
    timestamp: partition.timestamp, leaderEpoch: partition.leaderEpoch }
}

/**
 * Whether the broker answers a request at `version` of `apiKey` (an empty body) or closes the
 * connection. Raw bytes: our codecs refuse to write a version they do not know.
 */
function rawRequest (bootstrap: string, apiKey: number, version: number,
  body: Buffer = Buffer.alloc(0)): Promise<'closed' | { errorCode: number }> {
  const [host, port] = bootstrap.split(':') as [string, string]
  const clientId = Buffer.from('differential')
  const header = Buffer.alloc(10)
  header.writeInt16BE(apiKey, 0)
  header.writeInt16BE(version, 2)
  header.writeInt32BE(7, 4)
  header.writeInt16BE(clientId.length, 8)
  const frame = Buffer.concat([header, clientId, body])
  const size = Buffer.alloc(4)
  size.writeInt32BE(frame.length)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host)
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no answer in 10 s')) },
      10_000)
    socket.on('connect', () => socket.write(Buffer.concat([size, frame])))
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk])
      // size int32, correlation id int32, then (v0 layouts) the error code int16.
      if (received.length >= 10) {
        clearTimeout(timer)
        socket.destroy()
        resolve({ errorCode: received.readInt16BE(8) })
      }
    })
    socket.on('error', () => undefined)
    socket.on('close', () => { clearTimeout(timer); resolve('closed') })
  })
}

/** The ranges of every API Tributary serves, as each broker advertises them. */
async function apiVersions (target: Target, served: readonly number[]): Promise<Observation> {
  const conn = await connection(target)
  const response = await conn.send(ApiVersions, {
    clientSoftwareName: 'differential', clientSoftwareVersion: '1.0',
  }, { version: await newest(target, ApiVersions) })
  const ranges: Record<string, Observation> = {}
  for (const key of served) {
    const range = response.apiKeys.find(api => api.apiKey === key)
    ranges[apiByKey(key)?.name ?? String(key)] =
      range === undefined ? 'not served' : [range.minVersion, range.maxVersion]
  }
  return {
    error: errorName(response.errorCode),
    ranges,
    supportedFeatures: (response.supportedFeatures ?? []).map(feature => feature.name).sort(),
    finalizedFeatures: (response.finalizedFeatures ?? []).map(feature => feature.name).sort(),
  }
}

async function metadataShape (target: Target): Promise<Observation> {
  await createTopic(target, 'diff-metadata', 3)
  const conn = await connection(target)
  const version = await newest(target, Metadata)
  const response = await conn.send(Metadata, {
    topics: [{ name: 'diff-metadata', topicId: ZERO_ID }, { name: 'diff-absent', topicId: ZERO_ID }],
    allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true,
    includeTopicAuthorizedOperations: true,
  }, { version })
  const brokers = new Set(response.brokers.map(broker => broker.nodeId))
  const [topic, absent] = response.topics
  return {
    version,
    errorCode: errorName(response.errorCode ?? 0),
    brokers: response.brokers.length,
    clusterIdPresent: response.clusterId !== null && response.clusterId.length > 0,
    controllerIsListed: brokers.has(response.controllerId),
    clusterAuthorizedOperations: response.clusterAuthorizedOperations,
    topic: topic === undefined ? null : {
      error: errorName(topic.errorCode),
      name: topic.name,
      topicIdZero: topic.topicId.equals(ZERO_ID),
      isInternal: topic.isInternal,
      topicAuthorizedOperations: topic.topicAuthorizedOperations,
      // In the order of their index: Kafka lists them in its hash map's order.
      partitions: [...topic.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)
        .map(partition => ({
        index: partition.partitionIndex,
        error: errorName(partition.errorCode),
        leaderIsListed: brokers.has(partition.leaderId),
        leaderEpoch: partition.leaderEpoch,
        replicas: partition.replicaNodes.length,
        isr: partition.isrNodes.length,
        offline: partition.offlineReplicas.length,
      })),
    },
    absent: absent === undefined ? null : {
      error: errorName(absent.errorCode), name: absent.name,
      topicIdZero: absent.topicId.equals(ZERO_ID), partitions: absent.partitions.length,
    },
  }
}

/** __consumer_offsets is internal, and exists once a group coordinator was looked up. */
async function internalTopic (target: Target): Promise<Observation> {
  await coordinator(target, 'diff-internal-group')
  const topic = (await target.client.metadata(['__consumer_offsets'])).topics[0]
  return topic === undefined ? null
    : { error: errorName(topic.errorCode), isInternal: topic.isInternal,
      topicIdZero: topic.topicId.equals(ZERO_ID) }
}

/** Metadata allowing auto-creation of an unknown topic (auto.create.topics.enable, true). */
async function autoCreate (target: Target): Promise<Observation> {
  const conn = await connection(target)
  const ask = async (): Promise<Observation> => {
    const topic = (await conn.send(Metadata, {
      topics: [{ name: 'diff-auto', topicId: ZERO_ID }], allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    })).topics[0]
    return topic === undefined ? null
      : { error: errorName(topic.errorCode), partitions: topic.partitions.length }
  }
  const first = await ask()
  await waitForLeaders(target, 'diff-auto', 1)
  return { first, settled: await ask() }
}

async function unknownTopic (target: Target): Promise<Observation> {
  const conn = await connection(target)
  const deleted = await conn.send(DeleteTopics, {
    topics: [{ name: 'diff-nowhere', topicId: ZERO_ID }], topicNames: ['diff-nowhere'],
    timeoutMs: 10_000,
  })
  const fetchById = await conn.send(Fetch, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0,
    sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: '', topicId: Buffer.alloc(16, 7), partitions: [{ partition: 0,
      currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1,
      partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
  }, { version: await newest(target, Fetch) })
  const described = await conn.send(DescribeConfigs, {
    resources: [{ resourceType: RESOURCE_TOPIC, resourceName: 'diff-nowhere',
      configurationKeys: null }], includeSynonyms: false, includeDocumentation: false,
  })
  return {
    produce: await produceCode(target, 'diff-nowhere', 0, await batch(['x'])),
    fetch: await fetchCode(target, 'diff-nowhere', 0),
    fetchByUnknownId: errorName(fetchById.responses[0]?.partitions[0]?.errorCode ??
      fetchById.errorCode),
    listOffsets: await listOffsets(target, 'diff-nowhere', -1),
    deleteTopics: errorName(deleted.responses[0]?.errorCode ?? -1),
    describeConfigs: errorName(described.results[0]?.errorCode ?? -1),
  }
}

/** A successful produce and fetch of the same records, field by field. */
async function produceAndFetch (target: Target): Promise<Observation> {
  await createTopic(target, 'diff-shapes')
  const conn = await connection(target)
  const produced = await conn.send(Produce, {
    transactionalId: null, acks: -1, timeoutMs: 10_000,
    topicData: [{ name: 'diff-shapes', partitionData: [{ index: 0,
      records: await batch(['a', 'b']) }] }],
  })
  const written = produced.responses[0]?.partitionResponses[0]
  const fetched = await conn.send(Fetch, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 1,
    sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: 'diff-shapes', topicId: ZERO_ID, partitions: [{ partition: 0,
      currentLeaderEpoch: -1, fetchOffset: 1, lastFetchedEpoch: -1, logStartOffset: -1,
      partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
  })
  const read = fetched.responses[0]?.partitions[0]
  return {
    produce: written === undefined ? null : {
      error: errorName(written.errorCode), baseOffset: written.baseOffset,
      logAppendTimeMs: written.logAppendTimeMs, logStartOffset: written.logStartOffset,
      recordErrors: written.recordErrors.length, errorMessage: written.errorMessage,
    },
    fetch: read === undefined ? null : {
      topLevelError: errorName(fetched.errorCode), sessionId: fetched.sessionId,
      error: errorName(read.errorCode), highWatermark: read.highWatermark,
      lastStableOffset: read.lastStableOffset, logStartOffset: read.logStartOffset,
      abortedTransactions: read.abortedTransactions === null ? null
        : read.abortedTransactions.length,
      preferredReadReplica: read.preferredReadReplica,
      // The whole batch comes back, from its base offset, although the fetch starts at 1.
      recordBytes: read.records?.length ?? null,
      firstBatchOffset: read.records === null || read.records.length < 8 ? null
        : Number(read.records.readBigInt64BE(0)),
    },
  }
}

async function offsetsOutOfRange (target: Target): Promise<Observation> {
  await createTopic(target, 'diff-range')
  await produceCode(target, 'diff-range', 0, await batch(['a', 'b', 'c']))
  const conn = await connection(target)
  const deleteRecords = async (offset: number): Promise<Observation> => {
    const response = await conn.send(DeleteRecords, {
      topics: [{ name: 'diff-range', partitions: [{ partitionIndex: 0, offset }] }],
      timeoutMs: 10_000,
    })
    const partition = response.topics[0]?.partitions[0]
    return { error: errorName(partition?.errorCode ?? -1), lowWatermark: partition?.lowWatermark ?? null }
  }
  return {
    fetchPastEnd: await fetchCode(target, 'diff-range', 100),
    fetchAtEnd: await fetchCode(target, 'diff-range', 3),
    fetchNegative: await fetchCode(target, 'diff-range', -5),
    deleteRecordsPastEnd: await deleteRecords(100),
    deleteRecordsToOne: await deleteRecords(1),
    fetchBelowStart: await fetchCode(target, 'diff-range', 0),
    produceToMissingPartition: await produceCode(target, 'diff-range', 7, await batch(['x'])),
  }
}

async function tooLarge (target: Target): Promise<Observation> {
  // In place first: Kafka once answered NOT_LEADER_OR_FOLLOWER to the first produce to the new
  // topic on a loaded machine (see produceInPlace).
  await createTopic(target, 'diff-large', 1, { 'max.message.bytes': '1024' })
  const small = await produceInPlace(target, 'diff-large', 0, await batch(['fits']))
  const large = await produceCode(target, 'diff-large', 0, await batch(['x'.repeat(4096)]))
  // Over the broker's message.max.bytes (1048588, the default of both) on a default topic.
  await createTopic(target, 'diff-default-size')
  const overBrokerLimit = await produceInPlace(target, 'diff-default-size', 0,
    await batch(['y'.repeat(1_100_000)]))
  return { small, large, overBrokerLimit }
}

async function versions (target: Target): Promise<Observation> {
  // A version above ApiVersions' newest has a v2 header (flexible): its empty tagged fields.
  const apiVersionsTooNew = await rawRequest(target.bootstrap, ApiVersions.key, 99,
    Buffer.from([0]))
  const metadataTooNew = await rawRequest(target.bootstrap, Metadata.key, 99)
  const unknownApiKey = await rawRequest(target.bootstrap, 9999, 0)
  const produceV0 = await rawRequest(target.bootstrap, Produce.key, 0)
  // Below Kafka 4's minimums (KIP-896).
  const fetchV3 = await rawRequest(target.bootstrap, Fetch.key, 3)
  const listOffsetsV0 = await rawRequest(target.bootstrap, ListOffsets.key, 0)
  const createTopicsV1 = await rawRequest(target.bootstrap, CreateTopics.key, 1)
  // An API neither serves (a controller-to-broker one: StopReplica).
  const stopReplica = await rawRequest(target.bootstrap, 5, 0)
  return { apiVersionsTooNew, metadataTooNew, unknownApiKey, produceV0, fetchV3, listOffsetsV0,
    createTopicsV1, stopReplica }
}

async function createTopicsErrors (target: Target): Promise<Observation> {
  const conn = await connection(target)
  const version = await newest(target, CreateTopics)
  const attempt = async (name: string, partitions: number, replicationFactor: number,
    configs: Record<string, string> = {}): Promise<Observation> => {
    const response = await conn.send(CreateTopics, {
      topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [],
        configs: Object.entries(configs).map(([config, value]) => ({ name: config, value })) }],
      timeoutMs: 10_000, validateOnly: true,
    }, { version })
    const topic = response.topics[0]
    return topic === undefined ? null : errorName(topic.errorCode)
  }
  await createTopic(target, 'diff-exists')
  const created = (await conn.send(CreateTopics, {
    topics: [{ name: 'diff-created', numPartitions: 2, replicationFactor: -1, assignments: [],
      configs: [{ name: 'retention.ms', value: '3600000' }] }],
    timeoutMs: 10_000, validateOnly: false,
  }, { version })).topics[0]
  const createdConfigs: Record<string, Observation> = {}
  for (const config of created?.configs ?? []) {
    if (!DESCRIBED_CONFIGS.includes(config.name)) continue
    createdConfigs[config.name] = { value: config.value, readOnly: config.readOnly,
      source: config.configSource, isSensitive: config.isSensitive }
  }
  return {
    version,
    created: created === undefined ? null : {
      error: errorName(created.errorCode), topicIdZero: created.topicId?.equals(ZERO_ID) ?? null,
      numPartitions: created.numPartitions, replicationFactor: created.replicationFactor,
      configs: createdConfigs,
    },
    valid: await attempt('diff-valid', 2, 1),
    brokerDefaults: await attempt('diff-defaults', -1, -1),
    exists: await attempt('diff-exists', 1, 1),
    replicationTooHigh: await attempt('diff-rf', 1, 3),
    zeroPartitions: await attempt('diff-p0', 0, 1),
    negativePartitions: await attempt('diff-pneg', -5, 1),
    zeroReplication: await attempt('diff-rf0', 1, 0),
    slash: await attempt('bad/name', 1, 1),
    dot: await attempt('.', 1, 1),
    dotDot: await attempt('..', 1, 1),
    empty: await attempt('', 1, 1),
    tooLong: await attempt('t'.repeat(250), 1, 1),
    badConfigValue: await attempt('diff-badvalue', 1, 1, { 'cleanup.policy': 'sometimes' }),
    badNumber: await attempt('diff-badnumber', 1, 1, { 'retention.ms': 'soon' }),
    unknownConfig: await attempt('diff-unknown-config', 1, 1, { 'no.such.config': '1' }),
  }
}

async function alterConfigsErrors (target: Target): Promise<Observation> {
  await createTopic(target, 'diff-alter')
  const conn = await connection(target)
  const legacy = async (resourceName: string, name: string, value: string):
  Promise<Observation> => {
    const response = await conn.send(AlterConfigs, {
      resources: [{ resourceType: RESOURCE_TOPIC, resourceName, configs: [{ name, value }] }],
      validateOnly: true,
    })
    return errorName(response.responses[0]?.errorCode ?? -1)
  }
  const incremental = async (resourceName: string, name: string, value: string | null,
    configOperation = 0): Promise<Observation> => {
    const response = await conn.send(IncrementalAlterConfigs, {
      resources: [{ resourceType: RESOURCE_TOPIC, resourceName,
        configs: [{ name, configOperation, value }] }],
      validateOnly: true,
    })
    return errorName(response.responses[0]?.errorCode ?? -1)
  }
  return {
    legacyValid: await legacy('diff-alter', 'retention.ms', '60000'),
    legacyBadValue: await legacy('diff-alter', 'retention.ms', 'soon'),
    legacyUnknownConfig: await legacy('diff-alter', 'no.such.config', '1'),
    legacyUnknownTopic: await legacy('diff-nowhere', 'retention.ms', '60000'),
    incrementalValid: await incremental('diff-alter', 'retention.ms', '60000'),
    incrementalBadValue: await incremental('diff-alter', 'cleanup.policy', 'sometimes'),
    incrementalUnknownConfig: await incremental('diff-alter', 'no.such.config', '1'),
    incrementalUnknownTopic: await incremental('diff-nowhere', 'retention.ms', '60000'),
    incrementalAppendToScalar: await incremental('diff-alter', 'retention.ms', '1', 2),
    incrementalBadOperation: await incremental('diff-alter', 'retention.ms', '1', 9),
  }
}

async function listOffsetsAnswers (target: Target): Promise<Observation> {
  await createTopic(target, 'diff-offsets')
  const base = Date.now() - 60_000
  // Three batches whose timestamps are not in offset order: the max timestamp (-3) is the
  // middle batch's last record.
  await produceInPlace(target, 'diff-offsets', 0, await buildRecordBatch([
    { value: 'a', timestamp: base + 10 }, { value: 'b', timestamp: base + 20 }]))
  await produceInPlace(target, 'diff-offsets', 0, await buildRecordBatch([
    { value: 'c', timestamp: base + 50 }, { value: 'd', timestamp: base + 40 }]))
  await produceInPlace(target, 'diff-offsets', 0, await buildRecordBatch([
    { value: 'e', timestamp: base + 30 }]))
  const relative = async (timestamp: number): Promise<Observation> => {
    const answer = await listOffsets(target, 'diff-offsets', timestamp)
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return answer
    const at = answer.timestamp ?? null
    return { ...answer, timestamp: typeof at === 'number' && at >= base ? at - base : at }
  }
  return {
    earliest: await relative(-2),
    latest: await relative(-1),
    maxTimestamp: await relative(-3),
    earliestLocal: await relative(-4),
    latestTiered: await relative(-5),
    byTimestamp: await relative(base + 15),
    byTimestampExact: await relative(base + 40),
    afterEverything: await relative(base + 1000),
    unknownSpec: await relative(-9),
  }
}

/** Errors a coordinator answers while it is not ready for a group yet; clients retry them. */
const COORDINATOR_NOT_READY = new Set(['COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR'])

/**
 * The group coordinator's connection, once it serves the group: Kafka answers
 * COORDINATOR_NOT_AVAILABLE while it creates __consumer_offsets, and
 * COORDINATOR_LOAD_IN_PROGRESS while it loads the group's partition. Both are retried here as
 * every client retries them, so that what is compared is the answer of a ready coordinator.
 */
async function coordinator (target: Target, groupId: string): Promise<KafkaConnection> {
  const conn = await connection(target)
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const found = await conn.send(FindCoordinator, { key: groupId, keyType: 0,
      coordinatorKeys: [groupId] })
    let code = errorName(found.coordinators?.[0]?.errorCode ?? found.errorCode)
    if (code === 'NONE') {
      const group = (await conn.send(DescribeGroups, { groups: [groupId],
        includeAuthorizedOperations: false })).groups[0]
      code = errorName(group?.errorCode ?? -1)
      if (!COORDINATOR_NOT_READY.has(code)) return conn
    }
    if (Date.now() > deadline) throw new Error(`${target.kind}: no coordinator: ${code}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

const CONSUMER_METADATA = Buffer.from([0, 0, 0, 0, 0, 1, 0, 4, 116, 101, 115, 116, 0, 0, 0, 0])
const CONSUMER_ASSIGNMENT = Buffer.from([0, 0, 0, 0, 0, 1, 0, 4, 116, 101, 115, 116, 0, 0, 0, 1,
  0, 0, 0, 0, 0, 0, 0, 0])

async function groupLifecycle (target: Target): Promise<Observation> {
  const groupId = 'diff-group'
  const conn = await coordinator(target, groupId)
  const join = (memberId: string, protocolType = 'consumer') => conn.send(JoinGroup, {
    groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId,
    groupInstanceId: null, protocolType, protocols: [{ name: 'range', metadata: CONSUMER_METADATA }],
    reason: null,
  }, { timeoutMs: 40_000 })
  const describe = async (): Promise<Observation> => {
    const group = (await conn.send(DescribeGroups, { groups: [groupId],
      includeAuthorizedOperations: false })).groups[0]
    return group === undefined ? null : {
      error: errorName(group.errorCode), state: group.groupState,
      protocolType: group.protocolType, protocolData: group.protocolData,
      members: group.members.map(member => ({
        metadataSent: member.memberMetadata.equals(CONSUMER_METADATA),
        assignmentSent: member.memberAssignment.equals(CONSUMER_ASSIGNMENT),
        emptyAssignment: member.memberAssignment.length === 0,
      })),
    }
  }
  const first = await join('')
  const joined = await join(first.memberId)
  const memberId = joined.memberId
  const beforeSync = await describe()
  const synced = await conn.send(SyncGroup, {
    groupId, generationId: joined.generationId, memberId, groupInstanceId: null,
    protocolType: 'consumer', protocolName: 'range',
    assignments: [{ memberId, assignment: CONSUMER_ASSIGNMENT }],
  })
  const stable = await describe()
  const heartbeat = await conn.send(Heartbeat, { groupId, generationId: joined.generationId,
    memberId, groupInstanceId: null })
  const staleHeartbeat = await conn.send(Heartbeat, { groupId,
    generationId: joined.generationId + 5, memberId, groupInstanceId: null })
  const strangerHeartbeat = await conn.send(Heartbeat, { groupId,
    generationId: joined.generationId, memberId: 'stranger', groupInstanceId: null })
  const otherProtocol = await join('', 'connect')
  const left = await conn.send(LeaveGroup, { groupId, memberId,
    members: [{ memberId, groupInstanceId: null, reason: null }] })
  const unknown = (await conn.send(DescribeGroups, { groups: ['diff-no-group'],
    includeAuthorizedOperations: false })).groups[0]
  return {
    firstJoin: errorName(first.errorCode),
    firstJoinGivesMemberId: first.memberId.length > 0,
    join: { error: errorName(joined.errorCode), generationId: joined.generationId,
      protocolType: joined.protocolType ?? null, protocolName: joined.protocolName,
      isLeader: joined.leader === memberId, members: joined.members.length,
      skipAssignment: joined.skipAssignment ?? null },
    beforeSync,
    sync: { error: errorName(synced.errorCode), protocolType: synced.protocolType ?? null,
      protocolName: synced.protocolName ?? null,
      assignmentSent: synced.assignment.equals(CONSUMER_ASSIGNMENT) },
    stable,
    heartbeat: errorName(heartbeat.errorCode),
    staleHeartbeat: errorName(staleHeartbeat.errorCode),
    strangerHeartbeat: errorName(strangerHeartbeat.errorCode),
    otherProtocolType: errorName(otherProtocol.errorCode),
    leave: { error: errorName(left.errorCode),
      members: left.members.map(member => errorName(member.errorCode)) },
    afterLeave: await describe(),
    unknownGroup: unknown === undefined ? null
      : { error: errorName(unknown.errorCode), state: unknown.groupState },
  }
}

/** Offsets committed outside any generation (a "simple" consumer), then fetched back. */
async function committedOffsets (target: Target): Promise<Observation> {
  await createTopic(target, 'diff-committed', 2)
  const groupId = 'diff-offsets-group'
  const conn = await coordinator(target, groupId)
  const commit = async (topic: string, generation: number, memberId: string):
  Promise<Observation> => {
    const response = await conn.send(OffsetCommit, {
      groupId, generationIdOrMemberEpoch: generation, memberId, groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 42,
        committedLeaderEpoch: 0, commitTimestamp: -1, committedMetadata: 'meta' }] }],
    }, { version: await newest(target, OffsetCommit) })
    return errorName(response.topics[0]?.partitions[0]?.errorCode ?? -1)
  }
  const fetchOffsets = async (group: string): Promise<Observation> => {
    const response = await conn.send(OffsetFetch, {
      groupId: group, topics: null, requireStable: true,
      groups: [{ groupId: group, memberId: null, memberEpoch: -1,
        topics: [{ name: 'diff-committed', partitionIndexes: [0, 1] }] }],
    }, { version: await newest(target, OffsetFetch) })
    const answer = response.groups?.[0]
    return answer === undefined ? null : {
      error: errorName(answer.errorCode),
      partitions: answer.topics.flatMap(topic => topic.partitions.map(partition => ({
        topic: topic.name, partition: partition.partitionIndex,
        offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
        metadata: partition.metadata, error: errorName(partition.errorCode),
      }))),
    }
  }
  return {
    simple: await commit('diff-committed', -1, ''),
    unknownTopic: await commit('diff-nowhere', -1, ''),
    strangerInGeneration: await commit('diff-committed', 3, 'stranger'),
    fetched: await fetchOffsets(groupId),
    unknownGroup: await fetchOffsets('diff-no-such-group'),
  }
}

/** The admin client's other APIs: partitions added, the cluster, topics paged, groups deleted. */
async function admin (target: Target): Promise<Observation> {
  await createTopic(target, 'diff-admin', 2)
  const conn = await connection(target)
  const grow = async (name: string, count: number): Promise<Observation> => {
    const response = await conn.send(CreatePartitions, {
      topics: [{ name, count, assignments: null }], timeoutMs: 10_000, validateOnly: true,
    })
    return errorName(response.results[0]?.errorCode ?? -1)
  }
  const cluster = await conn.send(DescribeCluster, { includeClusterAuthorizedOperations: true,
    endpointType: 1, includeFencedBrokers: true }, { version: await newest(target, DescribeCluster) })
  const brokers = new Set(cluster.brokers.map(broker => broker.brokerId))
  const described = await conn.send(DescribeTopicPartitions, {
    topics: [{ name: 'diff-admin' }, { name: 'diff-nowhere' }], responsePartitionLimit: 1,
    cursor: null,
  })
  const deleted = await conn.send(DeleteGroups, { groupsNames: ['diff-no-such-group'] })
  return {
    createPartitions: {
      more: await grow('diff-admin', 4), same: await grow('diff-admin', 2),
      fewer: await grow('diff-admin', 1), unknownTopic: await grow('diff-nowhere', 3),
    },
    describeCluster: {
      error: errorName(cluster.errorCode), endpointType: cluster.endpointType,
      brokers: cluster.brokers.length, controllerIsListed: brokers.has(cluster.controllerId),
      clusterAuthorizedOperations: cluster.clusterAuthorizedOperations,
      fenced: cluster.brokers.map(broker => broker.isFenced ?? null),
    },
    describeTopicPartitions: {
      topics: described.topics.map(topic => ({
        name: topic.name, error: errorName(topic.errorCode),
        topicIdZero: topic.topicId.equals(ZERO_ID), isInternal: topic.isInternal,
        partitions: topic.partitions.map(partition => ({
          index: partition.partitionIndex, error: errorName(partition.errorCode),
          leaderEpoch: partition.leaderEpoch, replicas: partition.replicaNodes.length,
          isr: partition.isrNodes.length, elr: partition.eligibleLeaderReplicas,
          lastKnownElr: partition.lastKnownElr, offline: partition.offlineReplicas.length,
        })),
        topicAuthorizedOperations: topic.topicAuthorizedOperations,
      })),
      nextCursor: described.nextCursor === null ? null
        : { ...described.nextCursor },
    },
    deleteUnknownGroup: errorName(deleted.results[0]?.errorCode ?? -1),
  }
}

async function configDescriptions (target: Target): Promise<Observation> {
  await createTopic(target, 'diff-configs', 1, { 'retention.ms': '3600000' })
  const conn = await connection(target)
  const response = await conn.send(DescribeConfigs, {
    resources: [{ resourceType: RESOURCE_TOPIC, resourceName: 'diff-configs',
      configurationKeys: DESCRIBED_CONFIGS }],
    includeSynonyms: true, includeDocumentation: true,
  }, { version: await newest(target, DescribeConfigs) })
  const result = response.results[0]
  if (result === undefined) return null
  const configs: Record<string, Observation> = {}
  for (const config of [...result.configs].sort((a, b) => a.name.localeCompare(b.name))) {
    configs[config.name] = {
      value: config.value, readOnly: config.readOnly, source: config.configSource,
      isSensitive: config.isSensitive, type: config.configType,
      documented: config.documentation !== null && config.documentation.length > 0,
      synonyms: config.synonyms.map(synonym => ({ name: synonym.name, value: synonym.value,
        source: synonym.source })),
    }
  }
  return { error: errorName(result.errorCode), configs }
}

/**
 * The scenarios, in the order they run; `served` gives the API keys Tributary advertises
 * (known once the brokers run).
 */
export function scenarios (served: () => readonly number[]): Scenario[] {
  return [
    { name: 'api-versions', observe: target => apiVersions(target, served()) },
    { name: 'metadata', observe: metadataShape },
    { name: 'internal-topic', observe: internalTopic },
    { name: 'auto-create', observe: autoCreate },
    { name: 'unknown-topic', observe: unknownTopic },
    { name: 'produce-and-fetch', observe: produceAndFetch },
    { name: 'offsets-out-of-range', observe: offsetsOutOfRange },
    { name: 'message-too-large', observe: tooLarge },
    { name: 'versions', observe: versions },
    { name: 'create-topics-errors', observe: createTopicsErrors },
    { name: 'alter-configs-errors', observe: alterConfigsErrors },
    { name: 'list-offsets', observe: listOffsetsAnswers },
    { name: 'group', observe: groupLifecycle },
    { name: 'committed-offsets', observe: committedOffsets },
    { name: 'admin', observe: admin },
    { name: 'config-descriptions', observe: configDescriptions },
  ]
}

