import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ListOffsets, type ListOffsetsRequest, type ListOffsetsResponse } from
  '../../../src/protocol/apis/list-offsets.js'
import { kafkajsParseResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function request (version: number): ListOffsetsRequest {
  return {
    replicaId: -1,
    isolationLevel: version >= 2 ? 1 : 0,
    topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, currentLeaderEpoch: version >= 4 ? 2 : -1, timestamp: -1 },
      { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: 1_700_000_000_000 },
    ] }, { name: 'none', partitions: [] }],
    timeoutMs: version >= 10 ? 15000 : 30000,
  }
}

function response (version: number): ListOffsetsResponse {
  return {
    throttleTimeMs: version >= 2 ? 3 : 0,
    topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 120,
        leaderEpoch: version >= 4 ? 2 : -1 },
    ] }],
  }
}

describe('ListOffsets codec (versions 1-10)', () => {
  it('round-trips requests and responses, with empty arrays, at every version', () => {
    for (const version of versionsOf(ListOffsets)) {
      assertRoundTrip(ListOffsets, 'request', version, request(version))
      assertRoundTrip(ListOffsets, 'request', version, { ...request(version), topics: [] })
      assertRoundTrip(ListOffsets, 'response', version, response(version))
      assertRoundTrip(ListOffsets, 'response', version, { ...response(version), topics: [] })
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(ListOffsets)
  })

  it('lays out v1 without isolation level and v6 in the flexible encoding', () => {
    const v1 = encode(ListOffsets, 'request', 1, { ...request(1), topics: [] })
    assert.equal(v1.toString('hex'), 'ffffffff' + '00000000')
    const v6 = encode(ListOffsets, 'request', 6, { ...request(6), topics: [] })
    assert.equal(v6.toString('hex'), 'ffffffff' + '01' + '01' + '00')
  })

  it('rejects every truncation of a request and a response', () => {
    for (const version of [1, 3, 4, 6, 7, 10]) {
      assertPrefixesRejected(ListOffsets, 'request', version,
        encode(ListOffsets, 'request', version, request(version)))
      assertPrefixesRejected(ListOffsets, 'response', version,
        encode(ListOffsets, 'response', version, response(version)))
    }
  })

  it('decodes kafkajs ListOffsets v1 and v3 requests', async () => {
    const topics = [{ topic: 'orders', partitions: [{ partition: 4, timestamp: -2 }] }]
    const v3 = await kafkajsRequestBody('listOffsets', 3,
      { replicaId: -1, isolationLevel: 1, topics })
    assert.equal(v3.apiKey, ListOffsets.key)
    assert.deepEqual(decode(ListOffsets, 'request', 3, v3.body), {
      replicaId: -1, isolationLevel: 1, topics: [{ name: 'orders', partitions: [
        { partitionIndex: 4, currentLeaderEpoch: -1, timestamp: -2 }] }],
      timeoutMs: 30000,
    })
    const v1 = await kafkajsRequestBody('listOffsets', 1, { replicaId: -1, topics })
    const decoded = decode(ListOffsets, 'request', 1, v1.body) as ListOffsetsRequest
    assert.equal(decoded.topics[0]?.partitions[0]?.timestamp, -2)
  })

  it('encodes a ListOffsets v3 response that kafkajs parses', async () => {
    const parsed = await kafkajsParseResponse('listOffsets', 3,
      encode(ListOffsets, 'response', 3, response(3)))
    assert.deepEqual(parsed.responses, [{ topic: 'orders', partitions: [
      { partition: 0, errorCode: 0, timestamp: '-1', offset: '120' }] }])
    assert.equal(parsed.clientSideThrottleTime, 3)
  })
})
