import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Metadata, type MetadataRequest, type MetadataResponse } from
  '../../../src/protocol/apis/metadata.js'
import { kafkajsParseResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const TOPIC_ID = Buffer.from('0123456789abcdef0123456789abcdef', 'hex')
const ZERO_ID = Buffer.alloc(16)
const NO_OPERATIONS = -2147483648

function request (version: number): MetadataRequest {
  return {
    topics: [{ topicId: version >= 10 ? TOPIC_ID : ZERO_ID, name: 'orders' }],
    allowAutoTopicCreation: version >= 4 ? false : true,
    includeClusterAuthorizedOperations: version >= 8 && version <= 10,
    includeTopicAuthorizedOperations: version >= 8,
  }
}

function response (version: number): MetadataResponse {
  return {
    throttleTimeMs: version >= 3 ? 1 : 0,
    brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: version >= 1 ? 'r1' : null },
      { nodeId: 2, host: 'b2', port: 9093, rack: null }],
    clusterId: version >= 2 ? 'cluster-1' : null,
    controllerId: version >= 1 ? 1 : -1,
    topics: [{
      errorCode: 0,
      name: 'orders',
      topicId: version >= 10 ? TOPIC_ID : ZERO_ID,
      isInternal: false,
      partitions: [{
        errorCode: 0,
        partitionIndex: 0,
        leaderId: 1,
        leaderEpoch: version >= 7 ? 3 : -1,
        replicaNodes: [1, 2],
        isrNodes: [1],
        offlineReplicas: version >= 5 ? [2] : [],
      }],
      topicAuthorizedOperations: version >= 8 ? 0x0ff8 : NO_OPERATIONS,
    }, {
      errorCode: 3, name: 'missing', topicId: ZERO_ID, isInternal: false, partitions: [],
      topicAuthorizedOperations: NO_OPERATIONS,
    }],
    clusterAuthorizedOperations: version >= 8 && version <= 10 ? 0 : NO_OPERATIONS,
    errorCode: version >= 13 ? 6 : 0,
  }
}

describe('Metadata codec (versions 0-13)', () => {
  it('round-trips requests and responses at every version', () => {
    for (const version of versionsOf(Metadata)) {
      assertRoundTrip(Metadata, 'request', version, request(version))
      assertRoundTrip(Metadata, 'response', version, response(version))
    }
  })

  it('round-trips a null topic list (all topics) from version 1 and null names from 10', () => {
    for (const version of versionsOf(Metadata).filter(v => v >= 1)) {
      assertRoundTrip(Metadata, 'request', version, { ...request(version), topics: null })
    }
    for (const version of [10, 11, 12, 13]) {
      assertRoundTrip(Metadata, 'request', version,
        { ...request(version), topics: [{ topicId: TOPIC_ID, name: null }] })
    }
    for (const version of [12, 13]) {
      const byId = response(version)
      const topic = byId.topics[0]
      assert.ok(topic !== undefined)
      topic.name = null
      assertRoundTrip(Metadata, 'response', version, byId)
    }
  })

  it('encodes v0 with an empty topic array, because v0 has no null (all topics) form', () => {
    const bytes = encode(Metadata, 'request', 0, { ...request(0), topics: [] })
    assert.equal(bytes.toString('hex'), '00000000')
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(Metadata)
  })

  it('puts throttle_time_ms first from v3 and uses compact encodings from v9', () => {
    const v3 = encode(Metadata, 'response', 3, { ...response(3), throttleTimeMs: 0x0a0b0c0d })
    assert.equal(v3.readInt32BE(0), 0x0a0b0c0d)
    const v9 = encode(Metadata, 'request', 9, { ...request(9), topics: null })
    // null compact array, allow_auto_topic_creation, two authorized-operations flags, tags.
    assert.equal(v9.toString('hex'), '00' + '00' + '01' + '01' + '00')
  })

  it('rejects every truncation of a request and a response', () => {
    for (const version of [0, 1, 6, 9, 12]) {
      assertPrefixesRejected(Metadata, 'request', version,
        encode(Metadata, 'request', version, request(version)))
      assertPrefixesRejected(Metadata, 'response', version,
        encode(Metadata, 'response', version, response(version)))
    }
  })

  it('decodes kafkajs Metadata v6 and v0 requests', async () => {
    const v6 = await kafkajsRequestBody('metadata', 6,
      { topics: ['a', 'b'], allowAutoTopicCreation: false })
    assert.equal(v6.apiKey, Metadata.key)
    const decoded = decode(Metadata, 'request', 6, v6.body) as MetadataRequest
    assert.deepEqual(decoded.topics?.map(t => t.name), ['a', 'b'])
    assert.equal(decoded.allowAutoTopicCreation, false)
    const v0 = await kafkajsRequestBody('metadata', 0, { topics: [] })
    const all = decode(Metadata, 'request', 0, v0.body) as MetadataRequest
    assert.deepEqual(all.topics, [])
    assert.equal(all.allowAutoTopicCreation, true)
  })

  it('encodes a Metadata v6 response that kafkajs parses', async () => {
    const message = response(6)
    message.topics = message.topics.slice(0, 1)
    const parsed = await kafkajsParseResponse('metadata', 6, encode(Metadata, 'response', 6,
      message))
    assert.deepEqual(parsed.brokers, [{ nodeId: 1, host: 'localhost', port: 9092, rack: 'r1' },
      { nodeId: 2, host: 'b2', port: 9093, rack: null }])
    assert.equal(parsed.clusterId, 'cluster-1')
    assert.equal(parsed.controllerId, 1)
    assert.equal(parsed.clientSideThrottleTime, 1)
    const topic = parsed.topicMetadata[0]
    assert.equal(topic.topic, 'orders')
    assert.equal(topic.isInternal, false)
    assert.deepEqual(topic.partitionMetadata, [{ partitionErrorCode: 0, partitionId: 0,
      leader: 1, replicas: [1, 2], isr: [1], offlineReplicas: [2] }])
  })
})
