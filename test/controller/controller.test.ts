/**
 * The controller on a real metadata log (LogManager.openMetadataLog on a temp directory):
 * publishers follow every commit one at a time and in order, before the operation resolves;
 * the metadata topic name is reserved; a record that does not decode stops the replay with a
 * message naming the offset instead of being skipped.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Packr } from 'msgpackr'
import { afterEach, beforeEach, describe, it } from 'node:test'
import {
  Controller, ControllerError, type MetadataPublisher,
} from '../../src/controller/controller.js'
import { MetadataLogCorruptError, SegmentMetadataLog } from '../../src/controller/metadata-log.js'
import { systemClock } from '../../src/io/clock.js'
import { MetadataImage } from '../../src/metadata/image.js'
import { decodeMetadataRecord, MetadataRecordError } from '../../src/metadata/records.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { LogManager } from '../../src/storage/log-manager.js'

let dataDir: string
let manager: LogManager
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-controller-'))
  manager = await LogManager.open({ dataDir, nodeId: 1 })
})
afterEach(async () => {
  await manager.close()
  await rm(dataDir, { recursive: true, force: true })
})

function spec (name: string): { name: string, partitions: number, replicationFactor: number,
  configs: Record<string, string> } {
  return { name, partitions: 2, replicationFactor: 1, configs: {} }
}

describe('Controller', () => {
  it('publishes each commit to its publishers, one at a time, before the operation resolves',
    async () => {
      const controller = new Controller(new MetadataImage(),
        await SegmentMetadataLog.open(manager, systemClock), 1)
      const events: string[] = []
      let active = 0
      const publisher: MetadataPublisher = {
        async publish (image, records) {
          active++
          assert.equal(active, 1, 'publications never overlap')
          const what = records === undefined
            ? 'catch-up'
            : records.filter(r => r.type === 'Topic').map(r => (r as { name: string }).name)
              .join(',')
          // A slow publisher (opening logs): the next operation must wait for it.
          await new Promise(resolve => setTimeout(resolve, 5))
          events.push(`published ${what} (${image.topicCount} topics)`)
          active--
        },
      }
      await controller.createTopic(spec('before'))
      await controller.addPublisher(publisher)
      await Promise.all(['a', 'b', 'c'].map(async name => {
        await controller.createTopic(spec(name))
        events.push(`resolved ${name}`)
      }))
      assert.deepEqual(events, [
        'published catch-up (1 topics)',
        'published a (2 topics)', 'resolved a',
        'published b (3 topics)', 'resolved b',
        'published c (4 topics)', 'resolved c',
      ])
    })

  it('reserves the metadata topic name, as KRaft does', async () => {
    const controller = new Controller(new MetadataImage(),
      await SegmentMetadataLog.open(manager, systemClock), 1)
    await assert.rejects(controller.createTopic(spec('__cluster_metadata')), (error: unknown) => {
      assert.ok(error instanceof ControllerError)
      assert.equal(error.errorName, 'INVALID_REQUEST')
      return true
    })
    assert.equal(controller.image.topicCount, 0)
  })

  it('stops the replay at a record that does not decode, naming the file and offset',
    async () => {
      const log = await SegmentMetadataLog.open(manager, systemClock)
      const controller = new Controller(new MetadataImage(), log, 1)
      await controller.createTopic(spec('kept'))
      const metadataLog = await manager.openMetadataLog()
      const packr = new Packr({ useRecords: false, moreTypes: false })
      const bad: [string, Buffer | null][] = [
        ['garbage bytes', Buffer.from('garbage\n')],
        ['a record without its fields', packr.pack({ type: 'Topic', version: 1 })],
        ['a record without a value', null],
      ]
      for (const [what, value] of bad) {
        const offset = metadataLog.logEndOffset
        await metadataLog.append(buildRecordBatchSync([{ value }], { timestampMs: 1000 }),
          { leaderEpoch: 0, recordsCount: 1, maxTimestamp: 1000 })
        await assert.rejects(log.replayInto(new MetadataImage()), (error: unknown) => {
          assert.ok(error instanceof MetadataLogCorruptError, what)
          assert.match(error.message, new RegExp(`__cluster_metadata-0 has a record at offset ` +
            `${offset} that cannot be read`), what)
          return true
        }, what)
        await metadataLog.truncateTo(offset)
      }
      const image = new MetadataImage()
      await log.replayInto(image)
      assert.deepEqual([...image.topics()].map(topic => topic.name), ['kept'])
    })

  it('decodes optional record fields when absent, and refuses them when malformed', () => {
    const packr = new Packr({ useRecords: false, moreTypes: false })
    const partition = { type: 'Partition', version: 1, topicId: 't', partitionId: 0,
      replicas: [1, 2], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }
    const broker = { type: 'RegisterBroker', version: 1, brokerId: 1, host: 'h', port: 1,
      rack: null }
    for (const record of [partition, { ...partition, addingReplicas: [2], removingReplicas: [] },
      broker, { ...broker, incarnationId: 'i1' }]) {
      assert.deepEqual(decodeMetadataRecord(packr.pack(record)), record)
    }
    for (const record of [{ ...partition, addingReplicas: ['2'] },
      { ...partition, removingReplicas: 3 }, { ...broker, incarnationId: 7 }]) {
      assert.throws(() => decodeMetadataRecord(packr.pack(record)), MetadataRecordError,
        JSON.stringify(record))
    }
  })

  it('replays what it committed into an equal image', async () => {
    const log = await SegmentMetadataLog.open(manager, systemClock)
    const controller = new Controller(new MetadataImage(), log, 1)
    await controller.createTopic(spec('one'))
    await controller.alterConfigs('topic', 'one', new Map([['retention.ms', '1000']]))
    const image = new MetadataImage()
    const replayed = await log.replayInto(image)
    assert.equal(replayed, 4, 'Topic, two Partition records and a Config')
    assert.deepEqual([...image.topic('one')?.configs ?? []], [['retention.ms', '1000']])
  })
})

describe('Controller in a cluster of brokers', () => {
  const registration = (brokerId: number, rack: string | null = null) => ({
    brokerId, host: '127.0.0.1', port: 9090 + brokerId, rack, endpoints: [],
    incarnationId: `incarnation-${brokerId}`,
  })

  it('places replicas over the live brokers and refuses a factor above their count', async () => {
    const controller = new Controller(new MetadataImage(),
      await SegmentMetadataLog.open(manager, systemClock), 1, { random: () => 0 })
    await controller.reconcileBrokers([registration(1), registration(2), registration(3)])
    const topic = await controller.createTopic({ name: 't', partitions: 3,
      replicationFactor: 2, configs: {} })
    assert.deepEqual(topic.partitions.map(p => p.replicas), [[1, 2], [2, 3], [3, 1]])
    assert.deepEqual(topic.partitions.map(p => p.leader), [1, 2, 3])
    await assert.rejects(controller.createTopic({ name: 'u', partitions: 1,
      replicationFactor: 4, configs: {} }), (error: unknown) =>
      error instanceof ControllerError && error.errorName === 'INVALID_REPLICATION_FACTOR')
  })

  it('moves leadership off a broker that left, and gives it back when it returns', async () => {
    const controller = new Controller(new MetadataImage(),
      await SegmentMetadataLog.open(manager, systemClock), 1, { random: () => 0 })
    await controller.reconcileBrokers([registration(1), registration(2)])
    await controller.createTopic({ name: 'one', partitions: 2, replicationFactor: 1,
      configs: {} })
    await controller.createTopic({ name: 'two', partitions: 1, replicationFactor: 2,
      configs: {} })
    await controller.reconcileBrokers([registration(1)])
    const image = controller.image
    assert.deepEqual([...image.brokers.keys()], [1])
    const one = image.topic('one')?.partitions ?? []
    assert.deepEqual(one.map(p => [p.leader, p.isr, p.leaderEpoch]),
      [[1, [1], 0], [-1, [2], 1]], 'RF 1: no other replica, so no leader; the ISR keeps 2')
    const two = image.topic('two')?.partitions[0]
    assert.deepEqual([two?.leader, two?.isr], [1, [1]], 'RF 2: the other in-sync replica leads')
    await controller.reconcileBrokers([registration(1), registration(2)])
    assert.deepEqual(image.topic('one')?.partitions.map(p => [p.leader, p.leaderEpoch]),
      [[1, 0], [2, 2]])
  })

  it('changes an ISR for its leader, checking leader and partition epochs and the new ' +
    'members (AlterPartition)', async () => {
    const controller = new Controller(new MetadataImage(),
      await SegmentMetadataLog.open(manager, systemClock), 1, { random: () => 0 })
    await controller.reconcileBrokers([registration(1), registration(2), registration(3)])
    await controller.createTopic({ name: 't', partitions: 1, replicationFactor: 3, configs: {} })
    const start = controller.image.topic('t')?.partitions[0]
    assert.deepEqual([start?.leader, start?.isr, start?.partitionEpoch], [1, [1, 2, 3], 0])
    const refusal = (errorName: string) => (error: unknown) =>
      error instanceof ControllerError && error.errorName === errorName
    const change = { topic: 't', partition: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 0 }

    const shrunk = await controller.alterPartition({ ...change, isr: [1, 2] })
    assert.deepEqual([shrunk.isr, shrunk.partitionEpoch, shrunk.leaderEpoch], [[1, 2], 1, 0])
    // The same change again is based on an old partition epoch.
    await assert.rejects(controller.alterPartition({ ...change, isr: [1, 2] }),
      refusal('INVALID_UPDATE_VERSION'))
    await assert.rejects(controller.alterPartition({ ...change, partitionEpoch: 1,
      leaderId: 2, isr: [2] }), refusal('FENCED_LEADER_EPOCH'))
    await assert.rejects(controller.alterPartition({ ...change, partitionEpoch: 1,
      isr: [2, 3] }), refusal('INVALID_REQUEST'), 'the leader stays in its ISR')
    await assert.rejects(controller.alterPartition({ ...change, partitionEpoch: 1,
      isr: [1, 2, 4] }), refusal('INELIGIBLE_REPLICA'), 'not a replica')
    await assert.rejects(controller.alterPartition({ ...change, topic: 'nope', isr: [1] }),
      refusal('UNKNOWN_TOPIC_OR_PARTITION'))
    // A fenced (unregistered) broker cannot join.
    await controller.reconcileBrokers([registration(1), registration(2)])
    const fenced = controller.image.topic('t')?.partitions[0]
    await assert.rejects(controller.alterPartition({ ...change,
      partitionEpoch: fenced?.partitionEpoch ?? -1, isr: [1, 2, 3] }),
    refusal('INELIGIBLE_REPLICA'))
    await controller.reconcileBrokers([registration(1), registration(2), registration(3)])
    const live = controller.image.topic('t')?.partitions[0]
    const expanded = await controller.alterPartition({ ...change,
      partitionEpoch: live?.partitionEpoch ?? -1, isr: [1, 2, 3] })
    assert.deepEqual([expanded.isr, expanded.partitionEpoch],
      [[1, 2, 3], (live?.partitionEpoch ?? -1) + 1])
  })
})
