import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AddPartitionsToTxn } from '../../../src/protocol/apis/add-partitions-to-txn.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST = { transactions: [], v3AndBelowTransactionalId: 'tx', v3AndBelowProducerId: 4000,
  v3AndBelowProducerEpoch: 1, v3AndBelowTopics: [{ name: 't', partitions: [0, 2] }] }
const RESPONSE = { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [],
  resultsByTopicV3AndBelow: [{ name: 't', resultsByPartition: [
    { partitionIndex: 0, partitionErrorCode: 0 }, { partitionIndex: 2,
      partitionErrorCode: 48 }] }] }

/** v4+ (KIP-890): the batched broker-to-broker form; the v3-and-below fields are absent. */
const REQUEST_V4 = { transactions: [{ transactionalId: 'tx', producerId: 4000, producerEpoch: 1,
  verifyOnly: true, topics: [{ name: 't', partitions: [0, 2] }] }],
v3AndBelowTransactionalId: '', v3AndBelowProducerId: 0, v3AndBelowProducerEpoch: 0,
v3AndBelowTopics: [] }
const RESPONSE_V4 = { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [{
  transactionalId: 'tx', topicResults: [{ name: 't', resultsByPartition: [
    { partitionIndex: 0, partitionErrorCode: 0 }, { partitionIndex: 2,
      partitionErrorCode: 48 }] }] }],
resultsByTopicV3AndBelow: [] }

describe('AddPartitionsToTxn codec (versions 0-5)', () => {
  it('round-trips requests and responses at every version and rejects truncations', () => {
    for (const version of versionsOf(AddPartitionsToTxn)) {
      const request = version >= 4 ? REQUEST_V4 : REQUEST
      const response = version >= 4 ? RESPONSE_V4 : RESPONSE
      assertRoundTrip(AddPartitionsToTxn, 'request', version, request)
      assertRoundTrip(AddPartitionsToTxn, 'response', version, response)
      assertPrefixesRejected(AddPartitionsToTxn, 'request', version,
        encode(AddPartitionsToTxn, 'request', version, request))
      assertPrefixesRejected(AddPartitionsToTxn, 'response', version,
        encode(AddPartitionsToTxn, 'response', version, response))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(AddPartitionsToTxn)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('addPartitionsToTxn', version, {
        transactionalId: 'tx', producerId: '4000', producerEpoch: 1,
        topics: [{ topic: 't', partitions: [0, 2] }] })
      assert.equal(apiKey, AddPartitionsToTxn.key)
      assert.deepEqual(decode(AddPartitionsToTxn, 'request', version, body), REQUEST)
      const decoded = await kafkajsDecodeResponse('addPartitionsToTxn', version,
        encode(AddPartitionsToTxn, 'response', version, RESPONSE))
      assert.deepEqual(decoded.errors, [{ topic: 't', partitionErrors: [
        { partition: 0, errorCode: 0 }, { partition: 2, errorCode: 48 }] }])
    }
  })
})
