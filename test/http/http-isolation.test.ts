/**
 * Isolation levels over HTTP (issue #17, KIP-98), against a real broker with real kafkajs
 * transactions: a partition holds a committed transaction, an aborted one, another committed
 * one, an open one and a plain record after it. read_committed (the native default) stops at
 * the last stable offset and leaves out the aborted records; read_uncommitted returns them;
 * neither shows a marker, and a read that meets only aborted data or markers moves next_offset
 * past them. The same for SSE, native consumer instances and REST Proxy v2 consumers
 * (`isolation.level`). And on the wire: a read_uncommitted Fetch returns the aborted records
 * followed by the ABORT control batch at its offset, as Kafka's clients expect.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import kafkajs, { type Producer } from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { isControlBatch, isTransactionalBatch } from '../../src/records/batch-header.js'
import { decodeRecordBatch, splitBatches } from '../../src/records/batch.js'
import {
  CONTROL_TYPE_ABORT, CONTROL_TYPE_COMMIT, controlTypeOf,
} from '../../src/records/control-batch.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'
import { httpCaller } from '../support/http-call.js'
import { sseRecords } from '../support/sse.js'

const { Kafka, logLevel } = kafkajs
const TOPIC = 'iso'
let broker: BrokerProcess
let base: string
let open: Producer
const call = httpCaller(() => base)
const V2 = { 'content-type': 'application/vnd.kafka.v2+json' }

const COMMITTED = ['c1', 'c2', 'c3']
// Offsets: c1 0, c2 1, COMMIT 2, a1 3, a2 4, ABORT 5, c3 6, COMMIT 7, o1 8 (open), p1 9.
const UNCOMMITTED = ['c1', 'c2', 'a1', 'a2', 'c3', 'o1', 'p1']
const LSO = 8

function kafka (): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'iso', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })
}

async function transaction (producer: Producer, values: string[], end: 'commit' | 'abort' |
  'open'): Promise<void> {
  const txn = await producer.transaction()
  await txn.send({ topic: TOPIC, messages: values.map(value => ({ value, partition: 0 })) })
  if (end === 'commit') await txn.commit()
  if (end === 'abort') await txn.abort()
}

/** The values of the first `count` record events of an SSE stream. */
async function streamValues (path: string, count: number): Promise<string[]> {
  return (await sseRecords(base + path, count)).map(record => record.data.value)
}

const values = (records: { value: string }[]): string[] => records.map(r => r.value)

describe('HTTP isolation levels', () => {
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
      TRIBUTARY_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '3' } })
    base = `http://127.0.0.1:${broker.httpPort}`
    const admin = kafka().admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] })
    await admin.disconnect()
    const producer = kafka().producer({ transactionalId: 'iso-done', idempotent: true,
      maxInFlightRequests: 1 })
    await producer.connect()
    await transaction(producer, ['c1', 'c2'], 'commit')
    await transaction(producer, ['a1', 'a2'], 'abort')
    await transaction(producer, ['c3'], 'commit')
    await producer.disconnect()
    open = kafka().producer({ transactionalId: 'iso-open', idempotent: true,
      maxInFlightRequests: 1 })
    await open.connect()
    await transaction(open, ['o1'], 'open')
    const plain = kafka().producer()
    await plain.connect()
    await plain.send({ topic: TOPIC, messages: [{ value: 'p1', partition: 0 }] })
    await plain.disconnect()
  })
  after(async () => {
    await open.disconnect().catch(() => undefined)
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('/api/v1/consume reads committed data by default and everything on request', async () => {
    const committed = await call('GET', `/api/v1/consume?topic=${TOPIC}&partition=0&offset=0`)
    assert.equal(committed.status, 200, JSON.stringify(committed.body))
    assert.deepEqual(values(committed.body.records), COMMITTED)
    assert.deepEqual(committed.body.records.map((r: { offset: number }) => r.offset), [0, 1, 6])
    assert.equal(committed.body.next_offset, 7, 'after c3; the COMMIT marker at 7 comes next')
    assert.equal(committed.body.high_watermark, 10)
    const uncommitted = await call('GET', `/api/v1/consume?topic=${TOPIC}&partition=0&offset=0` +
      '&isolation_level=read_uncommitted')
    assert.deepEqual(values(uncommitted.body.records), UNCOMMITTED)
    assert.deepEqual(uncommitted.body.records.map((r: { offset: number }) => r.offset),
      [0, 1, 3, 4, 6, 8, 9], 'markers at 2, 5 and 7 are never records')
  })

  it('moves next_offset past aborted data and markers that hold no visible record', async () => {
    // From the COMMIT marker at 7, read_committed has nothing below the LSO but the marker.
    const atMarker = await call('GET', `/api/v1/consume?topic=${TOPIC}&partition=0&offset=7`)
    assert.deepEqual(atMarker.body.records, [])
    assert.equal(atMarker.body.next_offset, LSO)
    const fromAborted = await call('GET', `/api/v1/consume?topic=${TOPIC}&partition=0&offset=3`)
    assert.deepEqual(values(fromAborted.body.records), ['c3'])
    const bad = await call('GET', `/api/v1/consume?topic=${TOPIC}&partition=0&offset=0` +
      '&isolation_level=dirty')
    assert.equal(bad.status, 422, JSON.stringify(bad.body))
    assert.match(bad.body.message, /isolation_level/)
  })

  it('streams committed records by default over SSE, and all on request', async () => {
    assert.deepEqual(await streamValues(`/api/v1/topics/${TOPIC}/partitions/0/stream?offset=0`,
      3), COMMITTED)
    assert.deepEqual(await streamValues(`/api/v1/topics/${TOPIC}/partitions/0/stream?offset=0` +
      '&isolation_level=read_uncommitted', 7), UNCOMMITTED)
  })

  it('gives native consumer instances their isolation level', async () => {
    for (const [level, expected] of [['read_committed', COMMITTED],
      ['read_uncommitted', UNCOMMITTED]] as const) {
      const created = await call('POST', '/api/v1/consumer-groups', { group_id: `g-${level}`,
        topics: [TOPIC], auto_offset_reset: 'earliest', isolation_level: level })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      assert.equal(created.body.isolation_level, level)
      const read = await call('GET', `${created.body.base_uri}/records?max_wait_ms=0`)
      assert.deepEqual(values(read.body.records), expected)
      await call('DELETE', created.body.base_uri)
    }
    const byDefault = await call('POST', '/api/v1/consumer-groups', { group_id: 'g-default',
      topics: [TOPIC], auto_offset_reset: 'earliest' })
    assert.equal(byDefault.body.isolation_level, 'read_committed')
    await call('DELETE', byDefault.body.base_uri)
  })

  it('gives REST Proxy v2 consumers isolation.level, Kafka\'s default uncommitted', async () => {
    for (const [name, config, expected] of [
      ['rc', { 'isolation.level': 'read_committed' }, COMMITTED],
      ['default', {}, UNCOMMITTED]] as const) {
      const created = await call('POST', `/consumers/v2-iso-${name}`, { name,
        'auto.offset.reset': 'earliest', ...config }, V2)
      assert.equal(created.status, 200, JSON.stringify(created.body))
      await call('POST', `${created.body.base_uri}/subscription`, { topics: [TOPIC] }, V2)
      const read = await call('GET', `${created.body.base_uri}/records`)
      assert.deepEqual(values(read.body), expected)
      await call('DELETE', created.body.base_uri)
    }
  })

  it('answers a read_uncommitted Fetch with aborted records, then the ABORT marker', async () => {
    const client = new KafkaClient({ bootstrap: broker.bootstrap })
    try {
      const fetched = await client.fetch(TOPIC, 0, 0, { maxWaitMs: 0 })
      assert.equal(fetched.lastStableOffset, LSO)
      const layout = []
      for (const { position, size } of splitBatches(fetched.records as Buffer)) {
        const batch = await decodeRecordBatch((fetched.records as Buffer)
          .subarray(position, position + size))
        const control = isControlBatch(batch.header.attributes)
        layout.push({
          offsets: batch.records.map(r => r.offset),
          kind: control ? (controlTypeOf(batch.records[0]?.key ?? null) === CONTROL_TYPE_ABORT
            ? 'ABORT' : controlTypeOf(batch.records[0]?.key ?? null) === CONTROL_TYPE_COMMIT
              ? 'COMMIT' : '?')
            : batch.records.map(r => r.value?.toString()).join(','),
          transactional: isTransactionalBatch(batch.header.attributes),
        })
      }
      assert.deepEqual(layout, [
        { offsets: [0, 1], kind: 'c1,c2', transactional: true },
        { offsets: [2], kind: 'COMMIT', transactional: true },
        { offsets: [3, 4], kind: 'a1,a2', transactional: true },
        { offsets: [5], kind: 'ABORT', transactional: true },
        { offsets: [6], kind: 'c3', transactional: true },
        { offsets: [7], kind: 'COMMIT', transactional: true },
        { offsets: [8], kind: 'o1', transactional: true },
        { offsets: [9], kind: 'p1', transactional: false },
      ])
      // read_committed: up to the LSO, with the aborted transaction listed from its first offset.
      const committed = await client.fetch(TOPIC, 0, 0, { maxWaitMs: 0, isolationLevel: 1 })
      assert.deepEqual(committed.abortedTransactions?.map(t => t.firstOffset), [3])
    } finally {
      await client.close()
    }
  })
})
