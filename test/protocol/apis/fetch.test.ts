import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  Fetch, NO_CURRENT_LEADER, NO_DIVERGING_EPOCH, NO_REPLICA_STATE, type FetchRequest,
  type FetchResponse,
} from '../../../src/protocol/apis/fetch.js'
import { Writer } from '../../../src/protocol/writer.js'
import { buildRecordBatchSync } from '../../../src/records/builder.js'
import { kafkajsDecodeResponse, kafkajsRecordBatch, kafkajsRequestBody } from
  '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const ZERO_ID = Buffer.alloc(16)
const TOPIC_ID = Buffer.from('00112233445566778899aabbccddeeff', 'hex')

function request (version: number): FetchRequest {
  return {
    replicaId: version <= 14 ? 5 : -1,
    // KIP-903: from v15 the replica id travels in the tagged replica_state.
    replicaState: version >= 15 ? { replicaId: 5, replicaEpoch: 7 } : NO_REPLICA_STATE,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52428800,
    isolationLevel: 1,
    sessionId: version >= 7 ? 99 : 0,
    sessionEpoch: version >= 7 ? 3 : -1,
    topics: [{
      topic: version <= 12 ? 'orders' : '',
      topicId: version >= 13 ? TOPIC_ID : ZERO_ID,
      partitions: [{
        partition: 0,
        currentLeaderEpoch: version >= 9 ? 4 : -1,
        fetchOffset: 1234,
        lastFetchedEpoch: version >= 12 ? 2 : -1,
        logStartOffset: version >= 5 ? 0 : -1,
        partitionMaxBytes: 1048576,
      }],
    }, { topic: version <= 12 ? 'idle' : '', topicId: ZERO_ID, partitions: [] }],
    forgottenTopicsData: version >= 7
      ? [{ topic: version <= 12 ? 'gone' : '', topicId: version >= 13 ? TOPIC_ID : ZERO_ID,
          partitions: [1, 2] }]
      : [],
    rackId: version >= 11 ? 'rack-a' : '',
  }
}

function response (version: number, records: Buffer): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: version >= 7 ? 99 : 0,
    responses: [{
      topic: version <= 12 ? 'orders' : '',
      topicId: version >= 13 ? TOPIC_ID : ZERO_ID,
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 10,
        lastStableOffset: 8,
        logStartOffset: version >= 5 ? 0 : -1,
        abortedTransactions: [{ producerId: 7, firstOffset: 3 }],
        preferredReadReplica: -1,
        records,
        divergingEpoch: NO_DIVERGING_EPOCH,
        currentLeader: NO_CURRENT_LEADER,
      }, {
        partitionIndex: 1,
        errorCode: 1,
        highWatermark: 0,
        lastStableOffset: 0,
        logStartOffset: version >= 5 ? 0 : -1,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: Buffer.alloc(0),
        // KIP-320: a follower whose log diverges gets where to truncate instead of records.
        divergingEpoch: version >= 12 ? { epoch: 3, endOffset: 17 } : NO_DIVERGING_EPOCH,
        currentLeader: version >= 12 ? { leaderId: 2, leaderEpoch: 4 } : NO_CURRENT_LEADER,
      }],
    }],
  }
}

describe('Fetch codec (versions 4-18)', () => {
  it('round-trips requests and responses, with null aborted transactions, at every version',
    () => {
      const batch = buildRecordBatchSync([{ key: 'k', value: 'v' }])
      for (const version of versionsOf(Fetch)) {
        assertRoundTrip(Fetch, 'request', version, request(version))
        assertRoundTrip(Fetch, 'response', version, response(version, batch))
        const empty = { ...response(version, batch), responses: [] }
        assertRoundTrip(Fetch, 'response', version, empty)
      }
    })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(Fetch)
  })

  it('encodes null or empty records as size 0, never as null (-1)', () => {
    for (const version of [4, 11, 12]) {
      for (const records of [null, Buffer.alloc(0)]) {
        const message = response(version, Buffer.alloc(0))
        const partition = message.responses[0]?.partitions[0]
        assert.ok(partition !== undefined)
        partition.records = records
        const bytes = encode(Fetch, 'response', version, message)
        const decoded = decode(Fetch, 'response', version, bytes) as FetchResponse
        assert.deepEqual(decoded.responses[0]?.partitions[0]?.records, Buffer.alloc(0))
      }
    }
    const untagged = (version: number): FetchResponse => {
      const message = response(version, Buffer.alloc(0))
      for (const partition of message.responses[0]?.partitions ?? []) {
        partition.divergingEpoch = NO_DIVERGING_EPOCH
        partition.currentLeader = NO_CURRENT_LEADER
      }
      return message
    }
    const classic = encode(Fetch, 'response', 11, untagged(11))
    assert.equal(classic.subarray(classic.length - 4).toString('hex'), '00000000')
    const flexible = encode(Fetch, 'response', 12, untagged(12))
    // compact bytes of length 0 (uvarint 1), then partition, topic and top-level tag buffers.
    assert.equal(flexible.subarray(flexible.length - 4).toString('hex'), '01000000')
  })

  it('passes large record sets by reference instead of copying them', () => {
    const records = Buffer.alloc(64 * 1024, 1)
    const writer = new Writer()
    Fetch.encodeResponse(writer, 11, response(11, records))
    assert.ok(writer.toChunks().some(chunk => chunk === records))
  })

  it('rejects every truncation of a request and a response', () => {
    const batch = buildRecordBatchSync([{ key: 'k', value: 'v' }])
    for (const version of [4, 7, 11, 12]) {
      assertPrefixesRejected(Fetch, 'request', version,
        encode(Fetch, 'request', version, request(version)))
      assertPrefixesRejected(Fetch, 'response', version,
        encode(Fetch, 'response', version, response(version, batch)))
    }
  })

  it('decodes a kafkajs Fetch v11 request with a session and forgotten topics', async () => {
    const { apiKey, body } = await kafkajsRequestBody('fetch', 11, {
      replicaId: -1, maxWaitTime: 5000, minBytes: 1, maxBytes: 10485760, isolationLevel: 1,
      sessionId: 12, sessionEpoch: 2, rackId: 'r1',
      topics: [{ topic: 'orders', partitions: [
        { partition: 3, currentLeaderEpoch: 5, fetchOffset: '77', logStartOffset: '-1',
          maxBytes: 1048576 }] }],
      forgottenTopics: [{ topic: 'old', partitions: [0, 1] }],
    })
    assert.equal(apiKey, Fetch.key)
    const decoded = decode(Fetch, 'request', 11, body) as FetchRequest
    assert.equal(decoded.maxWaitMs, 5000)
    assert.equal(decoded.maxBytes, 10485760)
    assert.equal(decoded.isolationLevel, 1)
    assert.equal(decoded.sessionId, 12)
    assert.equal(decoded.sessionEpoch, 2)
    assert.equal(decoded.rackId, 'r1')
    assert.deepEqual(decoded.topics[0]?.partitions[0], {
      partition: 3, currentLeaderEpoch: 5, fetchOffset: 77, lastFetchedEpoch: -1,
      logStartOffset: -1, partitionMaxBytes: 1048576,
    })
    assert.deepEqual(decoded.forgottenTopicsData,
      [{ topic: 'old', topicId: ZERO_ID, partitions: [0, 1] }])
  })

  it('encodes a Fetch v11 response that kafkajs decodes, with a kafkajs-built record batch',
    async () => {
      const batch = await kafkajsRecordBatch([{ key: 'a', value: 'hello' },
        { key: 'b', value: 'world' }], 5)
      const body = encode(Fetch, 'response', 11, response(11, batch))
      const decoded = await kafkajsDecodeResponse('fetch', 11, body)
      assert.equal(decoded.errorCode, 0)
      assert.equal(decoded.sessionId, 99)
      assert.equal(decoded.responses[0].topicName, 'orders')
      const [full, empty] = decoded.responses[0].partitions
      assert.equal(full.highWatermark, '10')
      assert.equal(full.lastStableOffset, '8')
      assert.equal(full.lastStartOffset, '0')
      assert.deepEqual(full.abortedTransactions, [{ producerId: '7', firstOffset: '3' }])
      assert.equal(full.preferredReadReplica, -1)
      assert.deepEqual(full.messages.map((m: any) => [m.offset, m.key.toString(),
        m.value.toString()]), [['5', 'a', 'hello'], ['6', 'b', 'world']])
      assert.equal(empty.errorCode, 1)
      assert.deepEqual(empty.abortedTransactions, [])
      assert.equal(empty.messages.length, 0)
    })
})
