import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FindCoordinator, type FindCoordinatorRequest, type FindCoordinatorResponse } from
  '../../../src/protocol/apis/find-coordinator.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function request (version: number): FindCoordinatorRequest {
  return {
    key: version <= 3 ? 'group-a' : '',
    keyType: version >= 1 ? 1 : 0,
    coordinatorKeys: version >= 4 ? ['group-a', 'tx-b'] : [],
  }
}

function response (version: number, errorMessage: string | null): FindCoordinatorResponse {
  const legacy = version <= 3
  return {
    throttleTimeMs: version >= 1 ? 7 : 0,
    errorCode: legacy ? 15 : 0,
    errorMessage: legacy && version >= 1 ? errorMessage : null,
    nodeId: legacy ? 1 : 0,
    host: legacy ? 'broker-1' : '',
    port: legacy ? 9092 : 0,
    coordinators: legacy ? [] : [
      { key: 'group-a', nodeId: 1, host: 'broker-1', port: 9092, errorCode: 0,
        errorMessage },
      { key: 'tx-b', nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'none' },
    ],
  }
}

describe('FindCoordinator codec (versions 0-4)', () => {
  it('round-trips requests and responses, with null messages, at every version', () => {
    for (const version of versionsOf(FindCoordinator)) {
      assertRoundTrip(FindCoordinator, 'request', version, request(version))
      assertRoundTrip(FindCoordinator, 'response', version, response(version, null))
      assertRoundTrip(FindCoordinator, 'response', version, response(version, 'not yet'))
      assertPrefixesRejected(FindCoordinator, 'request', version,
        encode(FindCoordinator, 'request', version, request(version)))
      assertPrefixesRejected(FindCoordinator, 'response', version,
        encode(FindCoordinator, 'response', version, response(version, 'x')))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(FindCoordinator)
  })

  it('adds key_type in v1, goes compact in v3 and batches keys in v4', () => {
    const message = { key: 'g', keyType: 1, coordinatorKeys: ['g', 'h'] }
    assert.equal(encode(FindCoordinator, 'request', 0, message).toString('hex'), '000167')
    assert.equal(encode(FindCoordinator, 'request', 1, message).toString('hex'), '00016701')
    assert.equal(encode(FindCoordinator, 'request', 3, message).toString('hex'), '02670100')
    assert.equal(encode(FindCoordinator, 'request', 4, message).toString('hex'),
      '01' + '03' + '0267' + '0268' + '00')
    const v4 = encode(FindCoordinator, 'response', 4, { ...response(4, null), coordinators: [
      { key: 'g', nodeId: 2, host: 'h', port: 9, errorCode: 0, errorMessage: null }] })
    assert.equal(v4.toString('hex'), '00000007' + '02' + '0267' + '00000002' + '0268' +
      '00000009' + '0000' + '00' + '00' + '00')
  })

  it('decodes kafkajs v0-v2 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1, 2]) {
      const { apiKey, body } = await kafkajsRequestBody('findCoordinator', version,
        { groupId: 'my-group', coordinatorKey: 'my-group', coordinatorType: 1 })
      assert.equal(apiKey, FindCoordinator.key)
      const decoded = decode(FindCoordinator, 'request', version, body) as FindCoordinatorRequest
      assert.equal(decoded.key, 'my-group')
      assert.equal(decoded.keyType, version >= 1 ? 1 : 0)
      const bytes = encode(FindCoordinator, 'response', version, {
        throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 3, host: 'localhost',
        port: 19092 })
      const parsed = await kafkajsDecodeResponse('findCoordinator', version, bytes)
      assert.equal(parsed.errorCode, 0)
      assert.deepEqual(parsed.coordinator, { nodeId: 3, host: 'localhost', port: 19092 })
    }
  })
})
