import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LeaveGroup, type LeaveGroupRequest, type LeaveGroupResponse } from
  '../../../src/protocol/apis/leave-group.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function request (version: number): LeaveGroupRequest {
  return {
    groupId: 'g',
    memberId: version <= 2 ? 'm-1' : '',
    members: version <= 2 ? [] : [
      { memberId: 'm-1', groupInstanceId: null, reason: version >= 5 ? 'shutdown' : null },
      { memberId: '', groupInstanceId: 'i-2', reason: null },
    ],
  }
}

function response (version: number): LeaveGroupResponse {
  return {
    throttleTimeMs: version >= 1 ? 3 : 0,
    errorCode: 0,
    members: version <= 2 ? [] : [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 },
      { memberId: 'm-2', groupInstanceId: 'i-2', errorCode: 25 }],
  }
}

describe('LeaveGroup codec (versions 0-5)', () => {
  it('round-trips requests and responses, with nulls and empty arrays, at every version', () => {
    for (const version of versionsOf(LeaveGroup)) {
      assertRoundTrip(LeaveGroup, 'request', version, request(version))
      assertRoundTrip(LeaveGroup, 'request', version, { ...request(version), members: [] })
      assertRoundTrip(LeaveGroup, 'response', version, response(version))
      assertRoundTrip(LeaveGroup, 'response', version, { ...response(version), members: [] })
      assertPrefixesRejected(LeaveGroup, 'request', version,
        encode(LeaveGroup, 'request', version, request(version)))
      assertPrefixesRejected(LeaveGroup, 'response', version,
        encode(LeaveGroup, 'response', version, response(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(LeaveGroup)
  })

  it('sends member_id up to v2 and a members array from v3', () => {
    const message = { groupId: 'g', memberId: 'm', members: [{ memberId: 'm',
      groupInstanceId: null, reason: 'r' }] }
    assert.equal(encode(LeaveGroup, 'request', 2, message).toString('hex'), '000167' + '00016d')
    assert.equal(encode(LeaveGroup, 'request', 3, message).toString('hex'),
      '000167' + '00000001' + '00016d' + 'ffff')
    assert.equal(encode(LeaveGroup, 'request', 4, message).toString('hex'),
      '0267' + '02' + '026d' + '00' + '00' + '00')
    assert.equal(encode(LeaveGroup, 'request', 5, message).toString('hex'),
      '0267' + '02' + '026d' + '00' + '0272' + '00' + '00')
  })

  it('decodes kafkajs v0-v3 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1, 2]) {
      const { body } = await kafkajsRequestBody('leaveGroup', version,
        { groupId: 'kgroup', memberId: 'm-9' })
      assert.deepEqual(decode(LeaveGroup, 'request', version, body),
        { groupId: 'kgroup', memberId: 'm-9', members: [] })
    }
    const { apiKey, body } = await kafkajsRequestBody('leaveGroup', 3, { groupId: 'kgroup',
      members: [{ memberId: 'm-9', groupInstanceId: null }, { memberId: 'm-8',
        groupInstanceId: 'static' }] })
    assert.equal(apiKey, LeaveGroup.key)
    assert.deepEqual(decode(LeaveGroup, 'request', 3, body), { groupId: 'kgroup', memberId: '',
      members: [{ memberId: 'm-9', groupInstanceId: null, reason: null },
        { memberId: 'm-8', groupInstanceId: 'static', reason: null }] })
    const decoded = await kafkajsDecodeResponse('leaveGroup', 3,
      encode(LeaveGroup, 'response', 3, response(3)))
    assert.equal(decoded.errorCode, 0)
    assert.deepEqual(decoded.members, [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 },
      { memberId: 'm-2', groupInstanceId: 'i-2', errorCode: 25 }])
  })
})
