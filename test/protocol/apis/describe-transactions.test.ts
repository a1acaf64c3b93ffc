import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DescribeTransactions } from '../../../src/protocol/apis/describe-transactions.js'
import { ERROR } from '../../../src/protocol/errors.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, encode, PROTOCOL_SEED,
} from '../support/messages.js'

const RESPONSE = {
  throttleTimeMs: 0,
  transactionStates: [{ errorCode: 0, transactionalId: 'tx', transactionState: 'Ongoing',
    transactionTimeoutMs: 60_000, transactionStartTimeMs: 1_700_000_000_000,
    producerId: 4000, producerEpoch: 2, topics: [{ topic: 't', partitions: [0, 3] }] }],
}

describe('DescribeTransactions codec (version 0, flexible)', () => {
  it('round-trips a request and a response, and rejects truncations', () => {
    const request = assertRoundTrip(DescribeTransactions, 'request', 0,
      { transactionalIds: ['tx'] })
    // transactional_ids [tx], tags
    assert.equal(request.toString('hex'), '02' + '03' + '7478' + '00')
    assertRoundTrip(DescribeTransactions, 'response', 0, RESPONSE)
    assertPrefixesRejected(DescribeTransactions, 'response', 0,
      encode(DescribeTransactions, 'response', 0, RESPONSE))
  })

  it('answers an error for every id asked (Kafka getErrorResponse)', () => {
    const response = DescribeTransactions.errorResponse({ transactionalIds: ['a', 'b'] }, 0,
      ERROR.UNKNOWN_SERVER_ERROR)
    assert.deepEqual(response.transactionStates.map(s => [s.transactionalId, s.errorCode]),
      [['a', ERROR.UNKNOWN_SERVER_ERROR], ['b', ERROR.UNKNOWN_SERVER_ERROR]])
  })

  it(`round-trips random messages (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DescribeTransactions)
  })
})
