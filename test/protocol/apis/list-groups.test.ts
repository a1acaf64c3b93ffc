import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ListGroups, type ListGroupsResponse } from '../../../src/protocol/apis/list-groups.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function response (version: number): ListGroupsResponse {
  return {
    throttleTimeMs: version >= 1 ? 6 : 0,
    errorCode: 0,
    groups: [
      { groupId: 'g', protocolType: 'consumer', groupState: version >= 4 ? 'Stable' : '',
        groupType: version >= 5 ? 'classic' : '' },
      { groupId: 'connect', protocolType: '', groupState: '', groupType: '' },
    ],
  }
}

describe('ListGroups codec (versions 0-5)', () => {
  it('round-trips requests and responses, with empty filters and lists, at every version', () => {
    for (const version of versionsOf(ListGroups)) {
      const request = { statesFilter: version >= 4 ? ['Stable', 'Empty'] : [],
        typesFilter: version >= 5 ? ['classic'] : [] }
      assertRoundTrip(ListGroups, 'request', version, request)
      assertRoundTrip(ListGroups, 'request', version, { statesFilter: [], typesFilter: [] })
      assertRoundTrip(ListGroups, 'response', version, response(version))
      assertRoundTrip(ListGroups, 'response', version, { ...response(version), groups: [] })
      assertPrefixesRejected(ListGroups, 'request', version,
        encode(ListGroups, 'request', version, request))
      assertPrefixesRejected(ListGroups, 'response', version,
        encode(ListGroups, 'response', version, response(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(ListGroups)
  })

  it('has an empty v0-v2 request, a tag buffer in v3 and filters from v4', () => {
    const request = { statesFilter: ['E'], typesFilter: ['c'] }
    assert.equal(encode(ListGroups, 'request', 2, request).length, 0)
    assert.equal(encode(ListGroups, 'request', 3, request).toString('hex'), '00')
    assert.equal(encode(ListGroups, 'request', 4, request).toString('hex'), '02024500')
    assert.equal(encode(ListGroups, 'request', 5, request).toString('hex'), '020245020263' + '00')
  })

  it('matches kafkajs v0-v2 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1, 2]) {
      const { apiKey, body } = await kafkajsRequestBody('listGroups', version, {})
      assert.equal(apiKey, ListGroups.key)
      assert.deepEqual(decode(ListGroups, 'request', version, body),
        { statesFilter: [], typesFilter: [] })
      const decoded = await kafkajsDecodeResponse('listGroups', version,
        encode(ListGroups, 'response', version, response(version)))
      assert.equal(decoded.errorCode, 0)
      assert.deepEqual(decoded.groups, [{ groupId: 'g', protocolType: 'consumer' },
        { groupId: 'connect', protocolType: '' }])
    }
  })
})
