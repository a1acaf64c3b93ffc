/**
 * Who does what in a test cluster whose brokers are being killed: the live brokers, the
 * leader of each partition of a topic, and the transaction coordinator of a transactional id
 * (FindCoordinator with key type 1, as a client finds it), each asked of a live broker.
 */
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js'
import { ERROR } from '../../src/protocol/errors.js'
import { connect, metadataFrom, type TestCluster } from './cluster-process.js'

/** The node ids of the brokers whose process is running. */
export function liveNodes (cluster: TestCluster): number[] {
  return [...cluster.brokers].filter(([, broker]) =>
    broker.child.exitCode === null && broker.child.signalCode === null)
    .map(([nodeId]) => nodeId).sort((a, b) => a - b)
}

/** host:port of every running broker, to bootstrap a client from. */
export function liveBootstrap (cluster: TestCluster): string[] {
  return liveNodes(cluster).map(nodeId => cluster.brokers.get(nodeId)?.bootstrap ?? '')
    .filter(address => address !== '')
}

/** Each partition's leader (-1 while it has none), as a live broker sees the topic. */
export async function partitionLeaders (cluster: TestCluster, topic: string):
Promise<number[]> {
  const viewer = liveNodes(cluster)[0] ?? 1
  const response = await metadataFrom(cluster, viewer, [topic])
  const described = response.topics[0]
  if (described === undefined || described.errorCode !== 0) return []
  return [...described.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)
    .map(p => p.leaderId)
}

/** The transaction coordinator of `transactionalId`, or undefined while there is none. */
export async function transactionCoordinatorOf (cluster: TestCluster, transactionalId: string):
Promise<number | undefined> {
  const viewer = liveNodes(cluster)[0] ?? 1
  const connection = await connect(cluster, viewer)
  try {
    const response = await connection.send(FindCoordinator, { key: '', keyType: 1,
      coordinatorKeys: [transactionalId] }, { version: 4 })
    const found = response.coordinators?.[0]
    return found?.errorCode === ERROR.NONE && found.nodeId > 0 ? found.nodeId : undefined
  } finally {
    connection.close()
  }
}
