/**
 * A cluster of real broker processes on a real etcd (test/support/etcd-process.ts), for the
 * cluster tests and the failover bench: `startCluster(3)` starts etcd and three brokers with
 * node ids 1..3 on ephemeral ports and temporary data directories; `stop` ends them all and
 * removes every directory.
 */
import assert from 'node:assert/strict'
import { KafkaClient } from '../../src/client/client.js'
import { KafkaConnection } from '../../src/client/connection.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { Metadata, type MetadataResponse } from '../../src/protocol/apis/metadata.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { errorByCode } from '../../src/protocol/errors.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import {
  removeDataDir, startBroker, type BrokerProcess, type StartOptions,
} from './broker-process.js'
import { startEtcd, type EtcdProcess } from './etcd-process.js'

export interface TestCluster {
  etcd: EtcdProcess
  brokers: Map<number, BrokerProcess>
  sessionTimeoutMs: number
  /** Starts broker `nodeId` (again, on its own data directory when it had one). */
  startNode: (nodeId: number, options?: StartOptions) => Promise<BrokerProcess>
  /** A client that talks to this one broker only. */
  clientOf: (nodeId: number) => KafkaClient
  stop: () => Promise<void>
}

export async function startCluster (size: number, sessionTimeoutMs = 3_000,
  env: Record<string, string> = {}, bin?: string): Promise<TestCluster> {
  const etcd = await startEtcd()
  const brokers = new Map<number, BrokerProcess>()
  const dataDirs = new Map<number, string>()
  const clients: KafkaClient[] = []
  const startNode = async (nodeId: number, options: StartOptions = {}):
  Promise<BrokerProcess> => {
    const dataDir = dataDirs.get(nodeId)
    const broker = await startBroker({
      ...(dataDir === undefined ? {} : { dataDir }),
      // Another build's bin/tributary.js (a benchmark's paired A/B runs).
      ...(bin === undefined ? {} : { bin }),
      ...options,
      args: ['--node-id', String(nodeId), '--etcd', etcd.endpoint, ...(options.args ?? [])],
      env: {
        TRIBUTARY_BROKER_SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
        TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
        ...env,
        ...options.env,
      },
    })
    dataDirs.set(nodeId, broker.dataDir)
    brokers.set(nodeId, broker)
    return broker
  }
  const cluster: TestCluster = {
    etcd,
    brokers,
    sessionTimeoutMs,
    startNode,
    clientOf: nodeId => {
      const broker = brokers.get(nodeId)
      if (broker === undefined) throw new Error(`no broker ${nodeId}`)
      const client = new KafkaClient({ bootstrap: broker.bootstrap, requestTimeoutMs: 20_000 })
      clients.push(client)
      return client
    },
    stop: async () => {
      await Promise.all(clients.map(client => client.close().catch(() => undefined)))
      await Promise.all([...brokers.values()].map(broker => broker.kill()))
      await etcd.stop()
      await Promise.all([...dataDirs.values()].map(dir => removeDataDir(dir)))
    },
  }
  try {
    await Promise.all(Array.from({ length: size }, (_, index) => startNode(index + 1)))
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

/** Polls `check` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T> (what: string, check: () => Promise<T | undefined>,
  timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      // A failed assertion in the check is a verdict, not a "not yet": retrying it would let
      // a later, different answer pass the test. Other errors (a broker not answering) retry.
      if (error instanceof assert.AssertionError) throw error
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms (last error: ${String(last)})`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export async function connect (cluster: TestCluster, nodeId: number): Promise<KafkaConnection> {
  const broker = cluster.brokers.get(nodeId)
  assert.ok(broker !== undefined)
  return KafkaConnection.connect('127.0.0.1', broker.kafkaPort, { requestTimeoutMs: 20_000 })
}

/** Metadata from exactly this broker (no client routing). */
export async function metadataFrom (cluster: TestCluster, nodeId: number,
  topics: string[] | null):
Promise<MetadataResponse> {
  const connection = await connect(cluster, nodeId)
  try {
    return await connection.send(Metadata, {
      topics: topics?.map(name => ({ name, topicId: Buffer.alloc(16) })) ?? null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    })
  } finally {
    connection.close()
  }
}

export async function createTopicOn (cluster: TestCluster, nodeId: number, name: string,
  partitions: number, replicationFactor: number): Promise<string> {
  const connection = await connect(cluster, nodeId)
  try {
    const response = await connection.send(CreateTopics, {
      topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [],
        configs: [] }],
      timeoutMs: 20_000, validateOnly: false,
    })
    const result = response.topics[0]
    const errorName = errorByCode(result?.errorCode ?? -1)?.name ?? 'UNKNOWN'
    if (errorName !== 'NONE' && process.env.CLUSTER_TEST_VERBOSE !== undefined) {
      console.error(`CreateTopics on ${nodeId}: ${errorName}: ${result?.errorMessage ?? ''}`)
    }
    return errorName
  } finally {
    connection.close()
  }
}

export function describeTopic (metadata: MetadataResponse, name: string): string | undefined {
  const topic = metadata.topics.find(t => t.name === name)
  if (topic === undefined || topic.errorCode !== 0) return undefined
  return topic.partitions.map(p => `${p.partitionIndex}:${p.leaderId}:` +
    `${p.replicaNodes.join(',')}:${p.isrNodes.join(',')}`).sort().join(' ')
}

export async function produceOn (cluster: TestCluster, nodeId: number, topic: string,
  partition: number): Promise<string> {
  const connection = await connect(cluster, nodeId)
  try {
    const response = await connection.send(Produce, {
      transactionalId: null, acks: -1, timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: partition,
        records: buildRecordBatchSync([{ value: Buffer.from('v') }],
          { timestampMs: Date.now() }) }] }],
    })
    const code = response.responses[0]?.partitionResponses[0]?.errorCode ?? -1
    return errorByCode(code)?.name ?? 'UNKNOWN'
  } finally {
    connection.close()
  }
}

/** Every live broker's view agrees: these brokers, this controller. */
export async function agreedView (cluster: TestCluster, nodeIds: number[]):
Promise<{ controllerId: number } | undefined> {
  let controllerId: number | undefined
  for (const nodeId of nodeIds) {
    const metadata = await metadataFrom(cluster, nodeId, [])
    const brokers = metadata.brokers.map(b => b.nodeId).sort()
    if (JSON.stringify(brokers) !== JSON.stringify(nodeIds)) return undefined
    if (metadata.controllerId < 0) return undefined
    if (controllerId !== undefined && metadata.controllerId !== controllerId) return undefined
    controllerId = metadata.controllerId
  }
  return controllerId === undefined ? undefined : { controllerId }
}
