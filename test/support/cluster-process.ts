/**
 * A cluster of real broker processes on a real etcd (test/support/etcd-process.ts), for the
 * cluster tests and the failover bench: `startCluster(3)` starts etcd and three brokers with
 * node ids 1..3 on ephemeral ports and temporary data directories; `stop` ends them all and
 * removes every directory.
 */
import { KafkaClient } from '../../src/client/client.js'
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

export async function startCluster (size: number, sessionTimeoutMs = 3_000):
Promise<TestCluster> {
  const etcd = await startEtcd()
  const brokers = new Map<number, BrokerProcess>()
  const dataDirs = new Map<number, string>()
  const clients: KafkaClient[] = []
  const startNode = async (nodeId: number, options: StartOptions = {}):
  Promise<BrokerProcess> => {
    const dataDir = dataDirs.get(nodeId)
    const broker = await startBroker({
      ...(dataDir === undefined ? {} : { dataDir }),
      ...options,
      args: ['--node-id', String(nodeId), '--etcd', etcd.endpoint, ...(options.args ?? [])],
      env: {
        TRIBUTARY_BROKER_SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
        TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
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
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms (last error: ${String(last)})`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
