import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TxnOffsetCommit, type TxnOffsetCommitRequest } from
  '../../../src/protocol/apis/txn-offset-commit.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function request (version: number): TxnOffsetCommitRequest {
  return {
    transactionalId: 'tx', groupId: 'g', producerId: 4000, producerEpoch: 2,
    generationId: version >= 3 ? 5 : -1, memberId: version >= 3 ? 'm' : '',
    groupInstanceId: null,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 10,
      committedLeaderEpoch: version >= 2 ? 1 : -1, committedMetadata: null }] }],
  }
}
const RESPONSE = { throttleTimeMs: 0, topics: [{ name: 't', partitions: [
  { partitionIndex: 0, errorCode: 0 }] }] }

describe('TxnOffsetCommit codec (versions 0-3)', () => {
  it('round-trips requests and responses at every version and rejects truncations', () => {
    for (const version of versionsOf(TxnOffsetCommit)) {
      assertRoundTrip(TxnOffsetCommit, 'request', version, request(version))
      assertRoundTrip(TxnOffsetCommit, 'response', version, RESPONSE)
      assertPrefixesRejected(TxnOffsetCommit, 'request', version,
        encode(TxnOffsetCommit, 'request', version, request(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(TxnOffsetCommit)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('txnOffsetCommit', version, {
        transactionalId: 'tx', groupId: 'g', producerId: '4000', producerEpoch: 2,
        topics: [{ topic: 't', partitions: [{ partition: 0, offset: '10', metadata: null }] }] })
      assert.equal(apiKey, TxnOffsetCommit.key)
      assert.deepEqual(decode(TxnOffsetCommit, 'request', version, body), request(version))
      const decoded = await kafkajsDecodeResponse('txnOffsetCommit', version,
        encode(TxnOffsetCommit, 'response', version, RESPONSE))
      assert.deepEqual(decoded.topics, [{ topic: 't', partitions: [
        { partition: 0, errorCode: 0 }] }])
    }
  })
})
