import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  KafkaClient, KafkaClientError, RESOURCE_TYPE_TOPIC, parseAddress,
} from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { Metadata, type MetadataResponse } from '../../src/protocol/apis/metadata.js'
import { Produce, type ProduceResponse } from '../../src/protocol/apis/produce.js'
import { CRC_OFFSET } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { answer, startFakeBroker } from './fake-broker.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

describe('KafkaClient against a real broker', () => {
  let broker: BrokerProcess
  let client: KafkaClient

  before(async () => {
    broker = await startBroker()
    client = new KafkaClient({ bootstrap: [broker.bootstrap], clientId: 'client-test' })
  })

  after(async () => {
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('creates a topic and finds its partitions and leader in the metadata', async () => {
    await client.createTopic('orders', { partitions: 3, configs: { 'retention.ms': '60000' } })
    const metadata = await client.metadata(['orders'])
    const topic = metadata.topics.find(candidate => candidate.name === 'orders')
    assert.equal(topic?.partitions.length, 3)
    assert.ok(topic?.partitions.every(partition => partition.leaderId >= 0))
    await assert.rejects(client.createTopic('orders'),
      (error: KafkaClientError) => error instanceof KafkaClientError &&
        error.errorName === 'TOPIC_ALREADY_EXISTS' && error.code === 36)
  })

  it('pipelines 500 concurrent produces and gets contiguous offsets', async () => {
    await client.createTopic('pipelined', { partitions: 1 })
    const started = performance.now()
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) =>
      client.produce('pipelined', 0, buildRecordBatchSync([{ value: `record ${i}` }]))))
    const elapsedMs = performance.now() - started
    console.log(`500 pipelined produces (acks=all) in ${elapsedMs.toFixed(0)} ms`)
    const offsets = results.map(result => result.baseOffset).sort((a, b) => a - b)
    assert.deepEqual(offsets, Array.from({ length: 500 }, (_, i) => i))
    assert.equal((await client.listOffsets('pipelined', 0, -1)).offset, 500)
    assert.equal((await client.listOffsets('pipelined', 0, -2)).offset, 0)
  })

  it('produces to several partitions in one request and fails on a partition error', async () => {
    await client.createTopic('spread', { partitions: 3 })
    await client.produce('spread', 1, buildRecordBatchSync([{ value: 'first' }]))
    const answers = await client.produceMany('spread', [2, 1, 0].map(partition =>
      ({ partition, records: buildRecordBatchSync([{ value: `p${partition}` }, { value: 'b' }]) })))
    assert.deepEqual(answers.map(answer => answer.baseOffset), [0, 1, 0])
    for (const partition of [0, 1, 2]) {
      assert.equal((await client.listOffsets('spread', partition, -1)).offset,
        partition === 1 ? 3 : 2)
    }
    await assert.rejects(client.produceMany('spread', [0, 0].map(partition =>
      ({ partition, records: buildRecordBatchSync([{ value: 'twice' }]) }))),
    /at most one batch per partition/)
    // A broken batch fails the call, and the good partition in the same request still lands.
    const broken = buildRecordBatchSync([{ value: 'broken' }])
    broken.writeUInt32BE(0, CRC_OFFSET)
    await assert.rejects(client.produceMany('spread', [
      { partition: 0, records: buildRecordBatchSync([{ value: 'good' }]) },
      { partition: 2, records: broken }]), { errorName: 'CORRUPT_MESSAGE' })
    assert.equal((await client.listOffsets('spread', 0, -1)).offset, 3)
    assert.equal((await client.listOffsets('spread', 2, -1)).offset, 2)
  })

  it('fetches and reads a partition from the middle, in order', async () => {
    await client.createTopic('reading', { partitions: 1 })
    for (let i = 0; i < 10; i++) {
      await client.produce('reading', 0, buildRecordBatchSync([
        { key: `k${i}`, value: `a${i}` }, { key: `k${i}`, value: `b${i}` }]))
    }
    const fetched = await client.fetch('reading', 0, 0, { maxWaitMs: 100 })
    assert.equal(fetched.highWatermark, 20)
    assert.ok((fetched.records?.length ?? 0) > 0)
    const values: string[] = []
    for await (const record of readPartition(client, 'reading', 0, 5)) {
      values.push(`${record.offset}=${record.value?.toString() ?? ''}`)
    }
    assert.equal(values.length, 15)
    assert.equal(values[0], '5=b2')
    assert.equal(values.at(-1), '19=b9')
    await assert.rejects(client.fetch('reading', 0, 999, { maxWaitMs: 0 }),
      { errorName: 'OFFSET_OUT_OF_RANGE' })
  })

  it('sends acks=0 produces without waiting for an answer', async () => {
    await client.createTopic('fire', { partitions: 1 })
    const result = await client.produce('fire', 0, buildRecordBatchSync([{ value: 'x' }]),
      { acks: 0 })
    assert.equal(result.baseOffset, -1)
    await client.produce('fire', 0, buildRecordBatchSync([{ value: 'y' }]))
    assert.equal((await client.listOffsets('fire', 0, -1)).offset, 2)
  })

  it('alters, describes and deletes topic configs', async () => {
    await client.createTopic('configured', { partitions: 1 })
    await client.alterTopicConfigs('configured', { 'retention.ms': '120000' })
    let configs = await client.describeConfigs(RESOURCE_TYPE_TOPIC, 'configured')
    assert.equal(configs.find(config => config.name === 'retention.ms')?.value, '120000')
    await client.alterTopicConfigs('configured', { 'retention.ms': null })
    configs = await client.describeConfigs(RESOURCE_TYPE_TOPIC, 'configured')
    assert.notEqual(configs.find(config => config.name === 'retention.ms')?.value, '120000')
  })

  it('adds partitions, deletes records and deletes the topic', async () => {
    await client.createTopic('admin', { partitions: 1 })
    await client.createPartitions('admin', 4)
    const metadata = await client.metadata(['admin'])
    assert.equal(metadata.topics[0]?.partitions.length, 4)
    for (let i = 0; i < 5; i++) {
      await client.produce('admin', 0, buildRecordBatchSync([{ value: `${i}` }]))
    }
    assert.equal(await client.deleteRecords('admin', 0, 3), 3)
    assert.equal((await client.listOffsets('admin', 0, -2)).offset, 3)
    await client.deleteTopic('admin')
    await assert.rejects(client.produce('admin', 0, buildRecordBatchSync([{ value: 'gone' }])),
      { errorName: 'UNKNOWN_TOPIC_OR_PARTITION' })
  })

  it('describes the cluster and hands out producer ids', async () => {
    const cluster = await client.describeCluster()
    assert.equal(cluster.brokers.length, 1)
    assert.equal(cluster.brokers[0]?.port, broker.kafkaPort)
    assert.ok(typeof cluster.clusterId === 'string' && cluster.clusterId.length > 0)
    const first = await client.initProducerId()
    const second = await client.initProducerId()
    assert.ok(first.producerId >= 0)
    assert.notEqual(first.producerId, second.producerId)
  })

  it('finds the coordinator of a consumer group and lists groups', async () => {
    const coordinator = await client.findCoordinator('some-group')
    assert.equal(coordinator.port, broker.kafkaPort)
    assert.ok(Array.isArray(await client.listGroups()))
  })

  it('throws UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist', async () => {
    await assert.rejects(client.listOffsets('no-such-topic', 0, -1),
      { errorName: 'UNKNOWN_TOPIC_OR_PARTITION' })
  })
})

describe('parseAddress', () => {
  it('accepts host:port and bracketed IPv6, and refuses anything else', () => {
    assert.deepEqual(parseAddress(' localhost:9092 '), { host: 'localhost', port: 9092 })
    assert.deepEqual(parseAddress('[::1]:19092'), { host: '::1', port: 19092 })
    assert.throws(() => parseAddress('localhost'), /expected host:port/)
    assert.throws(() => parseAddress('host:99999'), /expected host:port/)
    assert.throws(() => new KafkaClient({ bootstrap: '' }), /no bootstrap broker/)
  })
})

describe('KafkaClient against a fake broker', () => {
  const metadataOf = (port: number): MetadataResponse => ({
    throttleTimeMs: 0,
    brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
    clusterId: 'fake',
    controllerId: 1,
    topics: [{
      errorCode: 0, name: 'moving', topicId: Buffer.alloc(16), isInternal: false,
      partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0,
        replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
      topicAuthorizedOperations: 0,
    }],
    clusterAuthorizedOperations: 0,
  })
  const produceAnswer = (errorCode: number, baseOffset: number): ProduceResponse => ({
    responses: [{ name: 'moving', partitionResponses: [{ index: 0, errorCode, baseOffset,
      logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null }] }],
    throttleTimeMs: 0,
  })

  it('looks the leader up again and retries a produce that hit NOT_LEADER_OR_FOLLOWER',
    async () => {
      const errors = [6, 0]
      let port = 0
      const fake = await startFakeBroker({
        apis: [Metadata, Produce],
        handle: request => {
          if (request.apiKey === Metadata.key) answer(request, Metadata, metadataOf(port))
          else answer(request, Produce, produceAnswer(errors.shift() ?? 19, 42))
        },
      })
      port = fake.port
      const client = new KafkaClient({ bootstrap: `127.0.0.1:${port}`, retryBackoffMs: 10 })
      try {
        const result = await client.produce('moving', 0, buildRecordBatchSync([{ value: 'x' }]))
        assert.equal(result.baseOffset, 42)
        const keys = fake.seen.map(request => request.apiKey)
        assert.equal(keys.filter(key => key === Metadata.key).length, 2, 'metadata refreshed')
        assert.equal(keys.filter(key => key === Produce.key).length, 2, 'produce retried once')
        await assert.rejects(client.produce('moving', 0, buildRecordBatchSync([{ value: 'y' }])),
          (error: KafkaClientError) => error.errorName === 'NOT_ENOUGH_REPLICAS' &&
            error.retriable)
        assert.equal(fake.seen.filter(request => request.apiKey === Produce.key).length, 3,
          'other errors are not retried')
      } finally {
        await client.close()
        await fake.close()
      }
    })
})
