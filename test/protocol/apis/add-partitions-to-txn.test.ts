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

describe('AddPartitionsToTxn codec (versions 0-3)', () => {
  it('round-trips requests and responses at every version and rejects truncations', () => {
    for (const version of versionsOf(AddPartitionsToTxn)) {
      assertRoundTrip(AddPartitionsToTxn, 'request', version, REQUEST)
      assertRoundTrip(AddPartitionsToTxn, 'response', version, RESPONSE)
      assertPrefixesRejected(AddPartitionsToTxn, 'request', version,
        encode(AddPartitionsToTxn, 'request', version, REQUEST))
      assertPrefixesRejected(AddPartitionsToTxn, 'response', version,
        encode(AddPartitionsToTxn, 'response', version, RESPONSE))
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
