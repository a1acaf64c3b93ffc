import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Heartbeat, type HeartbeatRequest } from '../../../src/protocol/apis/heartbeat.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function request (version: number, instance: string | null): HeartbeatRequest {
  return { groupId: 'g', generationId: 2, memberId: 'm-1',
    groupInstanceId: version >= 3 ? instance : null }
}

describe('Heartbeat codec (versions 0-4)', () => {
  it('round-trips requests and responses, with a null instance id, at every version', () => {
    for (const version of versionsOf(Heartbeat)) {
      assertRoundTrip(Heartbeat, 'request', version, request(version, 'i-1'))
      assertRoundTrip(Heartbeat, 'request', version, request(version, null))
      const response = { throttleTimeMs: version >= 1 ? 4 : 0, errorCode: 27 }
      assertRoundTrip(Heartbeat, 'response', version, response)
      assertPrefixesRejected(Heartbeat, 'request', version,
        encode(Heartbeat, 'request', version, request(version, 'i-1')))
      assertPrefixesRejected(Heartbeat, 'response', version,
        encode(Heartbeat, 'response', version, response))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(Heartbeat)
  })

  it('lays out v0, v3 (instance id) and v4 (flexible) as Kafka does', () => {
    const message = request(4, null)
    assert.equal(encode(Heartbeat, 'request', 0, message).toString('hex'),
      '000167' + '00000002' + '00036d2d31')
    assert.equal(encode(Heartbeat, 'request', 3, message).toString('hex'),
      '000167' + '00000002' + '00036d2d31' + 'ffff')
    assert.equal(encode(Heartbeat, 'request', 4, message).toString('hex'),
      '0267' + '00000002' + '046d2d31' + '00' + '00')
    assert.equal(encode(Heartbeat, 'response', 0, { throttleTimeMs: 1, errorCode: 27 })
      .toString('hex'), '001b')
    assert.equal(encode(Heartbeat, 'response', 4, { throttleTimeMs: 1, errorCode: 27 })
      .toString('hex'), '00000001001b00')
  })

  it('decodes a kafkajs v3 request and encodes a v3 response kafkajs decodes', async () => {
    const { apiKey, body } = await kafkajsRequestBody('heartbeat', 3,
      { groupId: 'kgroup', groupGenerationId: 5, memberId: 'm', groupInstanceId: null })
    assert.equal(apiKey, Heartbeat.key)
    assert.deepEqual(decode(Heartbeat, 'request', 3, body),
      { groupId: 'kgroup', generationId: 5, memberId: 'm', groupInstanceId: null })
    const decoded = await kafkajsDecodeResponse('heartbeat', 3,
      encode(Heartbeat, 'response', 3, { throttleTimeMs: 8, errorCode: 0 }))
    assert.equal(decoded.errorCode, 0)
    assert.equal(decoded.clientSideThrottleTime, 8)
  })
})
