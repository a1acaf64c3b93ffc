import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CreatePartitions } from '../../../src/protocol/apis/create-partitions.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST = { topics: [{ name: 't', count: 4, assignments: [{ brokerIds: [1, 2] }] },
  { name: 'u', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: true }
const RESPONSE = { throttleTimeMs: 0, results: [{ name: 't', errorCode: 0, errorMessage: null },
  { name: 'u', errorCode: 37, errorMessage: 'fewer' }] }

describe('CreatePartitions codec (versions 0-3)', () => {
  it('round-trips requests and responses, with null assignments, at every version', () => {
    for (const version of versionsOf(CreatePartitions)) {
      assertRoundTrip(CreatePartitions, 'request', version, REQUEST)
      assertRoundTrip(CreatePartitions, 'response', version, RESPONSE)
      assertPrefixesRejected(CreatePartitions, 'request', version,
        encode(CreatePartitions, 'request', version, REQUEST))
      assertPrefixesRejected(CreatePartitions, 'response', version,
        encode(CreatePartitions, 'response', version, RESPONSE))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(CreatePartitions)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('createPartitions', version, {
        topicPartitions: [{ topic: 't', count: 4, assignments: [[1, 2]] }], timeout: 1000,
        validateOnly: true })
      assert.equal(apiKey, CreatePartitions.key)
      assert.deepEqual(decode(CreatePartitions, 'request', version, body), { ...REQUEST,
        topics: [REQUEST.topics[0]] })
      const parsed = await kafkajsDecodeResponse('createPartitions', version,
        encode(CreatePartitions, 'response', version, RESPONSE))
      assert.deepEqual(parsed.topicErrors.map((t: any) => [t.topic, t.errorCode]),
        [['t', 0], ['u', 37]])
    }
  })
})
