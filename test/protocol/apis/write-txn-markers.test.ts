import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WriteTxnMarkers } from '../../../src/protocol/apis/write-txn-markers.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST = { markers: [{ producerId: 4000, producerEpoch: 1, transactionResult: true,
  topics: [{ name: 't', partitionIndexes: [0, 1] }], coordinatorEpoch: 3 }] }
const RESPONSE = { markers: [{ producerId: 4000, topics: [{ name: 't', partitions: [
  { partitionIndex: 0, errorCode: 0 }] }] }] }

describe('WriteTxnMarkers codec (versions 0-1)', () => {
  it('round-trips requests and responses at every version and rejects truncations', () => {
    for (const version of versionsOf(WriteTxnMarkers)) {
      assertRoundTrip(WriteTxnMarkers, 'request', version, REQUEST)
      assertRoundTrip(WriteTxnMarkers, 'request', version, { markers: [] })
      assertRoundTrip(WriteTxnMarkers, 'response', version, RESPONSE)
      assertPrefixesRejected(WriteTxnMarkers, 'request', version,
        encode(WriteTxnMarkers, 'request', version, REQUEST))
      assertPrefixesRejected(WriteTxnMarkers, 'response', version,
        encode(WriteTxnMarkers, 'response', version, RESPONSE))
    }
    assert.equal(encode(WriteTxnMarkers, 'request', 1, { markers: [] }).toString('hex'), '0100')
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(WriteTxnMarkers)
  })
})
