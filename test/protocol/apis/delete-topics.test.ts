import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeleteTopics, type DeleteTopicsResponse } from
  '../../../src/protocol/apis/delete-topics.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const ID = Buffer.alloc(16, 9)
const ZERO = Buffer.alloc(16)

function response (version: number): DeleteTopicsResponse {
  return {
    throttleTimeMs: version >= 1 ? 2 : 0,
    responses: [
      { name: 'a', topicId: version >= 6 ? ID : ZERO, errorCode: 0, errorMessage: null },
      { name: version >= 6 ? null : 'b', topicId: ZERO, errorCode: 3,
        errorMessage: version >= 5 ? 'unknown' : null },
    ],
  }
}

describe('DeleteTopics codec (versions 0-6)', () => {
  it('round-trips requests and responses, by name and by id, at every version', () => {
    for (const version of versionsOf(DeleteTopics)) {
      const request = {
        topics: version >= 6 ? [{ name: 'a', topicId: ZERO }, { name: null, topicId: ID }] : [],
        topicNames: version <= 5 ? ['a', 'b'] : [],
        timeoutMs: 5000,
      }
      assertRoundTrip(DeleteTopics, 'request', version, request)
      assertRoundTrip(DeleteTopics, 'response', version, response(version))
      assertPrefixesRejected(DeleteTopics, 'request', version,
        encode(DeleteTopics, 'request', version, request))
      assertPrefixesRejected(DeleteTopics, 'response', version,
        encode(DeleteTopics, 'response', version, response(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DeleteTopics)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('deleteTopics', version,
        { topics: ['a', 'b'], timeout: 4000 })
      assert.equal(apiKey, DeleteTopics.key)
      assert.deepEqual(decode(DeleteTopics, 'request', version, body),
        { topics: [], topicNames: ['a', 'b'], timeoutMs: 4000 })
      const parsed = await kafkajsDecodeResponse('deleteTopics', version,
        encode(DeleteTopics, 'response', version, response(version)))
      assert.deepEqual(parsed.topicErrors.map((t: any) => [t.topic, t.errorCode]),
        [['a', 0], ['b', 3]])
    }
  })
})
