/**
 * Hostile strings against a real broker process: names Kafka would refuse are answered per
 * topic with INVALID_TOPIC_EXCEPTION (17), and strings too long to echo close only their own
 * connection. Before the decode-time bounds, the Metadata request below killed the process
 * (ERR_OUT_OF_RANGE while encoding its response), and so did a JoinGroup whose client id made
 * the generated member id longer than a string can be.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { JoinGroup } from '../../src/protocol/apis/join-group.js'
import { ListGroups } from '../../src/protocol/apis/list-groups.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { NAME_BYTES_MAX } from '../../src/protocol/decode-limits.js'
import { ERROR } from '../../src/protocol/errors.js'
import { AUTO_CREATE_TOPICS_PER_REQUEST as AUTO_CREATED_TOPICS_PER_REQUEST_MAX } from '../../src/broker/topic-creator.js'
import { encodeRequestHeader } from '../../src/protocol/headers.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const CORRELATION_ID = 41

/** A request frame of a classic (non-flexible) version; `clientId` as raw bytes. */
function frame<Request> (api: ApiDefinition<Request, unknown>, version: number,
  request: Request, clientId: Buffer | null = null): Buffer {
  const writer = new Writer()
  writer.int32(0)
  if (clientId === null) {
    encodeRequestHeader(writer, { apiKey: api.key, apiVersion: version,
      correlationId: CORRELATION_ID, clientId: null }, false)
  } else {
    writer.int16(api.key).int16(version).int32(CORRELATION_ID).int16(clientId.length)
    writer.raw(clientId)
  }
  api.encodeRequest(writer, version, request)
  const bytes = writer.toBuffer()
  bytes.writeInt32BE(bytes.length - 4, 0)
  return bytes
}

/** A Metadata v1 request naming one topic of raw bytes (not necessarily UTF-8). */
function metadataV1Naming (name: Buffer): Buffer {
  const body = new Writer().int16(Metadata.key).int16(1).int32(CORRELATION_ID).int16(-1)
    .int32(1).int16(name.length).raw(name).toBuffer()
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

/** Sends one frame; the response body after its correlation id, or null if the broker closed. */
function exchange (port: number, bytes: Buffer, timeoutMs = 5000): Promise<Reader | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no answer and no close'))
    }, timeoutMs)
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        clearTimeout(timer)
        socket.destroy()
        const body = received.subarray(4, 4 + received.readInt32BE(0))
        assert.equal(body.readInt32BE(0), CORRELATION_ID)
        resolve(new Reader(body, 4))
      }
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(null)
    })
    socket.on('error', () => undefined)
    socket.write(bytes)
  })
}

describe('hostile strings against a real broker', () => {
  let broker: BrokerProcess
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '1' } })
  })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  async function assertAlive (): Promise<void> {
    const reader = await exchange(broker.kafkaPort, frame(Metadata, 1,
      { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false }))
    assert.ok(reader !== null, `the broker stopped answering:\n${broker.output()}`)
    assert.equal(broker.child.exitCode, null)
  }

  it('Metadata naming 11,000 bytes of 0xFF closes that connection, not the broker', async () => {
    const reader = await exchange(broker.kafkaPort, metadataV1Naming(Buffer.alloc(11_000, 0xff)))
    assert.equal(reader, null)
    await assertAlive()
    // The reason is logged (stdout may reach us a moment after the socket closed).
    for (let waitedMs = 0; !/decodes to 33000 bytes/.test(broker.output()) && waitedMs < 5000;
      waitedMs += 50) {
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    assert.match(broker.output(), /decodes to 33000 bytes/)
  })

  it('Metadata answers an illegal name with INVALID_TOPIC_EXCEPTION, auto-create or not',
    async () => {
      for (const allowAutoTopicCreation of [false, true]) {
        const names = ['bad name', 'x'.repeat(250), '\u00ff'.repeat(3000), '..']
        const reader = await exchange(broker.kafkaPort, frame(Metadata, 4, {
          topics: names.map(name => ({ topicId: Buffer.alloc(16), name })),
          allowAutoTopicCreation, includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        }))
        assert.ok(reader !== null)
        const response = Metadata.decodeResponse(reader, 4)
        assert.deepEqual(response.topics.map(topic => [topic.name, topic.errorCode]),
          names.map(name => [name, ERROR.INVALID_TOPIC_EXCEPTION]))
      }
    })

  it('Produce answers an illegal topic name with INVALID_TOPIC_EXCEPTION per partition',
    async () => {
      const records = buildRecordBatchSync([{ value: Buffer.from('v') }])
      const reader = await exchange(broker.kafkaPort, frame(Produce, 3, {
        transactionalId: null, acks: 1, timeoutMs: 5000,
        topicData: [{ name: 'no/slashes', partitionData: [{ index: 0, records },
          { index: 1, records }] }],
      }))
      assert.ok(reader !== null)
      const response = Produce.decodeResponse(reader, 3)
      assert.deepEqual(response.responses[0]?.partitionResponses.map(p => [p.index, p.errorCode]),
        [[0, ERROR.INVALID_TOPIC_EXCEPTION], [1, ERROR.INVALID_TOPIC_EXCEPTION]])
    })

  it('ListOffsets answers an illegal topic name with INVALID_TOPIC_EXCEPTION', async () => {
    const reader = await exchange(broker.kafkaPort, frame(ListOffsets, 1, {
      replicaId: -1, isolationLevel: 0,
      topics: [{ name: 'ünïcode', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1,
        timestamp: -1 }] }],
    }))
    assert.ok(reader !== null)
    const response = ListOffsets.decodeResponse(reader, 1)
    assert.equal(response.topics[0]?.name, 'ünïcode')
    assert.equal(response.topics[0]?.partitions[0]?.errorCode, ERROR.INVALID_TOPIC_EXCEPTION)
  })

  it('JoinGroup builds the member id from the longest client id allowed; longer ones are refused',
    async () => {
      const join = {
        groupId: 'hostile-group', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
        memberId: '', groupInstanceId: null, protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      }
      const longest = Buffer.alloc(NAME_BYTES_MAX, 0x63)
      const reader = await exchange(broker.kafkaPort, frame(JoinGroup, 4, join, longest))
      assert.ok(reader !== null)
      const response = JoinGroup.decodeResponse(reader, 4)
      assert.equal(response.errorCode, ERROR.MEMBER_ID_REQUIRED)
      assert.ok(response.memberId.startsWith(longest.toString()))

      // 0x7fff bytes of client id: a member id built from it could not be encoded.
      const tooLong = Buffer.alloc(0x7fff, 0x63)
      assert.equal(await exchange(broker.kafkaPort, frame(JoinGroup, 4, join, tooLong)), null)
      await assertAlive()
    })

  it('ListGroups still answers after an HTTP consumer group with a 33,000-byte id', async () => {
    // Over HTTP the id may be accepted (then it is left out of the Kafka listing: no Kafka
    // string can carry it) or refused with a 4xx once HTTP bounds its names; either way the
    // broker lives and ListGroups answers.
    const longId = 'g'.repeat(33_000)
    const topic = await fetch(`http://127.0.0.1:${broker.httpPort}/api/v1/topics`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'hostile-groups', partitions: 1 }),
    })
    assert.equal(topic.status, 201)
    const created = await fetch(`http://127.0.0.1:${broker.httpPort}/api/v1/consumer-groups`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ group_id: longId, topics: ['hostile-groups'],
        auto_offset_reset: 'earliest' }),
    })
    assert.ok(created.status < 500, `HTTP answered ${created.status}`)
    const reader = await exchange(broker.kafkaPort, frame(ListGroups, 2,
      { statesFilter: [], typesFilter: [] }))
    assert.ok(reader !== null, `ListGroups got no answer:\n${broker.output().slice(-2000)}`)
    const response = ListGroups.decodeResponse(reader, 2)
    assert.equal(response.errorCode, ERROR.NONE)
    assert.ok(response.groups.every(group => group.groupId !== longId))
    await assertAlive()
  })

  it('one Metadata request auto-creates a bounded number of topics; a retry gets the rest',
    async () => {
      const count = AUTO_CREATED_TOPICS_PER_REQUEST_MAX + 20
      const names = Array.from({ length: count }, (_, i) => `auto-${i}`)
      const request = frame(Metadata, 4, {
        topics: names.map(name => ({ topicId: Buffer.alloc(16), name })),
        allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      })
      const first = await exchange(broker.kafkaPort, request, 60_000)
      assert.ok(first !== null)
      const codes = Metadata.decodeResponse(first, 4).topics.map(topic => topic.errorCode)
      assert.equal(codes.filter(code => code === ERROR.NONE).length,
        AUTO_CREATED_TOPICS_PER_REQUEST_MAX)
      assert.deepEqual(codes.slice(AUTO_CREATED_TOPICS_PER_REQUEST_MAX),
        Array(20).fill(ERROR.LEADER_NOT_AVAILABLE))
      const retry = await exchange(broker.kafkaPort, request, 60_000)
      assert.ok(retry !== null)
      assert.ok(Metadata.decodeResponse(retry, 4).topics.every(topic =>
        topic.errorCode === ERROR.NONE))
    })
})
