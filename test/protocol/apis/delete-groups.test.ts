import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeleteGroups } from '../../../src/protocol/apis/delete-groups.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const RESPONSE = { throttleTimeMs: 1, results: [{ groupId: 'g', errorCode: 0 },
  { groupId: 'busy', errorCode: 68 }] }

describe('DeleteGroups codec (versions 0-2)', () => {
  it('round-trips requests and responses, with empty lists, at every version', () => {
    for (const version of versionsOf(DeleteGroups)) {
      assertRoundTrip(DeleteGroups, 'request', version, { groupsNames: ['g', 'busy'] })
      assertRoundTrip(DeleteGroups, 'request', version, { groupsNames: [] })
      assertRoundTrip(DeleteGroups, 'response', version, RESPONSE)
      assertRoundTrip(DeleteGroups, 'response', version, { throttleTimeMs: 0, results: [] })
      assertPrefixesRejected(DeleteGroups, 'response', version,
        encode(DeleteGroups, 'response', version, RESPONSE))
    }
    assert.equal(encode(DeleteGroups, 'request', 2, { groupsNames: ['g'] }).toString('hex'),
      '02026700')
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DeleteGroups)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('deleteGroups', version,
        ['g', 'busy'] as unknown as Record<string, unknown>)
      assert.equal(apiKey, DeleteGroups.key)
      assert.deepEqual(decode(DeleteGroups, 'request', version, body),
        { groupsNames: ['g', 'busy'] })
      const decoded = await kafkajsDecodeResponse('deleteGroups', version,
        encode(DeleteGroups, 'response', version, RESPONSE))
      assert.deepEqual(decoded.results.map((r: any) => [r.groupId, r.errorCode]),
        [['g', 0], ['busy', 68]])
    }
  })
})
