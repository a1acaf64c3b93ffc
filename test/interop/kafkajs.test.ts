/**
 * kafkajs 2.2 interop: the admin API, 100,000 idempotent messages with keys and headers under
 * gzip and lz4, read back partition by partition with exact content and offsets, across a
 * broker restart in the middle.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import kafkajs, { type Admin, type Producer } from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { CompressionCodec } from '../../src/records/batch-header.js'
import { compress, decompress } from '../../src/records/compression.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs

// kafkajs ships no lz4 codec; this registers one on our LZ4 frame implementation, as users do
// with kafkajs-lz4.
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: async (encoder: { buffer: Buffer }) => compress(CompressionCodec.Lz4, encoder.buffer),
  decompress: async (buffer: Buffer) => decompress(CompressionCodec.Lz4, buffer, 64 << 20),
})

const MESSAGES = 100_000
const PARTITIONS = 4
const BATCH = 500

function kafkaFor (broker: BrokerProcess): InstanceType<typeof Kafka> {
  return new Kafka({
    clientId: 'interop', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
  })
}

interface Sent { key: string, value: string, headers: Record<string, string> }

describe('kafkajs 2.2 against a Tributary broker', () => {
  let broker: BrokerProcess
  let admin: Admin
  before(async () => {
    broker = await startBroker()
    admin = kafkaFor(broker).admin()
    await admin.connect()
  })
  after(async () => {
    await admin.disconnect().catch(() => undefined)
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('creates, lists, describes and deletes topics', async () => {
    assert.equal(await admin.createTopics({
      topics: [{ topic: 'admin-a', numPartitions: 3 }, { topic: 'admin-b' }],
      waitForLeaders: true,
    }), true)
    const topics = await admin.listTopics()
    assert.ok(topics.includes('admin-a'))
    assert.ok(topics.includes('admin-b'))
    const metadata = await admin.fetchTopicMetadata({ topics: ['admin-a'] })
    assert.equal(metadata.topics[0]?.partitions.length, 3)
    await assert.rejects(admin.createTopics({
      topics: [{ topic: 'admin-a' }], validateOnly: false,
    }).then(created => { if (!created) throw new Error('TOPIC_ALREADY_EXISTS') }))
    await admin.createPartitions({ topicPartitions: [{ topic: 'admin-a', count: 5 }] })
    const grown = await admin.fetchTopicMetadata({ topics: ['admin-a'] })
    assert.equal(grown.topics[0]?.partitions.length, 5)
    await admin.deleteTopics({ topics: ['admin-b'] })
    assert.ok(!(await admin.listTopics()).includes('admin-b'))
  })

  it('describes and alters topic configs', async () => {
    await admin.createTopics({ topics: [{ topic: 'configs', configEntries: [
      { name: 'retention.ms', value: '3600000' }] }] })
    const described = await admin.describeConfigs({
      resources: [{ type: 2, name: 'configs' }], includeSynonyms: false,
    })
    const entries = described.resources[0]?.configEntries ?? []
    assert.equal(entries.find(entry => entry.configName === 'retention.ms')?.configValue,
      '3600000')
    assert.ok(entries.some(entry => entry.configName === 'segment.bytes'))
    await admin.alterConfigs({ validateOnly: false, resources: [{
      type: 2, name: 'configs', configEntries: [{ name: 'retention.ms', value: '7200000' }],
    }] })
    const after = await admin.describeConfigs({
      resources: [{ type: 2, name: 'configs', configNames: ['retention.ms'] }],
      includeSynonyms: false,
    })
    assert.equal(after.resources[0]?.configEntries[0]?.configValue, '7200000')
    await assert.rejects(admin.alterConfigs({ validateOnly: false, resources: [{
      type: 2, name: 'configs', configEntries: [{ name: 'retention.ms', value: 'soon' }],
    }] }))
  })

  it('round-trips 100,000 idempotent messages with gzip and lz4 across a restart', async () => {
    const topic = 'bulk'
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] })
    const sent: Sent[][] = Array.from({ length: PARTITIONS }, () => [])
    let producer: Producer = kafkaFor(broker).producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    for (let start = 0; start < MESSAGES; start += BATCH) {
      if (start === MESSAGES / 2) {
        // Restart the broker on the same port and data directory, then go on producing.
        await producer.disconnect()
        await admin.disconnect()
        const port = broker.kafkaPort
        assert.equal(await broker.stop(), 0)
        broker = await startBroker({ dataDir: broker.dataDir, kafkaPort: port })
        admin = kafkaFor(broker).admin()
        await admin.connect()
        producer = kafkaFor(broker).producer({ idempotent: true, maxInFlightRequests: 1 })
        await producer.connect()
      }
      const partition = (start / BATCH) % PARTITIONS
      const messages = Array.from({ length: BATCH }, (_, i) => {
        const n = start + i
        return {
          key: `key-${n}`,
          value: `value-${n}-${'v'.repeat(n % 50)}`,
          headers: { index: String(n), source: 'kafkajs' },
        }
      })
      await producer.send({
        topic,
        compression: (start / BATCH) % 2 === 0 ? CompressionTypes.GZIP : CompressionTypes.LZ4,
        messages: messages.map(message => ({ ...message, partition })),
        acks: -1,
      })
      sent[partition]?.push(...messages)
    }
    await producer.disconnect()

    const client = new KafkaClient({ bootstrap: broker.bootstrap })
    try {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const expected = sent[partition] ?? []
        let offset = 0
        for await (const record of readPartition(client, topic, partition, 0,
          { untilOffset: expected.length, maxWaitMs: 100 })) {
          const want = expected[offset]
          assert.ok(want !== undefined, `unexpected record at offset ${record.offset}`)
          assert.equal(record.offset, offset)
          assert.equal(record.key?.toString(), want.key)
          assert.equal(record.value?.toString(), want.value)
          assert.deepEqual(Object.fromEntries(record.headers.map((header: { key: string, value: Buffer | null }) =>
            [header.key, header.value?.toString()])), want.headers)
          offset++
        }
        assert.equal(offset, expected.length, `partition ${partition} complete`)
      }
    } finally {
      await client.close()
    }
  })
})
