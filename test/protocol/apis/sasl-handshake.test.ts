import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SaslHandshake } from '../../../src/protocol/apis/sasl-handshake.js'
import { ProtocolDecodeError, Reader } from '../../../src/protocol/reader.js'
import { kafkajsParseResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

describe('SaslHandshake codec (versions 0-1, never flexible)', () => {
  it('round-trips requests and responses, with an empty mechanism list, at every version', () => {
    for (const version of versionsOf(SaslHandshake)) {
      assertRoundTrip(SaslHandshake, 'request', version, { mechanism: 'PLAIN' })
      assertRoundTrip(SaslHandshake, 'response', version,
        { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] })
      assertRoundTrip(SaslHandshake, 'response', version, { errorCode: 33, mechanisms: [] })
      assertPrefixesRejected(SaslHandshake, 'response', version, encode(SaslHandshake,
        'response', version, { errorCode: 0, mechanisms: ['PLAIN'] }))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(SaslHandshake)
  })

  it('rejects a null mechanism, which Kafka does not allow', () => {
    assert.throws(() => SaslHandshake.decodeRequest(new Reader(Buffer.from('ffff', 'hex')), 1),
      ProtocolDecodeError)
  })

  it('decodes kafkajs SaslHandshake v0 and v1 requests and answers in a form kafkajs parses',
    async () => {
      for (const version of [0, 1]) {
        const { apiKey, body } = await kafkajsRequestBody('saslHandshake', version,
          { mechanism: 'SCRAM-SHA-512' })
        assert.equal(apiKey, SaslHandshake.key)
        assert.deepEqual(decode(SaslHandshake, 'request', version, body),
          { mechanism: 'SCRAM-SHA-512' })
        const parsed = await kafkajsParseResponse('saslHandshake', version, encode(
          SaslHandshake, 'response', version, { errorCode: 0, mechanisms: ['SCRAM-SHA-512'] }))
        assert.deepEqual(parsed.enabledMechanisms, ['SCRAM-SHA-512'])
      }
    })
})
