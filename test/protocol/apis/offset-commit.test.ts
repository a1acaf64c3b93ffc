import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OffsetCommit, type OffsetCommitRequest, type OffsetCommitResponse } from
  '../../../src/protocol/apis/offset-commit.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function request (version: number): OffsetCommitRequest {
  return {
    groupId: 'g',
    generationIdOrMemberEpoch: version >= 1 ? 7 : -1,
    memberId: version >= 1 ? 'm-1' : '',
    groupInstanceId: version >= 7 ? 'i-1' : null,
    retentionTimeMs: version >= 2 && version <= 4 ? 86_400_000 : -1,
    topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, committedOffset: 2 ** 40, committedLeaderEpoch: version >= 6 ? 3 : -1,
        commitTimestamp: version === 1 ? 1_700_000_000_000 : -1, committedMetadata: null },
      { partitionIndex: 1, committedOffset: 0, committedLeaderEpoch: -1,
        commitTimestamp: -1, committedMetadata: 'meta' },
    ] }, { name: 'idle', partitions: [] }],
  }
}

function response (version: number): OffsetCommitResponse {
  return {
    throttleTimeMs: version >= 3 ? 9 : 0,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 },
      { partitionIndex: 1, errorCode: 22 }] }],
  }
}

describe('OffsetCommit codec (versions 0-9)', () => {
  it('round-trips requests and responses, with null metadata and empty arrays, at every version',
    () => {
      for (const version of versionsOf(OffsetCommit)) {
        assertRoundTrip(OffsetCommit, 'request', version, request(version))
        assertRoundTrip(OffsetCommit, 'request', version, { ...request(version), topics: [] })
        assertRoundTrip(OffsetCommit, 'response', version, response(version))
        assertRoundTrip(OffsetCommit, 'response', version, { ...response(version), topics: [] })
        assertPrefixesRejected(OffsetCommit, 'request', version,
          encode(OffsetCommit, 'request', version, request(version)))
        assertPrefixesRejected(OffsetCommit, 'response', version,
          encode(OffsetCommit, 'response', version, response(version)))
      }
    })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(OffsetCommit)
  })

  it('carries commit_timestamp only in v1, retention only in v2-v4, leader epoch from v6', () => {
    const sizes = versionsOf(OffsetCommit).map(version =>
      encode(OffsetCommit, 'request', version, { ...request(9), topics: [{ name: 't',
        partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: 1,
          commitTimestamp: 5, committedMetadata: null }] }] }).length)
    // v0 base; v1 +gen +member +timestamp; v2 -timestamp +retention; v5 -retention;
    // v6 +epoch; v7 +instance id; v8 compact (shorter lengths, tag bytes); v9 as v8.
    assert.deepEqual(sizes, [28, 45, 45, 45, 45, 37, 41, 46, 38, 38])
  })

  it('decodes kafkajs v0-v5 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1, 2, 3, 4, 5]) {
      const { apiKey, body } = await kafkajsRequestBody('offsetCommit', version, {
        groupId: 'kgroup', groupGenerationId: 3, memberId: 'm-1', retentionTime: 5000,
        topics: [{ topic: 'orders', partitions: [
          { partition: 2, offset: '1234567890123', timestamp: 77, metadata: null }] }],
      })
      assert.equal(apiKey, OffsetCommit.key)
      const decoded = decode(OffsetCommit, 'request', version, body) as OffsetCommitRequest
      assert.equal(decoded.groupId, 'kgroup')
      assert.equal(decoded.generationIdOrMemberEpoch, version >= 1 ? 3 : -1)
      assert.equal(decoded.memberId, version >= 1 ? 'm-1' : '')
      assert.equal(decoded.retentionTimeMs, version >= 2 && version <= 4 ? 5000 : -1)
      assert.deepEqual(decoded.topics, [{ name: 'orders', partitions: [{ partitionIndex: 2,
        committedOffset: 1234567890123, committedLeaderEpoch: -1,
        commitTimestamp: version === 1 ? 77 : -1, committedMetadata: null }] }])
      const parsed = await kafkajsDecodeResponse('offsetCommit', version,
        encode(OffsetCommit, 'response', version, response(version)))
      assert.deepEqual(parsed.responses, [{ topic: 'orders', partitions: [
        { partition: 0, errorCode: 0 }, { partition: 1, errorCode: 22 }] }])
    }
  })
})
