/**
 * Replication metrics (issue #15): the health counts from the metadata image, ISR changes
 * counted from committed Partition records, the unclean-election counter, and follower lag at
 * the two cardinalities.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  IsrChangeCounter, replicationStatus, type ReplicationHealthOptions,
} from '../../src/broker/replication-health.js'
import { MetadataImage } from '../../src/metadata/image.js'
import { partitionHealth } from '../../src/metadata/partition-health.js'
import type { MetadataRecord, PartitionRecord } from '../../src/metadata/records.js'
import { createMetrics } from '../../src/metrics/metrics.js'
import { seededRandom } from '../support/seeded-random.js'

const V = 1

function broker (brokerId: number): MetadataRecord {
  return { type: 'RegisterBroker', version: V, brokerId, host: 'h', port: 9000 + brokerId,
    rack: null }
}

function partition (topicId: string, partitionId: number, leader: number, replicas: number[],
  isr: number[], leaderEpoch = 0): PartitionRecord {
  return { type: 'Partition', version: V, topicId, partitionId, replicas, isr, leader,
    leaderEpoch, partitionEpoch: 0 }
}

/** Brokers 1-3 (3 registered only when `live3`), topic "t" (min ISR 2) with four partitions. */
function imageWith (live3 = true): MetadataImage {
  const image = new MetadataImage()
  const records: MetadataRecord[] = [broker(1), broker(2), ...(live3 ? [broker(3)] : []),
    { type: 'Topic', version: V, name: 't', topicId: 'T' },
    { type: 'Config', version: V, resourceType: 'topic', resourceName: 't',
      name: 'min.insync.replicas', value: '2' },
    partition('T', 0, 1, [1, 2, 3], [1, 2, 3]), // healthy, led by 1
    partition('T', 1, 1, [1, 2, 3], [1, 2]), // under-replicated, at min ISR
    partition('T', 2, 1, [1, 2, 3], [1]), // under-replicated, under min ISR
    partition('T', 3, 3, [3, 2], [3])] // led by 3: offline when 3 is not live
  for (const record of records) image.replay(record)
  return image
}

function options (image: MetadataImage, nodeId: number, controller: boolean,
  changes: string[] = []): ReplicationHealthOptions {
  return {
    nodeId, image, isActiveController: () => controller,
    minInsyncReplicas: topic => Number(image.topic(topic)?.configs.get('min.insync.replicas') ??
      1),
    onIsrChange: kind => changes.push(kind),
  }
}

describe('partitionHealth', () => {
  it('classifies as kafka-topics.sh --describe does', () => {
    const live = new Set([1, 2])
    assert.deepEqual(partitionHealth({ leader: 1, replicas: [1, 2], isr: [1, 2] }, live, 2),
      { underReplicated: false, unavailable: false, underMinIsr: false, atMinIsr: true })
    assert.deepEqual(partitionHealth({ leader: 1, replicas: [1, 2, 3], isr: [1] }, live, 2),
      { underReplicated: true, unavailable: false, underMinIsr: true, atMinIsr: false })
    assert.equal(partitionHealth({ leader: -1, replicas: [3], isr: [3] }, live, 1).unavailable,
      true)
    assert.equal(partitionHealth({ leader: 3, replicas: [3], isr: [3] }, live, 1).unavailable,
      true, 'a leader that is not a live broker')
  })
})

describe('replicationStatus', () => {
  it('counts led partitions on the leader, offline ones on the active controller only', () => {
    const image = imageWith(false)
    assert.deepEqual(replicationStatus(options(image, 1, true)),
      { leaders: 3, underReplicated: 2, underMinIsr: 1, atMinIsr: 1, offline: 1 })
    assert.deepEqual(replicationStatus(options(image, 1, false)),
      { leaders: 3, underReplicated: 2, underMinIsr: 1, atMinIsr: 1, offline: 0 })
    assert.deepEqual(replicationStatus(options(imageWith(true), 2, true)),
      { leaders: 0, underReplicated: 0, underMinIsr: 0, atMinIsr: 0, offline: 0 })
  })
})

describe('IsrChangeCounter', () => {
  it('counts shrinks and expansions of partitions led here, under the same leader', async () => {
    const image = imageWith()
    const changes: string[] = []
    const counter = new IsrChangeCounter(options(image, 1, true, changes))
    await counter.publish(image, undefined)
    const commit = async (...records: MetadataRecord[]): Promise<void> => {
      for (const record of records) image.replay(record)
      await counter.publish(image, records)
    }
    await commit(partition('T', 0, 1, [1, 2, 3], [1, 2]))
    assert.deepEqual(changes, ['shrink'])
    await commit(partition('T', 0, 1, [1, 2, 3], [1, 2, 3]))
    assert.deepEqual(changes, ['shrink', 'expand'])
    // A new leader with a new ISR is an election, not an ISR change; nor is another's partition.
    await commit(partition('T', 1, 2, [1, 2, 3], [2], 1),
      partition('T', 3, 3, [3, 2], [3, 2]))
    assert.deepEqual(changes, ['shrink', 'expand'])
    // A deleted and re-created topic starts from its new records.
    await commit({ type: 'RemoveTopic', version: V, topicId: 'T' },
      { type: 'Topic', version: V, name: 't', topicId: 'U' },
      partition('U', 0, 1, [1, 2], [1]))
    assert.deepEqual(changes, ['shrink', 'expand'])
  })
})

/**
 * Every broker of a cluster follows the same committed records with its own counter: each ISR
 * change under an unchanged leader is counted exactly once over the cluster (by that leader),
 * never for an election, and every broker's health counts agree with a direct count. A
 * failure names its seed (ISR_SEED=<n> replays it).
 */
async function simulateIsrChanges (seed: number, steps = 300): Promise<void> {
  const random = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const nodes = [1, 2, 3, 4]
  const image = new MetadataImage()
  for (const id of nodes) image.replay(broker(id))
  image.replay({ type: 'Topic', version: V, name: 't', topicId: 'T' })
  for (let p = 0; p < 6; p++) {
    const replicas = [...nodes].sort(() => random() - 0.5).slice(0, 3)
    image.replay(partition('T', p, replicas[0] as number, replicas, replicas))
  }
  const counted = new Map(nodes.map(id => [id, { shrink: 0, expand: 0 }]))
  const counters = nodes.map(id => new IsrChangeCounter({ ...options(image, id, id === 1),
    onIsrChange: kind => { (counted.get(id) as { shrink: number, expand: number })[kind]++ } }))
  const expected = { shrink: 0, expand: 0 }
  try {
    for (const counter of counters) await counter.publish(image, undefined)
    for (let step = 0; step < steps; step++) {
      const before = image.topic('t')?.partitions[Math.floor(random() * 6)]
      assert.ok(before !== undefined)
      const isr = before.replicas.filter(() => random() < 0.7)
      const elect = random() < 0.2 || (!isr.includes(before.leader) && isr.length > 0)
      const leader = isr.length === 0 ? -1 : elect ? pick(isr) : before.leader
      const record = partition('T', before.partitionId, leader, before.replicas, isr,
        before.leaderEpoch + (leader === before.leader ? 0 : 1))
      if (leader === before.leader && leader >= 0) {
        if (before.isr.some(id => !isr.includes(id))) expected.shrink++
        if (isr.some(id => !before.isr.includes(id))) expected.expand++
      }
      image.replay(record)
      for (const counter of counters) await counter.publish(image, [record])
      const total = { shrink: 0, expand: 0 }
      for (const c of counted.values()) { total.shrink += c.shrink; total.expand += c.expand }
      assert.deepEqual(total, expected, `step ${step}: counted once over the cluster`)
      for (const id of nodes) {
        const status = replicationStatus(options(image, id, id === 1))
        const led = [...image.topic('t')?.partitions ?? []].filter(p => p.leader === id)
        assert.equal(status.leaders, led.length)
        assert.equal(status.underReplicated, led.filter(p => p.isr.length < 3).length)
      }
    }
  } catch (error) {
    throw new Error(`ISR_SEED=${seed}: ${(error as Error).message}`, { cause: error })
  }
}

describe('ISR change counting, simulated', () => {
  it('counts each committed ISR change once over the cluster, for fixed and given seeds',
    async () => {
    const seeds = process.env.ISR_SEED !== undefined ? [Number(process.env.ISR_SEED)]
      : [1, 2, 3, 42, 1234, 99_999]
    for (const seed of seeds) await simulateIsrChanges(seed)
  })
})

describe('replication metrics', () => {
  it('renders the health gauges, the counters and the worst follower lag', async () => {
    const metrics = createMetrics({ perPartition: false })
    metrics.setReplicationStatusProvider(() => ({ leaders: 3, underReplicated: 2,
      underMinIsr: 1, atMinIsr: 1, offline: 1 }))
    metrics.setReplicationProvider(() => [
      { topic: 'a', partition: 0, followerId: 2, lagRecords: 10, lagMs: 1500 },
      { topic: 'b', partition: 1, followerId: 3, lagRecords: 4, lagMs: 9000 },
    ])
    metrics.recordIsrChange('shrink')
    metrics.recordIsrChange('shrink')
    metrics.recordIsrChange('expand')
    metrics.recordUncleanElection()
    const lines = new Set((await metrics.registry.metrics()).split('\n'))
    for (const line of ['tributary_partition_leaders 3',
      'tributary_under_replicated_partitions 2', 'tributary_under_min_isr_partitions 1',
      'tributary_at_min_isr_partitions 1', 'tributary_offline_partitions 1',
      'tributary_isr_shrinks_total 2', 'tributary_isr_expands_total 1',
      'tributary_unclean_leader_elections_total 1', 'tributary_replica_lag_records 10',
      'tributary_replica_lag_seconds 9']) {
      assert.ok(lines.has(line), `missing: ${line}`)
    }
  })

  it('labels follower lag by topic only with per-partition metrics on', async () => {
    const metrics = createMetrics({ perPartition: true })
    metrics.setReplicationProvider(() => [
      { topic: 'a', partition: 0, followerId: 2, lagRecords: 10, lagMs: 1500 },
      { topic: 'a', partition: 1, followerId: 3, lagRecords: 30, lagMs: 500 },
      { topic: 'b', partition: 1, followerId: 3, lagRecords: 4, lagMs: 9000 },
    ])
    const text = await metrics.registry.metrics()
    const lag = text.split('\n').filter(line => line.startsWith('tributary_replica_lag_'))
    assert.deepEqual(lag.sort(), [
      'tributary_replica_lag_records{topic="a"} 30',
      'tributary_replica_lag_records{topic="b"} 4',
      'tributary_replica_lag_seconds{topic="a"} 1.5',
      'tributary_replica_lag_seconds{topic="b"} 9',
    ])
  })

  it('survives a replication provider that throws, and counts it', async () => {
    const metrics = createMetrics({ perPartition: false })
    metrics.setReplicationStatusProvider(() => { throw new Error('boom') })
    metrics.setReplicationProvider(() => { throw new Error('boom') })
    const text = await metrics.registry.metrics()
    assert.match(text, /tributary_metrics_collect_errors_total\{provider="replication"\} [1-9]/)
  })
})
