import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SyncGroup, type SyncGroupRequest, type SyncGroupResponse } from
  '../../../src/protocol/apis/sync-group.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const ASSIGNMENT = Buffer.from('0001000000010001740000000100000000', 'hex')

function request (version: number): SyncGroupRequest {
  return {
    groupId: 'group-a',
    generationId: 4,
    memberId: 'm-1',
    groupInstanceId: version >= 3 ? 'i-1' : null,
    protocolType: version >= 5 ? 'consumer' : null,
    protocolName: version >= 5 ? 'range' : null,
    assignments: [{ memberId: 'm-1', assignment: ASSIGNMENT },
      { memberId: 'm-2', assignment: Buffer.alloc(0) }],
  }
}

function response (version: number): SyncGroupResponse {
  return {
    throttleTimeMs: version >= 1 ? 2 : 0,
    errorCode: 0,
    protocolType: version >= 5 ? 'consumer' : null,
    protocolName: version >= 5 ? 'range' : null,
    assignment: ASSIGNMENT,
  }
}

describe('SyncGroup codec (versions 0-5)', () => {
  it('round-trips requests and responses, with nulls and empty arrays, at every version', () => {
    for (const version of versionsOf(SyncGroup)) {
      assertRoundTrip(SyncGroup, 'request', version, request(version))
      assertRoundTrip(SyncGroup, 'request', version, { ...request(version), assignments: [],
        groupInstanceId: null, protocolType: null, protocolName: null })
      assertRoundTrip(SyncGroup, 'response', version, response(version))
      assertRoundTrip(SyncGroup, 'response', version, { ...response(version),
        assignment: Buffer.alloc(0), protocolType: null, protocolName: null })
      assertPrefixesRejected(SyncGroup, 'request', version,
        encode(SyncGroup, 'request', version, request(version)))
      assertPrefixesRejected(SyncGroup, 'response', version,
        encode(SyncGroup, 'response', version, response(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(SyncGroup)
  })

  it('puts protocol type and name before the assignment in v5', () => {
    const v4 = encode(SyncGroup, 'response', 4, { ...response(4), assignment: Buffer.alloc(0) })
    assert.equal(v4.toString('hex'), '00000002' + '0000' + '01' + '00')
    const v5 = encode(SyncGroup, 'response', 5, { ...response(5), assignment: Buffer.from('ab',
      'hex'), protocolName: null })
    assert.equal(v5.toString('hex'), '00000002' + '0000' + '09' +
      Buffer.from('consumer').toString('hex') + '00' + '02ab' + '00')
  })

  it('decodes a kafkajs v3 request and encodes a v3 response kafkajs decodes', async () => {
    const { apiKey, body } = await kafkajsRequestBody('syncGroup', 3, {
      groupId: 'kgroup', generationId: 9, memberId: 'm-1', groupInstanceId: 'static-1',
      groupAssignment: [{ memberId: 'm-1', memberAssignment: ASSIGNMENT }],
    })
    assert.equal(apiKey, SyncGroup.key)
    assert.deepEqual(decode(SyncGroup, 'request', 3, body), {
      groupId: 'kgroup', generationId: 9, memberId: 'm-1', groupInstanceId: 'static-1',
      protocolType: null, protocolName: null,
      assignments: [{ memberId: 'm-1', assignment: ASSIGNMENT }],
    })
    const decoded = await kafkajsDecodeResponse('syncGroup', 3,
      encode(SyncGroup, 'response', 3, response(3)))
    assert.equal(decoded.errorCode, 0)
    assert.deepEqual(decoded.memberAssignment, ASSIGNMENT)
  })
})
