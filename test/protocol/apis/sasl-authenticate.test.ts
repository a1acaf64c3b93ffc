import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { SaslAuthenticate, type SaslAuthenticateRequest } from
  '../../../src/protocol/apis/sasl-authenticate.js'
import { ProtocolDecodeError, Reader } from '../../../src/protocol/reader.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const require = createRequire(import.meta.url)
const PLAIN_TOKEN = Buffer.from('\0alice\0secret')

describe('SaslAuthenticate codec (versions 0-2, flexible from 2)', () => {
  it('round-trips requests and responses, with empty bytes and null messages', () => {
    for (const version of versionsOf(SaslAuthenticate)) {
      assertRoundTrip(SaslAuthenticate, 'request', version, { authBytes: PLAIN_TOKEN })
      assertRoundTrip(SaslAuthenticate, 'request', version, { authBytes: Buffer.alloc(0) })
      const lifetime = version >= 1 ? 3_600_000 : 0
      const ok = { errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0),
        sessionLifetimeMs: lifetime }
      assertRoundTrip(SaslAuthenticate, 'response', version, ok)
      assertRoundTrip(SaslAuthenticate, 'response', version,
        { ...ok, errorCode: 58, errorMessage: 'bad password' })
      assertPrefixesRejected(SaslAuthenticate, 'response', version,
        encode(SaslAuthenticate, 'response', version, ok))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(SaslAuthenticate)
  })

  it('rejects null auth bytes, which the schema does not allow', () => {
    assert.throws(() => SaslAuthenticate.decodeRequest(
      new Reader(Buffer.from('ffffffff', 'hex')), 0), ProtocolDecodeError)
    assert.throws(() => SaslAuthenticate.decodeRequest(new Reader(Buffer.from('0000', 'hex')), 2),
      ProtocolDecodeError)
  })

  it('uses compact bytes and a tag buffer in v2', () => {
    assert.equal(encode(SaslAuthenticate, 'request', 2, { authBytes: Buffer.from('ab') })
      .toString('hex'), '03' + '6162' + '00')
  })

  it('decodes a kafkajs SaslAuthenticate v1 request and answers in a form kafkajs decodes',
    async () => {
      const Encoder = require('kafkajs/src/protocol/encoder.js') as
        new () => { writeBytes: (b: Buffer) => { buffer: Buffer } }
      // kafkajs's SASL mechanisms hand SaslAuthenticate an already length-prefixed token.
      const framed = new Encoder().writeBytes(PLAIN_TOKEN).buffer
      const { apiKey, body } = await kafkajsRequestBody('saslAuthenticate', 1,
        { authBytes: framed })
      assert.equal(apiKey, SaslAuthenticate.key)
      const decoded = decode(SaslAuthenticate, 'request', 1, body) as SaslAuthenticateRequest
      assert.deepEqual(decoded.authBytes, PLAIN_TOKEN)
      const answer = await kafkajsDecodeResponse('saslAuthenticate', 1, encode(SaslAuthenticate,
        'response', 1, { errorCode: 58, errorMessage: 'Authentication failed',
          authBytes: Buffer.alloc(0), sessionLifetimeMs: 1000 }))
      assert.equal(answer.errorCode, 58)
      assert.equal(answer.errorMessage, 'Authentication failed')
      assert.equal(answer.sessionLifetimeMs, '1000')
    })
})
