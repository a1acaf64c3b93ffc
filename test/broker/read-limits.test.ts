/**
 * Read paths against a real broker: the broker's fetch.max.bytes caps every Fetch response,
 * whatever max_bytes the client sends (huge, 0, negative; the first batch still comes whole,
 * KIP-74); a partition named twice in one request is answered once; an HTTP consume, and an
 * HTTP consumer instance over all its partitions, decode at most their byte budget of batches
 * that inflate far beyond what was read.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { KafkaConnection } from '../../src/client/connection.js'
import { Fetch, type FetchRequest } from '../../src/protocol/apis/fetch.js'
import { splitBatches } from '../../src/records/batch.js'
import { CompressionCodec } from '../../src/records/batch-header.js'
import { buildRecordBatch, buildRecordBatchSync } from '../../src/records/builder.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const FETCH_MAX_BYTES = 8192
const BATCHES = 30

type PartitionRequest = FetchRequest['topics'][number]['partitions'][number]

function partitionRequest (partition: number, partitionMaxBytes: number): PartitionRequest {
  return { partition, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1,
    logStartOffset: -1, partitionMaxBytes }
}

function fetchRequest (maxBytes: number, topics: FetchRequest['topics']): FetchRequest {
  return { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes, isolationLevel: 0,
    sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '', topics }
}

describe('read limits', () => {
  let broker: BrokerProcess
  let client: KafkaClient
  let connection: KafkaConnection
  let batchBytes: number

  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_FETCH_MAX_BYTES: String(FETCH_MAX_BYTES),
      TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } })
    client = new KafkaClient({ bootstrap: broker.bootstrap })
    await client.createTopic('capped', { partitions: 2 })
    for (let n = 0; n < BATCHES; n++) {
      const batch = buildRecordBatchSync([{ value: Buffer.alloc(1000, n) }])
      batchBytes = batch.length
      await client.produce('capped', 0, batch)
      await client.produce('capped', 1, buildRecordBatchSync([{ value: Buffer.alloc(1000, n) }]))
    }
    connection = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
  })
  after(async () => {
    connection.close()
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  async function fetchBytes (maxBytes: number, partitionMaxBytes: number):
  Promise<number[]> {
    const response = await connection.send(Fetch, fetchRequest(maxBytes, [{ topic: 'capped',
      topicId: Buffer.alloc(16), partitions: [partitionRequest(0, partitionMaxBytes),
        partitionRequest(1, partitionMaxBytes)] }]), { version: 11 })
    return (response.responses[0]?.partitions ?? []).map(partition => {
      assert.equal(partition.errorCode, 0)
      return partition.records?.length ?? 0
    })
  }

  it('caps a response at fetch.max.bytes however much the client asks for', async () => {
    const [first = 0, second = 0] = await fetchBytes(0x7fffffff, 0x7fffffff)
    assert.ok(first + second <= FETCH_MAX_BYTES, `${first + second} bytes returned`)
    assert.equal(first, Math.floor(FETCH_MAX_BYTES / batchBytes) * batchBytes)
  })

  it('answers max_bytes 0 or negative with the first batch only, never everything',
    async () => {
      for (const maxBytes of [0, -1, -0x80000000]) {
        assert.deepEqual(await fetchBytes(maxBytes, 0x7fffffff), [batchBytes, 0],
          `max_bytes ${maxBytes}`)
      }
      assert.deepEqual(await fetchBytes(0x7fffffff, -5), [batchBytes, 0],
        'a negative partition_max_bytes is a budget of 0 too')
    })

  it('answers a partition named twice in one request once, at its first occurrence',
    async () => {
      const response = await connection.send(Fetch, fetchRequest(0x7fffffff, [
        { topic: 'capped', topicId: Buffer.alloc(16), partitions: [partitionRequest(1, 2000),
          partitionRequest(1, 0x7fffffff), partitionRequest(1, 0x7fffffff)] },
        { topic: 'capped', topicId: Buffer.alloc(16), partitions: [partitionRequest(1, 4000)] },
      ]), { version: 11 })
      assert.equal(response.responses.length, 1)
      const partitions = response.responses[0]?.partitions ?? []
      assert.deepEqual(partitions.map(p => p.partitionIndex), [1])
      assert.equal(splitBatches(partitions[0]?.records ?? Buffer.alloc(0)).length,
        Math.floor(2000 / batchBytes), 'the first occurrence\'s partition_max_bytes applies')
    })

  it('decodes at most 4 MiB of records per HTTP consume, however far a batch inflates',
    async () => {
      await client.createTopic('inflating', { partitions: 1 })
      const batch = await buildRecordBatch(Array.from({ length: 8 }, () =>
        ({ value: Buffer.alloc(1024 * 1024, 0x61) })), { compression: CompressionCodec.Zstd })
      assert.ok(batch.length < 100_000, `${batch.length} bytes compressed`)
      await client.produce('inflating', 0, batch)
      const response = await fetch(`http://127.0.0.1:${broker.httpPort}/api/v1/consume` +
        '?topic=inflating&partition=0&offset=0&limit=8')
      assert.equal(response.status, 200)
      const body = await response.json() as { records: { offset: number }[], next_offset: number }
      assert.deepEqual(body.records.map(record => record.offset), [0, 1, 2, 3])
      assert.equal(body.next_offset, 4)
    })

  it('spreads one 4 MiB budget over all the partitions of an HTTP consumer instance',
    async () => {
      await client.createTopic('spread', { partitions: 3 })
      for (let partition = 0; partition < 3; partition++) {
        await client.produce('spread', partition, await buildRecordBatch(Array.from({ length: 3 },
          () => ({ value: Buffer.alloc(1024 * 1024, 0x62) })),
        { compression: CompressionCodec.Zstd }))
      }
      const base = `http://127.0.0.1:${broker.httpPort}/api/v1/consumer-groups`
      const created = await fetch(base, { method: 'POST', headers: { 'content-type':
        'application/json' }, body: JSON.stringify({ group_id: 'spread-group',
        topics: ['spread'], auto_offset_reset: 'earliest' }) })
      assert.equal(created.status, 201)
      const { instance_id: instance } = await created.json() as { instance_id: string }
      const response = await fetch(`${base}/spread-group/instances/${instance}/records` +
        '?limit=100&max_wait_ms=0')
      assert.equal(response.status, 200)
      const { records } = await response.json() as { records: unknown[] }
      assert.equal(records.length, 4, 'four 1 MiB values fill the 4 MiB budget; nine were there')
      await fetch(`${base}/spread-group/instances/${instance}`, { method: 'DELETE' })
    })
})
