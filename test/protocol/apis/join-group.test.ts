import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JoinGroup, type JoinGroupRequest, type JoinGroupResponse } from
  '../../../src/protocol/apis/join-group.js'
import { ProtocolDecodeError } from '../../../src/protocol/reader.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const METADATA = Buffer.from('000100000001000674656d70', 'hex')

function request (version: number, instance: string | null): JoinGroupRequest {
  return {
    groupId: 'group-a',
    sessionTimeoutMs: 30000,
    rebalanceTimeoutMs: version >= 1 ? 60000 : -1,
    memberId: '',
    groupInstanceId: version >= 5 ? instance : null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: METADATA },
      { name: 'empty', metadata: Buffer.alloc(0) }],
    reason: version >= 8 ? 'rejoin' : null,
  }
}

function response (version: number, protocol: string | null): JoinGroupResponse {
  return {
    throttleTimeMs: version >= 2 ? 5 : 0,
    errorCode: 0,
    generationId: 3,
    protocolType: version >= 7 ? 'consumer' : null,
    protocolName: protocol,
    leader: 'm-1',
    skipAssignment: version >= 9,
    memberId: 'm-1',
    members: [
      { memberId: 'm-1', groupInstanceId: version >= 5 ? 'i-1' : null, metadata: METADATA },
      { memberId: 'm-2', groupInstanceId: null, metadata: Buffer.alloc(0) },
    ],
  }
}

describe('JoinGroup codec (versions 0-9)', () => {
  it('round-trips requests and responses, with null and empty fields, at every version', () => {
    for (const version of versionsOf(JoinGroup)) {
      assertRoundTrip(JoinGroup, 'request', version, request(version, 'instance-1'))
      assertRoundTrip(JoinGroup, 'request', version, request(version, null))
      assertRoundTrip(JoinGroup, 'request', version, { ...request(version, null), protocols: [] })
      assertRoundTrip(JoinGroup, 'response', version, response(version, 'range'))
      assertRoundTrip(JoinGroup, 'response', version, { ...response(version, ''), members: [] })
      if (version >= 7) assertRoundTrip(JoinGroup, 'response', version, response(version, null))
      assertPrefixesRejected(JoinGroup, 'request', version,
        encode(JoinGroup, 'request', version, request(version, 'i')))
      assertPrefixesRejected(JoinGroup, 'response', version,
        encode(JoinGroup, 'response', version, response(version, 'range')))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(JoinGroup)
  })

  it('rejects a null protocol name before v7, where it is not nullable', () => {
    const v6 = encode(JoinGroup, 'response', 7, response(7, null))
    // Same bytes up to protocol_type: v7 carries protocol_type (null = 00) then name (null = 00).
    const v6Like = Buffer.concat([v6.subarray(0, 10), v6.subarray(11)])
    assert.throws(() => decode(JoinGroup, 'response', 6, v6Like), ProtocolDecodeError)
  })

  it('lays out v6 with compact strings and tag buffers and v8 with a reason', () => {
    const message = { ...request(8, null), protocols: [], reason: 'r' }
    const v6 = encode(JoinGroup, 'request', 6, message).toString('hex')
    const common = '0867726f75702d61' + '00007530' + '0000ea60' + '01' + '00' +
      '09636f6e73756d6572' + '01'
    assert.equal(v6, common + '00')
    assert.equal(encode(JoinGroup, 'request', 8, message).toString('hex'), common + '0272' + '00')
  })

  it('decodes a kafkajs v5 request and encodes a v5 response kafkajs decodes', async () => {
    const { apiKey, body } = await kafkajsRequestBody('joinGroup', 5, {
      groupId: 'kgroup', sessionTimeout: 10000, rebalanceTimeout: 20000, memberId: 'm',
      groupInstanceId: 'static-1', protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: METADATA }],
    })
    assert.equal(apiKey, JoinGroup.key)
    assert.deepEqual(decode(JoinGroup, 'request', 5, body), {
      groupId: 'kgroup', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 20000, memberId: 'm',
      groupInstanceId: 'static-1', protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner', metadata: METADATA }], reason: null,
    })
    const decoded = await kafkajsDecodeResponse('joinGroup', 5,
      encode(JoinGroup, 'response', 5, response(5, 'RoundRobinAssigner')))
    assert.equal(decoded.clientSideThrottleTime, 5)
    assert.equal(decoded.generationId, 3)
    assert.equal(decoded.groupProtocol, 'RoundRobinAssigner')
    assert.equal(decoded.leaderId, 'm-1')
    assert.equal(decoded.memberId, 'm-1')
    assert.deepEqual(decoded.members.map((m: any) => [m.memberId, m.groupInstanceId,
      m.memberMetadata.toString('hex')]),
    [['m-1', 'i-1', METADATA.toString('hex')], ['m-2', null, '']])
  })
})
