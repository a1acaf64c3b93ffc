import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OffsetDelete } from '../../../src/protocol/apis/offset-delete.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, encode, PROTOCOL_SEED,
} from '../support/messages.js'

const REQUEST = { groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 3 }] },
  { name: 'u', partitions: [] }] }
const RESPONSE = { errorCode: 0, throttleTimeMs: 4, topics: [{ name: 't',
  partitions: [{ partitionIndex: 3, errorCode: 86 }] }] }

describe('OffsetDelete codec (version 0)', () => {
  it('round-trips requests and responses, with empty lists, and rejects truncations', () => {
    assertRoundTrip(OffsetDelete, 'request', 0, REQUEST)
    assertRoundTrip(OffsetDelete, 'request', 0, { groupId: '', topics: [] })
    assertRoundTrip(OffsetDelete, 'response', 0, RESPONSE)
    assertPrefixesRejected(OffsetDelete, 'request', 0, encode(OffsetDelete, 'request', 0, REQUEST))
    assertPrefixesRejected(OffsetDelete, 'response', 0,
      encode(OffsetDelete, 'response', 0, RESPONSE))
  })

  it(`round-trips random messages (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(OffsetDelete)
  })

  it('writes the error code before the throttle time, as Kafka does', () => {
    assert.equal(encode(OffsetDelete, 'response', 0, { ...RESPONSE, topics: [] })
      .toString('hex'), '0000' + '00000004' + '00000000')
    assert.equal(encode(OffsetDelete, 'request', 0, REQUEST).toString('hex'), '000167' +
      '00000002' + '000174' + '00000001' + '00000003' + '000175' + '00000000')
  })
})
