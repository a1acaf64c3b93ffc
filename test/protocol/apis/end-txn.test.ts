import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EndTxn } from '../../../src/protocol/apis/end-txn.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST = { transactionalId: 'tx', producerId: 4000, producerEpoch: 2, committed: true }
const RESPONSE = { throttleTimeMs: 0, errorCode: 0, producerId: -1, producerEpoch: -1 }

describe('EndTxn codec (versions 0-3)', () => {
  it('round-trips requests and responses at every version and rejects truncations', () => {
    for (const version of versionsOf(EndTxn)) {
      assertRoundTrip(EndTxn, 'request', version, REQUEST)
      assertRoundTrip(EndTxn, 'request', version, { ...REQUEST, committed: false })
      assertRoundTrip(EndTxn, 'response', version, RESPONSE)
      assertPrefixesRejected(EndTxn, 'request', version,
        encode(EndTxn, 'request', version, REQUEST))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(EndTxn)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('endTxn', version, {
        transactionalId: 'tx', producerId: '4000', producerEpoch: 2, transactionResult: true })
      assert.equal(apiKey, EndTxn.key)
      assert.deepEqual(decode(EndTxn, 'request', version, body), REQUEST)
      const decoded = await kafkajsDecodeResponse('endTxn', version,
        encode(EndTxn, 'response', version, RESPONSE))
      assert.equal(decoded.errorCode, 0)
    }
  })
})
