/**
 * Transaction markers on `__consumer_offsets` against a real broker process: the marker is
 * written there as a control batch (as Kafka does), so its coordinator epoch is in that
 * partition's producer state and a deposed coordinator's late marker is refused with
 * TRANSACTION_COORDINATOR_FENCED, also after a crash (SIGKILL) and restart; and the group
 * coordinator's load skips the control batch, so the group's committed offsets come back.
 */
import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import kafkajs from 'kafkajs'
import { KafkaConnection } from '../../src/client/connection.js'
import { partitionForGroup } from '../../src/group/offsets-store.js'
import { OffsetFetch } from '../../src/protocol/apis/offset-fetch.js'
import { WriteTxnMarkers } from '../../src/protocol/apis/write-txn-markers.js'
import { ERROR } from '../../src/protocol/errors.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const { Kafka, logLevel } = kafkajs
const OFFSETS_PARTITIONS = 3
const ENV = { TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: String(OFFSETS_PARTITIONS) }
let broker: BrokerProcess

before(async () => { broker = await startBroker({ env: ENV }) })
after(async () => {
  await broker.stop()
  await removeDataDir(broker.dataDir)
})

const kafka = (): InstanceType<typeof Kafka> => new Kafka({ clientId: 'txn-offsets',
  brokers: [broker.bootstrap], logLevel: logLevel.NOTHING,
  retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })

/** WriteTxnMarkers (ABORT) for producer 99 on the group's `__consumer_offsets` partition. */
async function marker (partition: number, coordinatorEpoch: number): Promise<number> {
  const connection = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
  try {
    const response = await connection.send(WriteTxnMarkers, { markers: [{ producerId: 99,
      producerEpoch: 0, transactionResult: false, coordinatorEpoch,
      topics: [{ name: '__consumer_offsets', partitionIndexes: [partition] }] }] },
    { version: 1 })
    return response.markers[0]?.topics[0]?.partitions[0]?.errorCode ?? -1
  } finally {
    await connection.close()
  }
}

async function committedOffset (groupId: string): Promise<string | undefined> {
  const admin = kafka().admin()
  await admin.connect()
  try {
    const [fetched] = await admin.fetchOffsets({ groupId, topics: ['in'] })
    return fetched?.partitions.find(p => p.partition === 0)?.offset
  } finally {
    await admin.disconnect()
  }
}

it('fences a deposed coordinator\'s marker on __consumer_offsets across a crash, and the ' +
  'group\'s offsets load past the marker', async () => {
  const admin = kafka().admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic: 'in', numPartitions: 1 }] })
    await admin.setOffsets({ groupId: 'g', topic: 'in', partitions: [{ partition: 0,
      offset: '7' }] })
  } finally {
    await admin.disconnect()
  }
  const partition = partitionForGroup('g', OFFSETS_PARTITIONS)
  assert.equal(await marker(partition, 5), ERROR.NONE)
  assert.equal(await marker(partition, 4), ERROR.TRANSACTION_COORDINATOR_FENCED)
  await admin.connect()
  try {
    await admin.setOffsets({ groupId: 'g', topic: 'in', partitions: [{ partition: 0,
      offset: '8' }] }) // after the marker in the partition
  } finally {
    await admin.disconnect()
  }
  await broker.kill()
  broker = await startBroker({ dataDir: broker.dataDir, env: ENV })
  // The restarted broker replays the partition: the coordinator epoch from the marker, the
  // group's offsets from the records around it.
  const starting: number[] = [ERROR.NOT_LEADER_OR_FOLLOWER, ERROR.UNKNOWN_TOPIC_OR_PARTITION]
  let answer = -1
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    answer = await marker(partition, 4)
    if (!starting.includes(answer)) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  assert.equal(answer, ERROR.TRANSACTION_COORDINATOR_FENCED)
  assert.equal(await committedOffset('g'), '8')
  assert.equal(await marker(partition, 6), ERROR.NONE, 'a newer coordinator')
})

it('answers an OffsetFetch that cannot ask for stable offsets (v1-6, as kafkajs sends) once ' +
  'the transaction staging the group\'s offset commits, not with the offset before it',
async () => {
  const admin = kafka().admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic: 'staged', numPartitions: 1 }] })
  } finally {
    await admin.disconnect()
  }
  const producer = kafka().producer({ transactionalId: 'stager', idempotent: true,
    maxInFlightRequests: 1 })
  await producer.connect()
  const connection = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
  try {
    const txn = await producer.transaction()
    await txn.sendOffsets({ consumerGroupId: 'staged-group', topics: [{ topic: 'staged',
      partitions: [{ partition: 0, offset: '12' }] }] })
    const fetch = async (version: number): Promise<number | undefined> => {
      const response = await connection.send(OffsetFetch, { groupId: 'staged-group',
        topics: [{ name: 'staged', partitionIndexes: [0] }], groups: [],
        requireStable: false }, { version })
      return response.topics[0]?.partitions[0]?.committedOffset
    }
    // v7 could have asked for require_stable and did not: the committed offset, at once.
    assert.equal(await fetch(7), -1)
    let answered = false
    const waiting = fetch(4).finally(() => { answered = true })
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal(answered, false, 'v4 waits while the transaction is undecided')
    await txn.commit()
    assert.equal(await waiting, 12, 'and then reads the offset the transaction committed')
    // A transaction (of another producer) that stays open: the answer comes at the bound,
    // with the committed offset (Kafka's answer).
    const other = kafka().producer({ transactionalId: 'stager-2', idempotent: true,
      maxInFlightRequests: 1 })
    await other.connect()
    try {
      const open = await other.transaction()
      await open.sendOffsets({ consumerGroupId: 'staged-group', topics: [{ topic: 'staged',
        partitions: [{ partition: 0, offset: '20' }] }] })
      assert.equal(await fetch(4), 12)
      await open.abort()
      assert.equal(await fetch(4), 12, 'the abort drops the staged offset')
    } finally {
      await other.disconnect()
    }
  } finally {
    await connection.close()
    await producer.disconnect()
  }
})
