import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InitProducerId, type InitProducerIdRequest } from
  '../../../src/protocol/apis/init-producer-id.js'
import { kafkajsParseResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

describe('InitProducerId codec (versions 0-4)', () => {
  it('round-trips requests with and without a transactional id, and responses', () => {
    for (const version of versionsOf(InitProducerId)) {
      const epochBump = version >= 3 ? { producerId: 1000, producerEpoch: 4 }
        : { producerId: -1, producerEpoch: -1 }
      assertRoundTrip(InitProducerId, 'request', version,
        { transactionalId: null, transactionTimeoutMs: 60000, ...epochBump })
      assertRoundTrip(InitProducerId, 'request', version,
        { transactionalId: 'tx-1', transactionTimeoutMs: 60000, ...epochBump })
      assertRoundTrip(InitProducerId, 'response', version,
        { throttleTimeMs: 0, errorCode: 0, producerId: 4000, producerEpoch: 0 })
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(InitProducerId)
  })

  it('is flexible from v2 and carries the KIP-360 producer id and epoch from v3', () => {
    const request = { transactionalId: null, transactionTimeoutMs: 1, producerId: 5,
      producerEpoch: 6 }
    assert.equal(encode(InitProducerId, 'request', 1, request).toString('hex'),
      'ffff' + '00000001')
    assert.equal(encode(InitProducerId, 'request', 2, request).toString('hex'),
      '00' + '00000001' + '00')
    assert.equal(encode(InitProducerId, 'request', 3, request).toString('hex'),
      '00' + '00000001' + '0000000000000005' + '0006' + '00')
    assertPrefixesRejected(InitProducerId, 'request', 4, encode(InitProducerId, 'request', 4,
      request))
    assertPrefixesRejected(InitProducerId, 'response', 1, encode(InitProducerId, 'response', 1,
      { throttleTimeMs: 0, errorCode: 0, producerId: 1, producerEpoch: 0 }))
  })

  it('decodes a kafkajs InitProducerId v1 request and answers in a form kafkajs parses',
    async () => {
      const { apiKey, body } = await kafkajsRequestBody('initProducerId', 1,
        { transactionalId: 'tx', transactionTimeout: 30000 })
      assert.equal(apiKey, InitProducerId.key)
      assert.deepEqual(decode(InitProducerId, 'request', 1, body) as InitProducerIdRequest, {
        transactionalId: 'tx', transactionTimeoutMs: 30000, producerId: -1, producerEpoch: -1,
      })
      const parsed = await kafkajsParseResponse('initProducerId', 1, encode(InitProducerId,
        'response', 1, { throttleTimeMs: 0, errorCode: 0, producerId: 123456789012,
          producerEpoch: 2 }))
      assert.equal(parsed.producerId, '123456789012')
      assert.equal(parsed.producerEpoch, 2)
    })
})
