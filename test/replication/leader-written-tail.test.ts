/**
 * The leader's written but not yet fsynced tail, on real files: a follower's fetch is woken as
 * soon as the leader's write lands (before its fdatasync) and copies those bytes; when the
 * leader's fsync then fails, it cuts the tail off, and the follower that copied it must be told
 * to truncate it at its next fetch (the KIP-320 epoch check alone cannot see it: the leader
 * heals in place, in the same leader epoch), and the leader writes nothing at those offsets
 * until then.
 *
 * The leader side is the real ReplicaManager and ReplicaRoles over a real PartitionLog whose
 * disk fails one fdatasync on demand; the follower side is a real PartitionLog driven as the
 * replica fetcher drives it (readForFollower → appendAsFollower, truncationOffset on a
 * diverging answer), without the network.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, it } from 'node:test'
import { partitionKey, Purgatory } from '../../src/broker/delayed-operations.js'
import { ReplicaManager, type FollowerRead } from '../../src/broker/replica-manager.js'
import { systemClock } from '../../src/io/clock.js'
import { MetadataImage } from '../../src/metadata/image.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { truncationOffset } from '../../src/replication/divergence.js'
import type { ReplicaFetcherManager } from '../../src/replication/replica-fetcher.js'
import { ReplicaRoles } from '../../src/replication/replica-roles.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { faultyDisk } from '../support/faulty-disk.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-tail-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const CONFIG = { segmentBytes: 64 * 1024, indexIntervalBytes: 1024 }
const LEADER = 1
const FOLLOWER = 2
const EPOCH = 0

function batch (fill: number): Buffer {
  return buildRecordBatchSync(Array.from({ length: 5 }, (_, i) => ({
    key: `k${i}`, value: Buffer.alloc(100, fill),
  })), { timestampMs: 1_000_000 })
}

/** Brokers 1 and 2; topic "t" with one partition led by 1 in epoch 0 (ISR = replicas). */
function imageLedByOne (replicas = [LEADER, FOLLOWER]): MetadataImage {
  const image = new MetadataImage()
  for (const brokerId of [LEADER, FOLLOWER]) {
    image.replay({ type: 'RegisterBroker', version: 1, brokerId, host: 'h', port: 9000 + brokerId,
      rack: null })
  }
  image.replay({ type: 'Topic', version: 1, name: 't', topicId: 'T' })
  image.replay({ type: 'Partition', version: 1, topicId: 'T', partitionId: 0,
    replicas, isr: replicas, leader: LEADER,
    leaderEpoch: EPOCH, partitionEpoch: 0 })
  return image
}

/** One follower fetch, applied as ReplicaFetcher applies it. Returns what it did. */
async function followerFetch (manager: ReplicaManager, follower: PartitionLog):
Promise<FollowerRead> {
  const read = await manager.readForFollower('t', 0, {
    replicaId: FOLLOWER, fetchOffset: follower.logEndOffset, currentLeaderEpoch: EPOCH,
    lastFetchedEpoch: follower.latestEpoch,
  }, 1 << 20, true)
  if (read.divergingEpoch !== undefined) {
    const diverging = read.divergingEpoch
    await follower.truncateTo(truncationOffset(
      { leaderEpoch: diverging.epoch, endOffset: diverging.endOffset },
      follower.endOffsetForEpoch(diverging.epoch), follower.logEndOffset,
      follower.highWatermark))
  } else if (read.records.length > 0) {
    await follower.appendAsFollower(read.records, { fetchOffset: follower.logEndOffset })
    follower.advanceHighWatermark(read.highWatermark)
  }
  return read
}

it('wakes followers on the written tail, and truncates the copy when the leader loses it',
  async () => {
    const faults = faultyDisk()
    const leaders = await LogManager.open({ dataDir: path.join(dataDir, 'leader'),
      nodeId: LEADER, defaultConfig: CONFIG, disk: faults.disk })
    const followers = await LogManager.open({ dataDir: path.join(dataDir, 'follower'),
      nodeId: FOLLOWER, defaultConfig: CONFIG })
    const leaderLog = await leaders.getOrCreateLog('t', 0)
    const follower = await followers.getOrCreateLog('t', 0)
    follower.setReplicated(true)
    const image = imageLedByOne()
    const purgatory = new Purgatory(systemClock, 100)
    const woken: string[] = []
    const roles = new ReplicaRoles({
      nodeId: LEADER, clock: systemClock, image, replicaLagTimeMaxMs: 30_000,
      fetchers: { assign: async () => {}, remove: async () => {}, close: async () => {} } as
        unknown as ReplicaFetcherManager,
      logOf: () => leaderLog,
      alterPartition: () => Promise.reject(new Error('no controller in this test')),
      notify: (topic, partition) => purgatory.notify(partitionKey(topic, partition)),
      wakeFollowers: (topic, partition) => { woken.push(`${topic}-${partition}`) },
      logger: { info: () => {}, warn: () => {} },
    })
    const manager = new ReplicaManager({ nodeId: LEADER, logManager: leaders, image,
      clock: systemClock, purgatory, topicSettings: () => { throw new Error('unused') },
      mayLead: () => true, roles })
    let release = (): void => {}
    try {
      await roles.apply(image)
      // A committed first batch: on both, fsynced, below the high watermark.
      await leaderLog.append(batch(1), { leaderEpoch: EPOCH, recordsCount: 5,
        maxTimestamp: 1_000_000 })
      await followerFetch(manager, follower)
      await followerFetch(manager, follower)
      assert.deepEqual([follower.logEndOffset, leaderLog.highWatermark], [5, 5])

      // The second batch is written; its fsync hangs, then fails.
      woken.length = 0
      faults.gate = new Promise(resolve => { release = resolve })
      const written = new Promise<number>(resolve => {
        const stop = leaderLog.onWrittenEnd(end => { stop(); resolve(end) })
      })
      const lost = leaderLog.append(batch(2), { leaderEpoch: EPOCH, recordsCount: 5,
        maxTimestamp: 1_000_000 })
      assert.equal(await written, 10)
      assert.deepEqual(woken, ['t-0'], 'the follower was woken before the leader\'s fsync')
      assert.equal(leaderLog.durableEndOffset, 5)
      const copied = await followerFetch(manager, follower)
      assert.ok(copied.records.length > 0)
      assert.equal(follower.logEndOffset, 10, 'the follower copied the unfsynced tail')
      assert.equal(leaderLog.highWatermark, 5, 'the HW still waits for the leader\'s fsync')

      release()
      faults.gate = undefined
      await assert.rejects(lost, { kind: 'KAFKA_STORAGE_ERROR' })
      await leaderLog.truncateTo(Number.MAX_SAFE_INTEGER) // waits for the cut
      assert.equal(leaderLog.logEndOffset, 5, 'the leader cut its lost tail')
      // Other records at those offsets in this epoch could not be told apart from the lost
      // ones by a later leader: none are written until the follower has dropped them.
      await assert.rejects(leaderLog.append(batch(3), { leaderEpoch: EPOCH, recordsCount: 5,
        maxTimestamp: 1_000_000 }), { kind: 'KAFKA_STORAGE_ERROR' })
      assert.equal(leaderLog.logEndOffset, 5)

      const told = await followerFetch(manager, follower)
      assert.deepEqual(told.divergingEpoch, { epoch: EPOCH, endOffset: 5 })
      assert.equal(follower.logEndOffset, 5, 'the follower truncated the lost tail')
      await followerFetch(manager, follower) // at the cut: the fence lifts
      assert.equal(leaderLog.cutFenced, false)
      await leaderLog.append(batch(3), { leaderEpoch: EPOCH, recordsCount: 5,
        maxTimestamp: 1_000_000 })
      await followerFetch(manager, follower)
      await followerFetch(manager, follower)
      assert.equal(follower.logEndOffset, 10)
      const leaderBytes = (await leaderLog.read(0, 1 << 20)).records
      const followerBytes = (await follower.read(0, 1 << 20)).records
      assert.ok(followerBytes.equals(leaderBytes), 'the follower holds the leader\'s records')
      assert.equal(leaderLog.highWatermark, 10)
    } finally {
      release() // a failed assertion must not leave the leader's close waiting on the gate
      faults.gate = undefined
      await roles.close()
      await leaders.close()
      await followers.close()
    }
  })

it('takes appends again at once after a failed write when no other replica could hold it',
  async () => {
    const faults = faultyDisk()
    const leaders = await LogManager.open({ dataDir: path.join(dataDir, 'leader'),
      nodeId: LEADER, defaultConfig: CONFIG, disk: faults.disk })
    const leaderLog = await leaders.getOrCreateLog('t', 0)
    const image = imageLedByOne([LEADER])
    const roles = new ReplicaRoles({
      nodeId: LEADER, clock: systemClock, image, replicaLagTimeMaxMs: 30_000,
      fetchers: { assign: async () => {}, remove: async () => {}, close: async () => {} } as
        unknown as ReplicaFetcherManager,
      logOf: () => leaderLog,
      alterPartition: () => Promise.reject(new Error('no controller in this test')),
      notify: () => {}, wakeFollowers: () => {}, logger: { info: () => {}, warn: () => {} },
    })
    try {
      await roles.apply(image)
      faults.gate = Promise.resolve()
      await assert.rejects(leaderLog.append(batch(1), { leaderEpoch: EPOCH, recordsCount: 5,
        maxTimestamp: 1_000_000 }), { kind: 'KAFKA_STORAGE_ERROR' })
      faults.gate = undefined
      assert.equal(leaderLog.cutFenced, false, 'RF=1: nobody to wait for')
      await leaderLog.append(batch(2), { leaderEpoch: EPOCH, recordsCount: 5,
        maxTimestamp: 1_000_000 })
      assert.equal(leaderLog.logEndOffset, 5)
    } finally {
      faults.gate = undefined
      await roles.close()
      await leaders.close()
    }
  })
