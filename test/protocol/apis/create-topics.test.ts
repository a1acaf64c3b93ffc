import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CreateTopics, type CreateTopicsRequest, type CreateTopicsResponse } from
  '../../../src/protocol/apis/create-topics.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST: CreateTopicsRequest = {
  topics: [{ name: 'orders', numPartitions: 3, replicationFactor: 1,
    assignments: [{ partitionIndex: 0, brokerIds: [1] }],
    configs: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'x', value: null }] },
  { name: 'defaults', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }],
  timeoutMs: 30000,
  validateOnly: false,
}

function response (version: number): CreateTopicsResponse {
  const v5 = version >= 5
  return {
    throttleTimeMs: version >= 2 ? 3 : 0,
    topics: [{ name: 'orders', topicId: version >= 7 ? Buffer.alloc(16, 7) : Buffer.alloc(16),
      errorCode: 0, errorMessage: null, numPartitions: v5 ? 3 : -1,
      replicationFactor: v5 ? 1 : -1,
      configs: v5 ? [{ name: 'cleanup.policy', value: 'compact', readOnly: false,
        configSource: 1, isSensitive: false }, { name: 's', value: null, readOnly: true,
        configSource: 5, isSensitive: true }] : [] },
    { name: 'taken', topicId: Buffer.alloc(16), errorCode: 36,
      errorMessage: version >= 1 ? 'exists' : null, numPartitions: -1, replicationFactor: -1,
      configs: v5 ? null : [] }],
  }
}

describe('CreateTopics codec (versions 0-7)', () => {
  it('round-trips requests and responses, with null values and configs, at every version', () => {
    for (const version of versionsOf(CreateTopics)) {
      const request = { ...REQUEST, validateOnly: version >= 1 }
      assertRoundTrip(CreateTopics, 'request', version, request)
      assertRoundTrip(CreateTopics, 'request', version, { ...request, topics: [] })
      assertRoundTrip(CreateTopics, 'response', version, response(version))
      assertPrefixesRejected(CreateTopics, 'request', version,
        encode(CreateTopics, 'request', version, request))
      assertPrefixesRejected(CreateTopics, 'response', version,
        encode(CreateTopics, 'response', version, response(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(CreateTopics)
  })

  it('skips an unknown tagged field (topic_config_error_code) in a v5 response', () => {
    const message = { throttleTimeMs: 0, topics: [{ name: 't', topicId: Buffer.alloc(16),
      errorCode: 0, errorMessage: null, numPartitions: 1, replicationFactor: 1,
      configs: null }] }
    const plain = encode(CreateTopics, 'response', 5, message)
    // The topic's tag buffer is the second-to-last byte: replace "0 tags" by tag 0 = int16 5.
    const tagged = Buffer.concat([plain.subarray(0, plain.length - 2),
      Buffer.from('0100020005', 'hex'), plain.subarray(plain.length - 1)])
    assert.deepEqual(decode(CreateTopics, 'response', 5, tagged), message)
  })

  it('decodes kafkajs v0-v3 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1, 2, 3]) {
      const { apiKey, body } = await kafkajsRequestBody('createTopics', version, {
        timeout: 30000, validateOnly: true, topics: [{ topic: 'orders', numPartitions: 3,
          replicationFactor: 1, replicaAssignment: [{ partition: 0, replicas: [1] }],
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      })
      assert.equal(apiKey, CreateTopics.key)
      const decoded = decode(CreateTopics, 'request', version, body) as CreateTopicsRequest
      assert.deepEqual(decoded.topics, [{ ...REQUEST.topics[0], configs: [
        { name: 'cleanup.policy', value: 'compact' }] }])
      assert.equal(decoded.timeoutMs, 30000)
      assert.equal(decoded.validateOnly, version >= 1)
      const parsed = await kafkajsDecodeResponse('createTopics', version,
        encode(CreateTopics, 'response', version, response(version)))
      assert.deepEqual(parsed.topicErrors.map((t: any) => [t.topic, t.errorCode]),
        [['orders', 0], ['taken', 36]])
    }
  })
})
