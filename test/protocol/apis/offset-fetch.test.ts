import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OffsetFetch, type OffsetFetchRequest, type OffsetFetchResponse } from
  '../../../src/protocol/apis/offset-fetch.js'
import { ProtocolDecodeError } from '../../../src/protocol/reader.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const TOPICS = [{ name: 'orders', partitionIndexes: [0, 1, 2] }, { name: 'idle',
  partitionIndexes: [] }]

function request (version: number, allTopics = false): OffsetFetchRequest {
  const multi = version >= 8
  return {
    groupId: multi ? '' : 'g',
    topics: multi ? [] : allTopics ? null : TOPICS,
    groups: multi
      ? [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: allTopics ? null : TOPICS },
          { groupId: 'h', memberId: null, memberEpoch: -1, topics: [] }]
      : [],
    requireStable: version >= 7,
  }
}

function partitions (version: number): OffsetFetchResponse['topics'] {
  return [{ name: 'orders', partitions: [
    { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: version >= 5 ? 1 : -1,
      metadata: null, errorCode: 0 },
    { partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: '',
      errorCode: 0 },
  ] }]
}

function response (version: number): OffsetFetchResponse {
  const multi = version >= 8
  return {
    throttleTimeMs: version >= 3 ? 1 : 0,
    topics: multi ? [] : partitions(version),
    errorCode: version >= 2 && !multi ? 16 : 0,
    groups: multi
      ? [{ groupId: 'g', topics: partitions(version), errorCode: 0 },
          { groupId: 'h', topics: [], errorCode: 69 }]
      : [],
  }
}

describe('OffsetFetch codec (versions 0-8)', () => {
  it('round-trips requests and responses, with null topic lists from v2, at every version',
    () => {
      for (const version of versionsOf(OffsetFetch)) {
        assertRoundTrip(OffsetFetch, 'request', version, request(version))
        if (version >= 2) assertRoundTrip(OffsetFetch, 'request', version, request(version, true))
        assertRoundTrip(OffsetFetch, 'response', version, response(version))
        assertRoundTrip(OffsetFetch, 'response', version,
          { ...response(version), topics: [], groups: [] })
        assertPrefixesRejected(OffsetFetch, 'request', version,
          encode(OffsetFetch, 'request', version, request(version)))
        assertPrefixesRejected(OffsetFetch, 'response', version,
          encode(OffsetFetch, 'response', version, response(version)))
      }
    })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(OffsetFetch)
  })

  it('rejects a null topic list in v0 and v1, where Kafka does not allow it', () => {
    for (const version of [0, 1]) {
      assert.throws(() => decode(OffsetFetch, 'request', version,
        Buffer.from('000167ffffffff', 'hex')), ProtocolDecodeError)
    }
    assert.equal((decode(OffsetFetch, 'request', 2, Buffer.from('000167ffffffff', 'hex')) as
      OffsetFetchRequest).topics, null)
  })

  it('moves group id and topics into a groups array in v8', () => {
    const v7 = encode(OffsetFetch, 'request', 7, request(7, true))
    assert.equal(v7.toString('hex'), '0267' + '00' + '01' + '00')
    const v8 = encode(OffsetFetch, 'request', 8, { ...request(8, true),
      groups: [{ groupId: 'g', topics: null }] })
    assert.equal(v8.toString('hex'), '02' + '0267' + '00' + '00' + '01' + '00')
    const v8Response = encode(OffsetFetch, 'response', 8, { ...response(8),
      groups: [{ groupId: 'g', topics: [], errorCode: 16 }] })
    assert.equal(v8Response.toString('hex'), '00000001' + '02' + '0267' + '01' + '0010' + '00' +
      '00')
  })

  it('decodes kafkajs v1-v4 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [1, 2, 3, 4]) {
      const { apiKey, body } = await kafkajsRequestBody('offsetFetch', version, {
        groupId: 'kgroup', topics: [{ topic: 'orders', partitions: [{ partition: 0 },
          { partition: 3 }] }],
      })
      assert.equal(apiKey, OffsetFetch.key)
      const decoded = decode(OffsetFetch, 'request', version, body) as OffsetFetchRequest
      assert.equal(decoded.groupId, 'kgroup')
      assert.deepEqual(decoded.topics, [{ name: 'orders', partitionIndexes: [0, 3] }])
      const parsed = await kafkajsDecodeResponse('offsetFetch', version,
        encode(OffsetFetch, 'response', version, response(version)))
      assert.deepEqual(parsed.responses, [{ topic: 'orders', partitions: [
        { partition: 0, offset: '42', metadata: null, errorCode: 0 },
        { partition: 1, offset: '-1', metadata: '', errorCode: 0 }] }])
      if (version >= 2) assert.equal(parsed.errorCode, 16)
    }
  })
})
