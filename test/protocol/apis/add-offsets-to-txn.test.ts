import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AddOffsetsToTxn } from '../../../src/protocol/apis/add-offsets-to-txn.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST = { transactionalId: 'tx', producerId: 4000, producerEpoch: 2, groupId: 'g' }

describe('AddOffsetsToTxn codec (versions 0-3)', () => {
  it('round-trips requests and responses at every version and rejects truncations', () => {
    for (const version of versionsOf(AddOffsetsToTxn)) {
      assertRoundTrip(AddOffsetsToTxn, 'request', version, REQUEST)
      assertRoundTrip(AddOffsetsToTxn, 'response', version, { throttleTimeMs: 1, errorCode: 51 })
      assertPrefixesRejected(AddOffsetsToTxn, 'request', version,
        encode(AddOffsetsToTxn, 'request', version, REQUEST))
    }
    assert.equal(encode(AddOffsetsToTxn, 'request', 3, REQUEST).toString('hex'),
      '037478' + '0000000000000fa0' + '0002' + '0267' + '00')
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(AddOffsetsToTxn)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('addOffsetsToTxn', version,
        { transactionalId: 'tx', producerId: '4000', producerEpoch: 2, groupId: 'g' })
      assert.equal(apiKey, AddOffsetsToTxn.key)
      assert.deepEqual(decode(AddOffsetsToTxn, 'request', version, body), REQUEST)
      const decoded = await kafkajsDecodeResponse('addOffsetsToTxn', version,
        encode(AddOffsetsToTxn, 'response', version, { throttleTimeMs: 0, errorCode: 0 }))
      assert.equal(decoded.errorCode, 0)
    }
  })
})
