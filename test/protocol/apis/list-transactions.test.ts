import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ListTransactions } from '../../../src/protocol/apis/list-transactions.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode,
  PROTOCOL_SEED,
} from '../support/messages.js'

const RESPONSE = {
  throttleTimeMs: 0, errorCode: 0, unknownStateFilters: ['Bogus'],
  transactionStates: [{ transactionalId: 'tx', producerId: 4000, transactionState: 'Ongoing' }],
}

describe('ListTransactions codec (versions 0-2, flexible)', () => {
  it('round-trips requests at every version; older versions drop the newer filters', () => {
    const request = { stateFilters: ['Ongoing'], producerIdFilters: [7], durationFilter: 1000,
      transactionalIdPattern: 'tx-.*' }
    assertRoundTrip(ListTransactions, 'request', 2, request)
    assert.deepEqual(decode(ListTransactions, 'request', 1,
      encode(ListTransactions, 'request', 1, request)),
    { ...request, transactionalIdPattern: null })
    const v0 = encode(ListTransactions, 'request', 0, request)
    // state_filters [Ongoing], producer_id_filters [7], tags
    assert.equal(v0.toString('hex'), '02' + '08' + Buffer.from('Ongoing').toString('hex') +
      '02' + '0000000000000007' + '00')
    assert.deepEqual(decode(ListTransactions, 'request', 0, v0),
      { ...request, durationFilter: -1, transactionalIdPattern: null })
    assertRoundTrip(ListTransactions, 'request', 2, { ...request, transactionalIdPattern: null })
  })

  it('round-trips a response and rejects truncations', () => {
    for (const version of [0, 1, 2]) {
      assertRoundTrip(ListTransactions, 'response', version, RESPONSE)
      assertPrefixesRejected(ListTransactions, 'response', version,
        encode(ListTransactions, 'response', version, RESPONSE))
    }
  })

  it(`round-trips random messages (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(ListTransactions)
  })
})
