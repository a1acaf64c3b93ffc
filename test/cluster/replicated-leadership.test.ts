/**
 * Leadership operations on a replicating cluster (three broker processes on a real etcd):
 * a partition with data is reassigned from one broker to the two others, whose fetchers copy
 * it; the reassignment completes by itself once both are in sync, the data reads the same
 * from the new leader, and the old replica's log is deleted. Then broker 1 is SIGKILLed
 * (leadership moves away), restarted (it catches up and rejoins the ISRs), and a preferred
 * election moves the partitions it prefers back to it. Last, a topic allowing unclean
 * elections gets its out-of-sync replica as leader when its only in-sync one is dead, with
 * the ERROR line and the metric. Times are diagnostics, never asserted.
 */
import assert from 'node:assert/strict'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { KafkaClient } from '../../src/client/client.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { decodeRecordBatch, splitBatches } from '../../src/records/batch.js'
import {
  createTopicOn, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import { etcdAvailable } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'
const REPLICATION_ENV = {
  TRIBUTARY_REPLICA_LAG_TIME_MAX_MS: '2000',
  TRIBUTARY_REPLICA_FETCH_BACKOFF_MS: '200',
}

interface View { leader: number, epoch: number, replicas: number[], isr: number[] }

describe('reassignment and preferred election with replication', { skip }, () => {
  let cluster: TestCluster

  async function viewOn (nodeId: number, topic: string, id: number):
  Promise<View | undefined> {
    const metadata = await metadataFrom(cluster, nodeId, [topic])
    const p = metadata.topics[0]?.partitions.find(q => q.partitionIndex === id)
    return p === undefined ? undefined : { leader: p.leaderId, epoch: p.leaderEpoch,
      replicas: p.replicaNodes, isr: [...p.isrNodes].sort() }
  }

  async function everywhere (what: string, nodes: number[], topic: string, id: number,
    check: (view: View) => boolean, timeoutMs = 30_000): Promise<View> {
    return eventually(what, async () => {
      const views = await Promise.all(nodes.map(node => viewOn(node, topic, id)))
      return views.every(view => view !== undefined && check(view)) ? views[0] : undefined
    }, timeoutMs)
  }

  async function valuesOf (client: KafkaClient, topic: string): Promise<string[]> {
    const fetched = await client.fetch(topic, 0, 0, { maxBytes: 8 * 1024 * 1024 })
    const records = fetched.records ?? Buffer.alloc(0)
    const values: string[] = []
    for (const { position, size } of splitBatches(records)) {
      const batch = await decodeRecordBatch(records.subarray(position, position + size))
      for (const record of batch.records) values.push(record.value?.toString() ?? '')
    }
    return values
  }

  before(async () => {
    cluster = await startCluster(3, 3_000, REPLICATION_ENV)
  })
  after(async () => {
    await cluster?.stop()
  })

  it('moves a partition with its data from one broker to the two others', async t => {
    assert.equal(await createTopicOn(cluster, 1, 'moving', 1, 1), 'NONE')
    const start = await everywhere('the topic everywhere', [1, 2, 3], 'moving', 0,
      view => view.leader > 0)
    const source = start.leader
    const targets = [1, 2, 3].filter(id => id !== source)
    const client = cluster.clientOf(source)
    const values = Array.from({ length: 30 }, (_, i) => `m${i}`)
    for (const value of values) {
      await client.produce('moving', 0, buildRecordBatchSync([{ value: Buffer.from(value) }],
        { timestampMs: Date.now() }), { acks: -1, timeoutMs: 10_000 })
    }
    const startedMs = performance.now()
    const [result] = await cluster.clientOf(targets[0] as number).alterPartitionReassignments(
      [{ topic: 'moving', partition: 0, replicas: targets }])
    assert.equal(result?.errorName, 'NONE', result?.message ?? '')
    const done = await everywhere('the reassignment completed on every broker', [1, 2, 3],
      'moving', 0, view => view.replicas.join() === targets.join() &&
        targets.includes(view.leader) && view.isr.join() === [...targets].sort().join())
    t.diagnostic(`[${source}] → [${targets.join(',')}] completed after ` +
      `${(performance.now() - startedMs).toFixed(0)} ms`)
    assert.ok(done.epoch > start.epoch, 'the leader moved with a new epoch')
    assert.deepEqual(await cluster.clientOf(source).listPartitionReassignments(), [])
    // The new leader may still be taking up its role (NOT_LEADER_OR_FOLLOWER meanwhile).
    const read = await eventually('the data from the new leader', async () =>
      await valuesOf(cluster.clientOf(done.leader), 'moving'))
    assert.deepEqual(read, values)
    // The removed replica's log goes (Kafka's StopReplica with delete).
    const sourceDir = join(cluster.brokers.get(source)?.dataDir as string, 'moving-0')
    await eventually('the old replica deleted', async () =>
      await access(sourceDir).then(() => undefined, () => true))
  })

  it('moves leadership back to a restarted broker with a preferred election', async t => {
    assert.equal(await createTopicOn(cluster, 2, 'preferring', 3, 3), 'NONE')
    const preferredBy1: number[] = []
    for (const id of [0, 1, 2]) {
      const view = await everywhere(`partition ${id} in sync`, [1, 2, 3], 'preferring', id,
        v => v.leader > 0 && v.isr.length === 3)
      if (view.replicas[0] === 1) preferredBy1.push(id)
    }
    assert.ok(preferredBy1.length > 0, 'placement gives broker 1 a preferred partition')
    await cluster.brokers.get(1)?.kill()
    for (const id of preferredBy1) {
      await everywhere(`partition ${id} led elsewhere`, [2, 3], 'preferring', id,
        view => view.leader > 0 && view.leader !== 1)
    }
    await cluster.startNode(1, { env: REPLICATION_ENV })
    for (const id of preferredBy1) {
      await everywhere(`broker 1 back in the ISR of partition ${id}`, [1, 2, 3], 'preferring',
        id, view => view.isr.includes(1))
    }
    const startedMs = performance.now()
    const results = await cluster.clientOf(3).electLeaders('preferred',
      preferredBy1.map(partition => ({ topic: 'preferring', partition })))
    assert.deepEqual(results.map(r => r.errorName), preferredBy1.map(() => 'NONE'),
      JSON.stringify(results))
    for (const id of preferredBy1) {
      await everywhere(`broker 1 leads partition ${id} again`, [1, 2, 3], 'preferring', id,
        view => view.leader === 1)
    }
    t.diagnostic(`${preferredBy1.length} partition(s) back on broker 1 after ` +
      `${(performance.now() - startedMs).toFixed(0)} ms`)
  })

  it('with unclean.leader.election.enable, brings an out-of-sync replica up; logged and counted',
    async () => {
      const created = await cluster.clientOf(3).createTopic('lossy', { partitions: 1,
        replicationFactor: 2, configs: { 'unclean.leader.election.enable': 'true' } })
        .then(() => 'NONE', (error: unknown) => String(error))
      assert.equal(created, 'NONE')
      const start = await everywhere('an in-sync pair', [1, 2, 3], 'lossy', 0,
        view => view.leader > 0 && view.isr.length === 2)
      const leader = start.leader
      const follower = start.replicas.find(id => id !== leader) as number
      await cluster.brokers.get(follower)?.kill()
      const alive = [1, 2, 3].filter(id => id !== follower)
      await everywhere('the dead follower out of the ISR', alive, 'lossy', 0,
        view => view.isr.join() === String(leader))
      await cluster.brokers.get(leader)?.kill()
      const third = [1, 2, 3].find(id => id !== leader && id !== follower) as number
      await everywhere('offline', [third], 'lossy', 0, view => view.leader === -1)
      await cluster.startNode(follower, { env: REPLICATION_ENV })
      const elected = await everywhere('the out-of-sync replica leads', [third, follower],
        'lossy', 0, view => view.leader === follower)
      assert.deepEqual(elected.isr, [follower])
      const outputs = [third, follower].map(id => cluster.brokers.get(id)?.output() ?? '')
      assert.ok(outputs.some(output => /ERROR UNCLEAN LEADER ELECTION for lossy-0/.test(output)),
        'the active controller logged it at ERROR')
      const counted = await Promise.all([third, follower].map(async id => {
        const response = await fetch(`http://127.0.0.1:${cluster.brokers.get(id)?.httpPort}` +
          '/metrics')
        const line = (await response.text()).split('\n')
          .find(l => l.startsWith('tributary_unclean_leader_elections_total '))
        return Number(line?.split(' ')[1] ?? 0)
      }))
      assert.equal(counted.reduce((a, b) => a + b, 0), 1, `counted once: ${counted}`)
      await cluster.startNode(leader, { env: REPLICATION_ENV })
    })
})
