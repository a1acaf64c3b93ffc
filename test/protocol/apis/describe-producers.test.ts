import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DescribeProducers } from '../../../src/protocol/apis/describe-producers.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, encode, PROTOCOL_SEED,
} from '../support/messages.js'

const RESPONSE = {
  throttleTimeMs: 0,
  topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, errorMessage: null,
    activeProducers: [{ producerId: 4000, producerEpoch: 1, lastSequence: 9,
      lastTimestamp: 1_700_000_000_000, coordinatorEpoch: -1, currentTxnStartOffset: -1 }] }] }],
}

describe('DescribeProducers codec (version 0, flexible)', () => {
  it('round-trips a request and a response, and rejects truncations', () => {
    const request = assertRoundTrip(DescribeProducers, 'request', 0,
      { topics: [{ name: 't', partitionIndexes: [0, 2] }] })
    // topics [t, partitions [0, 2], tags], tags
    assert.equal(request.toString('hex'), '02' + '0274' + '03' + '00000000' + '00000002' + '00' +
      '00')
    assertRoundTrip(DescribeProducers, 'response', 0, RESPONSE)
    assertPrefixesRejected(DescribeProducers, 'response', 0,
      encode(DescribeProducers, 'response', 0, RESPONSE))
  })

  it(`round-trips random messages (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DescribeProducers)
  })
})
