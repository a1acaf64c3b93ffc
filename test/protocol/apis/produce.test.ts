import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Produce, type ProduceRequest, type ProduceResponse } from
  '../../../src/protocol/apis/produce.js'
import { batchCrcMatches, readBatchHeader } from '../../../src/records/batch-header.js'
import { decodeRecordBatch } from '../../../src/records/batch.js'
import { kafkajsParseResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const ZERO_ID = Buffer.alloc(16)
const TOPIC_ID = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
const byName = (version: number, name: string): string => version <= 12 ? name : ''
const byId = (version: number, id: Buffer): Buffer => version >= 13 ? id : ZERO_ID

function request (version: number): ProduceRequest {
  return {
    transactionalId: version >= 3 ? 'txn-1' : null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      { name: byName(version, 'orders'), topicId: byId(version, TOPIC_ID),
        partitionData: [{ index: 0, records: Buffer.from('batch-bytes') },
          { index: 1, records: null }] },
      { name: byName(version, 'empty'), topicId: ZERO_ID, partitionData: [] },
    ],
  }
}

function response (version: number): ProduceResponse {
  return {
    responses: [{
      name: byName(version, 'orders'),
      topicId: byId(version, TOPIC_ID),
      partitionResponses: [{
        index: 0,
        errorCode: 0,
        baseOffset: 42,
        logAppendTimeMs: -1,
        logStartOffset: version >= 5 ? 7 : -1,
        recordErrors: version >= 8 ? [{ batchIndex: 3, batchIndexErrorMessage: null }] : [],
        errorMessage: version >= 8 ? 'bad record' : null,
      }],
    }],
    throttleTimeMs: 5,
  }
}

describe('Produce codec (versions 3-13)', () => {
  it('round-trips requests and responses with nulls and empty arrays at every version', () => {
    for (const version of versionsOf(Produce)) {
      assertRoundTrip(Produce, 'request', version, request(version))
      assertRoundTrip(Produce, 'request', version,
        { transactionalId: null, acks: 1, timeoutMs: 0, topicData: [] })
      assertRoundTrip(Produce, 'response', version, response(version))
      assertRoundTrip(Produce, 'response', version, { responses: [], throttleTimeMs: 0 })
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(Produce)
  })

  it('puts throttle_time_ms after the responses array', () => {
    const bytes = encode(Produce, 'response', 7, { responses: [], throttleTimeMs: 0x01020304 })
    assert.equal(bytes.toString('hex'), '00000000' + '01020304')
  })

  it('uses compact strings, arrays and tagged fields from version 9', () => {
    const bytes = encode(Produce, 'request', 9,
      { transactionalId: null, acks: 1, timeoutMs: 100, topicData: [] })
    // null compact string, acks, timeout, empty compact array, no tagged fields.
    assert.equal(bytes.toString('hex'), '00' + '0001' + '00000064' + '01' + '00')
  })

  it('rejects every truncation of a request and a response', () => {
    for (const version of [3, 7, 8, 9]) {
      assertPrefixesRejected(Produce, 'request', version,
        encode(Produce, 'request', version, request(version)))
      assertPrefixesRejected(Produce, 'response', version,
        encode(Produce, 'response', version, response(version)))
    }
  })

  it('decodes a kafkajs Produce v7 request carrying a real record batch', async () => {
    const { apiKey, body } = await kafkajsRequestBody('produce', 7, {
      transactionalId: 'tx', acks: -1, timeout: 1000, compression: 0,
      topicData: [{ topic: 'orders', partitions: [{ partition: 2, firstSequence: 0,
        messages: [{ key: 'k1', value: 'v1', timestamp: 1_700_000_000_000 },
          { key: 'k2', value: 'v2', timestamp: 1_700_000_000_001 }] }] }],
    })
    assert.equal(apiKey, Produce.key)
    const decoded = decode(Produce, 'request', 7, body) as ProduceRequest
    assert.equal(decoded.transactionalId, 'tx')
    assert.equal(decoded.acks, -1)
    assert.equal(decoded.timeoutMs, 1000)
    assert.equal(decoded.topicData.length, 1)
    assert.equal(decoded.topicData[0]?.name, 'orders')
    const partition = decoded.topicData[0]?.partitionData[0]
    assert.equal(partition?.index, 2)
    const records = partition?.records
    assert.ok(records !== null && records !== undefined)
    const header = readBatchHeader(records)
    assert.equal(header.magic, 2)
    assert.equal(header.recordsCount, 2)
    assert.equal(header.batchLength + 12, records.length)
    assert.ok(batchCrcMatches(records, 0, records.length))
    const batch = await decodeRecordBatch(records)
    assert.deepEqual(batch.records.map(r => [r.key?.toString(), r.value?.toString()]),
      [['k1', 'v1'], ['k2', 'v2']])
  })

  it('encodes a Produce v7 response that kafkajs parses', async () => {
    const body = encode(Produce, 'response', 7, response(7))
    const parsed = await kafkajsParseResponse('produce', 7, body)
    assert.equal(parsed.topics[0].topicName, 'orders')
    const partition = parsed.topics[0].partitions[0]
    assert.equal(partition.partition, 0)
    assert.equal(partition.errorCode, 0)
    assert.equal(partition.baseOffset, '42')
    assert.equal(partition.logAppendTime, '-1')
    assert.equal(partition.logStartOffset, '7')
    assert.equal(parsed.clientSideThrottleTime, 5)
  })
})
