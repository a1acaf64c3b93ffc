/**
 * The three-node reference Kafka (test/reference/kafka.ts startKafkaCluster), as the RF=3
 * comparison of `npm run bench -- replication --compare-kafka` uses it: three KRaft nodes
 * (combined broker+controller, a quorum of three voters) come up, an RF=3 topic with
 * min.insync.replicas=2 takes acks=all produce and reads back, and stopping ends every JVM
 * and removes every data directory. Skipped (with the reason) where Java or Maven is missing;
 * required in CI (CI=true).
 */
import assert from 'node:assert/strict'
import { access, readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { KafkaClientError } from '../../src/client/errors.js'
import { readPartition } from '../../src/client/consumer.js'
import { ERROR } from '../../src/protocol/errors.js'
import { buildRecordBatch } from '../../src/records/builder.js'
import { referenceMissing, startKafkaCluster, type ReferenceKafkaCluster } from './kafka.js'

const missing = await referenceMissing()
const skip = missing !== undefined && process.env.CI !== 'true'
  ? `the reference Kafka cannot run here: ${missing}` : false

async function alive (pid: number): Promise<boolean> {
  return readFile(`/proc/${pid}/stat`, 'utf8').then(stat => !/^\S+ \(.*\) Z/.test(stat),
    () => false)
}

/** Produces to partition 0, retrying (for at most 30 s) while the leader does not know it. */
async function produceOnceKnown (client: KafkaClient, topic: string,
  batch: Buffer): Promise<{ baseOffset: number }> {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      return await client.produce(topic, 0, batch, { acks: -1 })
    } catch (error) {
      const unknown = error instanceof KafkaClientError &&
        error.code === ERROR.UNKNOWN_TOPIC_OR_PARTITION
      if (!unknown || Date.now() > deadline) throw error
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}

describe('the reference Apache Kafka 4.1, three nodes', { skip, timeout: 300_000 }, () => {
  let kafka: ReferenceKafkaCluster | undefined
  before(async () => {
    if (missing !== undefined) throw new Error(`CI needs Java and Maven: ${missing}`)
    kafka = await startKafkaCluster(3)
  })
  after(async () => { await kafka?.stop() })

  it('replicates an RF=3 min.insync.replicas=2 topic: acks=all produce, read back',
    async () => {
      const cluster = kafka as ReferenceKafkaCluster
      const client = new KafkaClient({ bootstrap: cluster.bootstrap })
      try {
        const described = await client.describeCluster()
        assert.deepEqual(described.brokers.map(broker => broker.nodeId).sort(), [1, 2, 3])
        await client.createTopic('replicated', { partitions: 2, replicationFactor: 3,
          configs: { 'min.insync.replicas': '2' } })
        const values = ['one', 'two', 'three', 'four']
        const batch = await buildRecordBatch(values.map(value => ({ value: Buffer.from(value) })),
          { timestampMs: Date.now() })
        // The leader may still be settling right after creation: the client retries on
        // NOT_LEADER_OR_FOLLOWER, and this on UNKNOWN_TOPIC_OR_PARTITION, which the leader
        // answers until its own metadata has the topic (KRaft brokers apply it one by one).
        assert.equal((await produceOnceKnown(client, 'replicated', batch)).baseOffset, 0)
        const topic = (await client.metadata(['replicated'])).topics[0]
        const partition = topic?.partitions.find(p => p.partitionIndex === 0)
        assert.deepEqual([...partition?.replicaNodes ?? []].sort(), [1, 2, 3])
        assert.ok((partition?.isrNodes.length ?? 0) >= 2, 'at least min.insync.replicas in sync')
        const read: string[] = []
        for await (const record of readPartition(client, 'replicated', 0, 0)) {
          read.push(record.value?.toString() ?? '')
        }
        assert.deepEqual(read, values)
      } finally {
        await client.close()
      }
    })

  it('stops: every JVM exits and every data directory is removed', async () => {
    const cluster = kafka as ReferenceKafkaCluster
    const pids = await Promise.all(cluster.nodes.map(async node => node.pid()))
    assert.equal(pids.filter(pid => pid !== undefined).length, 3, 'a JVM per node')
    await cluster.stop()
    kafka = undefined
    for (const pid of pids) assert.equal(await alive(pid as number), false, `JVM ${pid} ended`)
    for (const node of cluster.nodes) {
      await assert.rejects(access(node.dataDir), { code: 'ENOENT' })
    }
  })
})
