/**
 * Replication on a real cluster (three broker processes on a real etcd, the lean client):
 * an RF=3 topic takes acks=all produces and every broker's log holds the same batches, byte
 * for byte up to the high watermark (read from the segment files); SIGKILL of the leader
 * loses no acknowledged record; the killed broker comes back, truncates what diverged, catches
 * up and rejoins the ISR; a diverging tail is truncated; group offsets and idempotent producer
 * state survive a failover; with min.insync.replicas=2 and two brokers down, acks=all is refused
 * with NOT_ENOUGH_REPLICAS. Times are reported as diagnostics, never asserted.
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { KafkaClient } from '../../src/client/client.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { decodeRecordBatch } from '../../src/records/batch.js'
import { OffsetForLeaderEpoch } from '../../src/protocol/apis/offset-for-leader-epoch.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { errorCodeOf } from '../../src/protocol/errors.js'
import {
  agreedView, connect, createTopicOn, eventually, metadataFrom, startCluster, type TestCluster,
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
      for (const bytes of copies) {
        assert.ok(prefixBelow(bytes, 20).equals(prefixBelow(leaderBytes, 20)))
      }
      assert.deepEqual(await valuesIn(prefixBelow(leaderBytes, 20)),
        Array.from({ length: 20 }, (_, i) => `v${i}`))
      // Group offsets are replicated too (offsets.topic.replication.factor, default 3).
      const offsets = await partitionOn(cluster, 1, '__consumer_offsets')
      assert.deepEqual(offsets?.replicas, [1, 2, 3])
      // Client requests on a follower are refused so that clients go to the leader.
      const follower = [1, 2, 3].find(id => id !== view.leader) as number
      const connection = await connect(cluster, follower)
      try {
        const listed = await connection.send(ListOffsets, {
          replicaId: -1, isolationLevel: 0, timeoutMs: 1000,
          topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1,
            timestamp: -1 }] }],
        })
        assert.equal(listed.topics[0]?.partitions[0]?.errorCode,
          errorCodeOf('NOT_LEADER_OR_FOLLOWER'))
      } finally {
        connection.close()
      }
      // The leader reports its followers' lag (caught up: 0 records behind).
      const httpPort = cluster.brokers.get(view.leader)?.httpPort as number
      const scraped = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
      assert.match(scraped, /^tributary_replica_lag_records{topic="replicated"} 0$/m)
    })

  it('keeps every acknowledged record when the leader is SIGKILLed, and the old leader ' +
    'catches up and rejoins the ISR', async t => {
    const before = await eventually('a leader', async () => {
      const seen = await partitionOn(cluster, 1, TOPIC)
      return seen !== undefined && seen.leader > 0 && seen.isr.length === 3 ? seen : undefined
    })
    const acknowledged = Array.from({ length: 20 }, (_, i) => `v${i}`)
    const oldLeader = before.leader
    const survivor = [1, 2, 3].find(id => id !== oldLeader) as number
    // Produce while the leader dies: what was acknowledged must survive.
    const client = cluster.clientOf(survivor)
    let stop = false
    const producing = (async () => {
      for (let i = 0; !stop; i++) {
        const value = `w${i}`
        try {
          await produceValues(client, TOPIC, [value])
          acknowledged.push(value)
        } catch {
          await new Promise(resolve => setTimeout(resolve, 50))
        }
      }
    })()
    await new Promise(resolve => setTimeout(resolve, 300))
    const killedMs = performance.now()
    await cluster.brokers.get(oldLeader)?.kill()
    const after = await eventually('a new leader', async () => {
      const seen = await partitionOn(cluster, survivor, TOPIC)
      return seen !== undefined && seen.leader > 0 && seen.leader !== oldLeader ? seen : undefined
    })
    const countBefore = acknowledged.length
    await eventually('an acknowledged produce on the new leader',
      async () => acknowledged.length > countBefore + 2 ? true : undefined)
    t.diagnostic(`failover: first acknowledged produce ${(performance.now() - killedMs)
      .toFixed(0)} ms after SIGKILL (session timeout ${cluster.sessionTimeoutMs} ms)`)
    stop = true
    await producing
    const newLeaderValues = await valuesIn(await logBytes(cluster, after.leader, TOPIC))
    // KIP-101: the new leader ends the old epoch where its own epoch starts.
    const connection = await connect(cluster, after.leader)
    try {
      const epochs = await connection.send(OffsetForLeaderEpoch, { replicaId: -1, topics: [
        { topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
      ] })
      const end = epochs.topics[0]?.partitions[0]
      assert.equal(end?.errorCode, 0)
      assert.equal(end?.leaderEpoch, 0)
      assert.ok(end !== undefined && end.endOffset >= 20 && end.endOffset <= newLeaderValues.length,
        `epoch 0 ends at ${String(end?.endOffset)}`)
    } finally {
      connection.close()
    }
    for (const value of acknowledged) {
      assert.ok(newLeaderValues.includes(value), `acknowledged ${value} is on the new leader`)
    }
    // Acknowledged values in order and exactly once (no retries across the failover here).
    const positions = acknowledged.map(value => newLeaderValues.indexOf(value))
    assert.deepEqual([...positions].sort((a, b) => a - b), positions)

    // The old leader comes back: it truncates what it alone had, catches up, rejoins the ISR.
    await cluster.startNode(oldLeader, { env: REPLICATION_ENV })
    const rejoined = await eventually('the old leader back in the ISR', async () => {
      const seen = await partitionOn(cluster, survivor, TOPIC)
      return seen?.isr.includes(oldLeader) === true ? seen : undefined
    }, 30_000)
    const leaderBytes = await logBytes(cluster, rejoined.leader, TOPIC)
    const end = (await valuesIn(leaderBytes)).length
    await eventually('identical logs on all three brokers', async () => {
      const all = await Promise.all([1, 2, 3].map(id => logBytes(cluster, id, TOPIC)))
      return all.every(bytes => prefixBelow(bytes, end).equals(prefixBelow(leaderBytes, end)))
        ? true
        : undefined
    })
  })

  it('truncates an old leader\'s unreplicated tail when it comes back as a follower (KIP-320)',
    async () => {
      const topic = 'diverging'
      await eventually('three live brokers', () => agreedView(cluster, [1, 2, 3]), 30_000)
      assert.equal(await createTopicOn(cluster, 1, topic, 1, 3), 'NONE')
      const view = await eventually('a full ISR', async () => {
        const seen = await partitionOn(cluster, 1, topic)
        return seen !== undefined && seen.leader > 0 && seen.isr.length === 3 ? seen : undefined
      })
      const oldLeader = view.leader
      const followers = [1, 2, 3].filter(id => id !== oldLeader)
      const client = cluster.clientOf(oldLeader)
      await produceValues(client, topic, ['a0', 'a1', 'a2'])
      await eventually('the followers have a0..a2', async () => {
        const all = await Promise.all(followers.map(async id =>
          (await valuesIn(await logBytes(cluster, id, topic))).length))
        return all.every(count => count === 3) ? true : undefined
      })
      // The followers pause (well within the lag time and the session timeout), so only the
      // leader gets these acks=1 batches; then the leader dies with them.
      for (const id of followers) cluster.brokers.get(id)?.child.kill('SIGSTOP')
      for (const value of ['tail0', 'tail1', 'tail2']) {
        await client.produce(topic, 0, buildRecordBatchSync([{ value: Buffer.from(value) }],
          { timestampMs: Date.now() }), { acks: 1 })
      }
      await cluster.brokers.get(oldLeader)?.kill()
      for (const id of followers) cluster.brokers.get(id)?.child.kill('SIGCONT')
      const next = await eventually('a new leader', async () => {
        const seen = await partitionOn(cluster, followers[0] as number, topic)
        return seen !== undefined && seen.leader > 0 && seen.leader !== oldLeader
          ? seen
          : undefined
      })
      await produceValues(cluster.clientOf(next.leader), topic, ['b0'])
      const restarted = await cluster.startNode(oldLeader, { env: REPLICATION_ENV })
      // A fetch the followers had parked at the leader may have carried tail0 to them before
      // they stopped; nothing later can have reached them.
      const leaderValues = await valuesIn(await logBytes(cluster, next.leader, topic))
      assert.equal(leaderValues.at(-1), 'b0')
      assert.ok(!leaderValues.includes('tail1') && !leaderValues.includes('tail2'))
      let seenValues: string[] = []
      await eventually('the old leader holds exactly the new leader\'s log', async () => {
        seenValues = await valuesIn(await logBytes(cluster, oldLeader, topic))
        return JSON.stringify(seenValues) === JSON.stringify(leaderValues) ? true : undefined
      }).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; old leader has ${seenValues.join(',')}\n` +
          restarted.output())
      })
      const leaderBytes = await logBytes(cluster, next.leader, topic)
      assert.ok((await logBytes(cluster, oldLeader, topic)).equals(leaderBytes))
      assert.match(restarted.output(), /diverges from broker/)
    })

  it('keeps a group\'s committed offsets when its coordinator\'s broker is SIGKILLed',
    async () => {
      const group = 'survivors'
      const client = cluster.clientOf(1)
      const coordinator = await eventually('a coordinator', async () =>
        (await client.findCoordinator(group)).nodeId)
      await eventually('the commit', async () => {
        await client.commitGroupOffsets(group, [{ topic: TOPIC, partition: 0, offset: 7 }])
        return true
      })
      await cluster.brokers.get(coordinator)?.kill()
      const survivor = cluster.clientOf([1, 2, 3].find(id => id !== coordinator) as number)
      const offsets = await eventually('the offsets from the new coordinator', async () => {
        const moved = (await survivor.findCoordinator(group)).nodeId
        if (moved === coordinator) return undefined
        return await survivor.fetchGroupOffsets(group)
      }, 30_000)
      assert.equal(offsets.get(TOPIC)?.get(0), 7)
      await cluster.startNode(coordinator, { env: REPLICATION_ENV })
    })

  it('answers an idempotent retry on the new leader with the original offset (producer ' +
    'state moves with leadership)', async () => {
    const topic = 'idempotent'
    // The broker the previous test restarted must be registered again for RF=3.
    await eventually('three live brokers', () => agreedView(cluster, [1, 2, 3]), 30_000)
    assert.equal(await createTopicOn(cluster, 1, topic, 1, 3), 'NONE')
    const view = await eventually('a full ISR', async () => {
      const seen = await partitionOn(cluster, 1, topic)
      return seen !== undefined && seen.leader > 0 && seen.isr.length === 3 ? seen : undefined
    })
    const client = cluster.clientOf(view.leader)
    const { producerId, producerEpoch } = await client.initProducerId()
    const batch = (sequence: number, value: string): Buffer => buildRecordBatchSync(
      [{ value: Buffer.from(value) }],
      { producerId, producerEpoch, baseSequence: sequence, timestampMs: Date.now() })
    await client.produce(topic, 0, batch(0, 'p0'), { acks: -1 })
    const first = await client.produce(topic, 0, batch(1, 'p1'), { acks: -1 })
    await cluster.brokers.get(view.leader)?.kill()
    const survivor = [1, 2, 3].find(id => id !== view.leader) as number
    const next = await eventually('a new leader', async () => {
      const seen = await partitionOn(cluster, survivor, topic)
      return seen !== undefined && seen.leader > 0 && seen.leader !== view.leader
        ? seen
        : undefined
    })
    // The producer did not hear back and retries the same batch on the new leader.
    const retried = await cluster.clientOf(next.leader).produce(topic, 0, batch(1, 'p1'),
      { acks: -1 })
    assert.equal(retried.baseOffset, first.baseOffset, 'a duplicate, not a second copy')
    await cluster.clientOf(next.leader).produce(topic, 0, batch(2, 'p2'), { acks: -1 })
    assert.deepEqual(await valuesIn(await logBytes(cluster, next.leader, topic)),
      ['p0', 'p1', 'p2'])
    await cluster.startNode(view.leader, { env: REPLICATION_ENV })
  })

  it('refuses acks=all with NOT_ENOUGH_REPLICAS when min.insync.replicas=2 and two brokers ' +
    'are down', async () => {
    const topic = 'guarded'
    await eventually('three live brokers', () => agreedView(cluster, [1, 2, 3]), 30_000)
    assert.equal(await createTopicOn(cluster, 1, topic, 1, 3), 'NONE')
    const view = await eventually('a full ISR', async () => {
      const seen = await partitionOn(cluster, 1, topic)
      return seen !== undefined && seen.leader > 0 && seen.isr.length === 3 ? seen : undefined
    })
    const admin = cluster.clientOf(view.leader)
    await admin.alterTopicConfigs(topic, { 'min.insync.replicas': '2' })
    await produceValues(admin, topic, ['before'])
    const others = [1, 2, 3].filter(id => id !== view.leader)
    await Promise.all(others.map(id => cluster.brokers.get(id)?.kill()))
    // An acknowledgement ends the wait: `eventually` retries a check that throws, so a
    // failing assertion here would only try again until a later produce was refused.
    const refused = await eventually('NOT_ENOUGH_REPLICAS', async () => {
      try {
        await produceValues(cluster.clientOf(view.leader), topic, ['after'])
        return 'acks=all was acknowledged with one broker left'
      } catch (error) {
        const name = (error as { errorName?: string }).errorName
        if (name === 'NOT_ENOUGH_REPLICAS') return name
        // Until the ISR shrinks the produce waits and times out, or the ISR shrank after it.
        assert.ok(name === 'REQUEST_TIMED_OUT' || name === 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
          `unexpected ${String(name)}: ${(error as Error).message}`)
        return undefined
      }
    }, 40_000)
    assert.equal(refused, 'NOT_ENOUGH_REPLICAS')
    await Promise.all(others.map(id => cluster.startNode(id, { env: REPLICATION_ENV })))
  })
})
