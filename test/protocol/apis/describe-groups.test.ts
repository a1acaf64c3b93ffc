import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DescribeGroups, type DescribeGroupsResponse } from
  '../../../src/protocol/apis/describe-groups.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const METADATA = Buffer.from('0001000000010001', 'hex')

function response (version: number): DescribeGroupsResponse {
  return {
    throttleTimeMs: version >= 1 ? 2 : 0,
    groups: [{
      errorCode: 0, errorMessage: null, groupId: 'g', groupState: 'Stable',
      protocolType: 'consumer', protocolData: 'range',
      members: [{ memberId: 'm-1', groupInstanceId: version >= 4 ? 'i-1' : null,
        clientId: 'c', clientHost: '/127.0.0.1', memberMetadata: METADATA,
        memberAssignment: Buffer.alloc(0) }],
      authorizedOperations: version >= 3 ? 0x0ff8 : -2147483648,
    }, { errorCode: 69, errorMessage: version >= 6 ? 'Group gone not found.' : null,
      groupId: 'gone', groupState: 'Dead', protocolType: '',
      protocolData: '', members: [], authorizedOperations: -2147483648 }],
  }
}

describe('DescribeGroups codec (versions 0-6)', () => {
  it('round-trips requests and responses, with empty lists, at every version', () => {
    for (const version of versionsOf(DescribeGroups)) {
      const request = { groups: ['g', 'gone'], includeAuthorizedOperations: version >= 3 }
      assertRoundTrip(DescribeGroups, 'request', version, request)
      assertRoundTrip(DescribeGroups, 'request', version, { ...request, groups: [] })
      assertRoundTrip(DescribeGroups, 'response', version, response(version))
      assertRoundTrip(DescribeGroups, 'response', version, { ...response(version), groups: [] })
      assertPrefixesRejected(DescribeGroups, 'request', version,
        encode(DescribeGroups, 'request', version, request))
      assertPrefixesRejected(DescribeGroups, 'response', version,
        encode(DescribeGroups, 'response', version, response(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DescribeGroups)
  })

  it('adds include_authorized_operations in v3 and goes compact in v5', () => {
    const request = { groups: ['g'], includeAuthorizedOperations: true }
    assert.equal(encode(DescribeGroups, 'request', 2, request).toString('hex'), '00000001000167')
    assert.equal(encode(DescribeGroups, 'request', 3, request).toString('hex'),
      '0000000100016701')
    assert.equal(encode(DescribeGroups, 'request', 5, request).toString('hex'), '0202670100')
  })

  it('decodes kafkajs v0-v2 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1, 2]) {
      const { apiKey, body } = await kafkajsRequestBody('describeGroups', version,
        { groupIds: ['g', 'h'] })
      assert.equal(apiKey, DescribeGroups.key)
      assert.deepEqual(decode(DescribeGroups, 'request', version, body),
        { groups: ['g', 'h'], includeAuthorizedOperations: false })
      const decoded = await kafkajsDecodeResponse('describeGroups', version,
        encode(DescribeGroups, 'response', version, response(version)))
      const [group, gone] = decoded.groups
      assert.equal(group.state, 'Stable')
      assert.equal(group.protocol, 'range')
      assert.equal(group.members[0].clientHost, '/127.0.0.1')
      assert.deepEqual(group.members[0].memberMetadata, METADATA)
      assert.equal(gone.errorCode, 69)
    }
  })
})
