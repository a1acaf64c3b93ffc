/**
 * The broker on the wire, with raw frames and our client: the protocol pitfalls of
 * docs/protocol.md, limits, idempotent retries after a lost acknowledgement, and a
 * bounded fuzz of every API decoder against the running broker, which must keep serving.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import { KafkaClient, KafkaClientError } from '../../src/client/client.js'
import { KafkaConnection } from '../../src/client/connection.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { ALL_HANDLERS } from '../../src/broker/handlers/index.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 100000)

function frame (body: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

function header (apiKey: number, version: number, correlationId: number): Buffer {
  const buffer = Buffer.alloc(10)
  buffer.writeInt16BE(apiKey, 0)
  buffer.writeInt16BE(version, 2)
  buffer.writeInt32BE(correlationId, 4)
  buffer.writeInt16BE(-1, 8) // null client id
  return buffer
}

/** Sends raw bytes, returns the first response frame (or null when the broker closes). */
function exchange (port: number, bytes: Buffer, timeoutMs = 3000): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no answer')) },
      timeoutMs)
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        clearTimeout(timer)
        socket.destroy()
        resolve(received.subarray(4, 4 + received.readInt32BE(0)))
      }
    })
    socket.on('close', () => { clearTimeout(timer); resolve(null) })
    socket.on('error', () => undefined)
    socket.write(bytes)
  })
}

describe('the broker on the wire', () => {
  let broker: BrokerProcess
  let client: KafkaClient
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_MESSAGE_MAX_BYTES: '100000' } })
    client = new KafkaClient({ bootstrap: broker.bootstrap })
  })
  after(async () => {
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('answers an unknown ApiVersions version in the v0 layout with UNSUPPORTED_VERSION', async () => {
    const response = await exchange(broker.kafkaPort, frame(header(18, 99, 7)))
    assert.ok(response !== null)
    assert.equal(response.readInt32BE(0), 7)
    assert.equal(response.readInt16BE(4), 35)
    assert.equal(response.readInt32BE(6), 1)
    assert.equal(response.readInt16BE(10), 18)
  })

  it('closes the connection on an unsupported version, a malformed or oversized frame', async () => {
    assert.equal(await exchange(broker.kafkaPort, frame(header(3, 99, 1))), null)
    assert.equal(await exchange(broker.kafkaPort, frame(Buffer.from([0, 3]))), null)
    const huge = Buffer.alloc(4)
    huge.writeInt32BE(200 * 1024 * 1024)
    assert.equal(await exchange(broker.kafkaPort, huge), null)
    assert.equal(await exchange(broker.kafkaPort, frame(Buffer.concat([header(0, 7, 1),
      Buffer.from([0xff, 0xff, 0, 0])]))), null)
  })

  it('sends no response to acks=0 and keeps responses in request order', async () => {
    const connection = await KafkaConnection.connect('127.0.0.1', broker.kafkaPort)
    try {
      await client.createTopic('pitfalls', { partitions: 1 })
      connection.sendNoResponse(Produce, {
        transactionalId: null, acks: 0, timeoutMs: 1000,
        topicData: [{ name: 'pitfalls', partitionData: [{ index: 0,
          records: buildRecordBatchSync([{ value: 'fire and forget' }]) }] }],
      }, 7)
      const metadata = { topics: null, allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }
      const responses = await Promise.all(Array.from({ length: 50 }, () =>
        connection.send(Metadata, metadata, { version: 1 })))
      assert.equal(responses.length, 50)
      const latest = await client.listOffsets('pitfalls', 0, -1)
      assert.equal(latest.offset, 1)
    } finally {
      connection.close()
    }
  })

  it('long-polls a fetch until an append arrives, with Kafka pitfall fields', async () => {
    await client.createTopic('longpoll', { partitions: 1 })
    const started = Date.now()
    const empty = await client.fetch('longpoll', 0, 0, { maxWaitMs: 300 })
    assert.ok(Date.now() - started >= 250, 'an empty fetch waits max_wait_ms')
    assert.equal(empty.records?.length ?? 0, 0)
    assert.equal(empty.preferredReadReplica, -1)
    const fetching = client.fetch('longpoll', 0, 0, { maxWaitMs: 10_000 })
    await new Promise(resolve => setTimeout(resolve, 100))
    const appendedAt = Date.now()
    await client.produce('longpoll', 0, buildRecordBatchSync([{ value: 'wake up' }]))
    const fetched = await fetching
    assert.ok(Date.now() - appendedAt < 5000, 'the append woke the fetch')
    assert.equal(fetched.highWatermark, 1)
    assert.ok((fetched.records?.length ?? 0) > 61)
    const raw = await (await KafkaConnection.connect('127.0.0.1', broker.kafkaPort))
    const response = await raw.send(Fetch, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1000, isolationLevel: 1,
      sessionId: 0, sessionEpoch: 0, forgottenTopicsData: [], rackId: '',
      topics: [{ topic: 'longpoll', topicId: Buffer.alloc(16), partitions: [{ partition: 0,
        currentLeaderEpoch: -1, fetchOffset: 5, lastFetchedEpoch: -1, logStartOffset: -1,
        partitionMaxBytes: 1000 }] }],
    })
    raw.close()
    assert.equal(response.sessionId, 0)
    assert.equal(response.throttleTimeMs, 0)
    assert.equal(response.responses[0]?.partitions[0]?.errorCode, 1, 'OFFSET_OUT_OF_RANGE')
  })

  it('refuses bad topics and oversized batches with Kafka error codes', async () => {
    await assert.rejects(client.createTopic('three', { replicationFactor: 3 }),
      (error: KafkaClientError) => error.errorName === 'INVALID_REPLICATION_FACTOR' &&
        /1 broker/.test(error.message))
    await assert.rejects(client.createTopic('bad name!'),
      { errorName: 'INVALID_TOPIC_EXCEPTION' })
    await assert.rejects(client.createTopic('x'.repeat(250)),
      { errorName: 'INVALID_TOPIC_EXCEPTION' })
    await client.createTopic('dotted.name')
    await assert.rejects(client.createTopic('dotted_name'),
      { errorName: 'INVALID_TOPIC_EXCEPTION' })
    await assert.rejects(client.createTopic('cfg', { configs: { 'retention.ms': 'soon' } }),
      { errorName: 'INVALID_CONFIG' })
    await client.createTopic('big', { partitions: 1 })
    await assert.rejects(client.produce('big', 0, buildRecordBatchSync([
      { value: Buffer.alloc(200_000) }])), { errorName: 'MESSAGE_TOO_LARGE' })
    await assert.rejects(client.produce('big', 7, buildRecordBatchSync([{ value: 'x' }])),
      { errorName: 'UNKNOWN_TOPIC_OR_PARTITION' })
  })

  it('stores a retried idempotent batch once when its acknowledgement was lost', async () => {
    await client.createTopic('idempotent', { partitions: 1 })
    const { producerId, producerEpoch } = await client.initProducerId()
    const batch = (): Buffer => buildRecordBatchSync([{ value: 'once' }, { value: 'only' }],
      { producerId, producerEpoch, baseSequence: 0, timestampMs: 1_700_000_000_000 })
    // A proxy that forwards the request, then cuts the connection instead of the answer.
    const proxy = net.createServer(downstream => {
      const upstream = net.connect({ host: '127.0.0.1', port: broker.kafkaPort })
      downstream.pipe(upstream)
      let responses = 0
      upstream.on('data', chunk => {
        responses++
        // The first answer (ApiVersions) passes; the Produce answer is lost.
        if (responses === 1) downstream.write(chunk)
        else { downstream.destroy(); upstream.destroy() }
      })
      upstream.on('error', () => undefined)
      downstream.on('error', () => undefined)
    })
    await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
    const port = (proxy.address() as net.AddressInfo).port
    const lossy = await KafkaConnection.connect('127.0.0.1', port)
    const request = {
      transactionalId: null, acks: -1, timeoutMs: 5000,
      topicData: [{ name: 'idempotent', partitionData: [{ index: 0, records: batch() }] }],
    }
    await assert.rejects(lossy.send(Produce, request))
    proxy.close()
    const first = await client.produce('idempotent', 0, batch())
    const again = await client.produce('idempotent', 0, batch())
    assert.equal(first.baseOffset, 0)
    assert.equal(again.baseOffset, 0)
    assert.equal((await client.listOffsets('idempotent', 0, -1)).offset, 2, 'stored once')
    const gap = buildRecordBatchSync([{ value: 'gap' }],
      { producerId, producerEpoch, baseSequence: 5 })
    await assert.rejects(client.produce('idempotent', 0, gap),
      { errorName: 'OUT_OF_ORDER_SEQUENCE_NUMBER' })
  })

  it(`survives random frames at every API (FUZZ_SEED=${SEED}) and keeps serving`, async () => {
    let state = SEED
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648
      return state / 2147483648
    }
    for (let i = 0; i < 200; i++) {
      const entry = ALL_HANDLERS[i % ALL_HANDLERS.length]
      if (entry === undefined) continue
      const version = entry.minVersion +
        Math.floor(random() * (entry.maxVersion - entry.minVersion + 1))
      const body = Buffer.from(Array.from({ length: Math.floor(random() * 80) },
        () => Math.floor(random() * 256)))
      await exchange(broker.kafkaPort, frame(Buffer.concat([header(entry.api.key, version, i),
        body])), 5000).catch(() => null)
    }
    const metadata = await client.metadata()
    assert.equal(metadata.brokers.length, 1)
  })
})
