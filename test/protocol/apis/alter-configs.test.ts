import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AlterConfigs } from '../../../src/protocol/apis/alter-configs.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST = { resources: [{ resourceType: 2, resourceName: 't', configs: [
  { name: 'retention.ms', value: '1' }, { name: 'x', value: null }] }], validateOnly: false }
const RESPONSE = { throttleTimeMs: 0, responses: [{ errorCode: 0, errorMessage: null,
  resourceType: 2, resourceName: 't' }, { errorCode: 40, errorMessage: 'bad', resourceType: 2,
  resourceName: 'u' }] }

describe('AlterConfigs codec (versions 0-2)', () => {
  it('round-trips requests and responses, with null values, at every version', () => {
    for (const version of versionsOf(AlterConfigs)) {
      assertRoundTrip(AlterConfigs, 'request', version, REQUEST)
      assertRoundTrip(AlterConfigs, 'response', version, RESPONSE)
      assertPrefixesRejected(AlterConfigs, 'request', version,
        encode(AlterConfigs, 'request', version, REQUEST))
      assertPrefixesRejected(AlterConfigs, 'response', version,
        encode(AlterConfigs, 'response', version, RESPONSE))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(AlterConfigs)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('alterConfigs', version, {
        resources: [{ type: 2, name: 't', configEntries: [{ name: 'retention.ms',
          value: '1' }] }], validateOnly: true })
      assert.equal(apiKey, AlterConfigs.key)
      assert.deepEqual(decode(AlterConfigs, 'request', version, body), { resources: [{
        resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', value: '1' }] }],
      validateOnly: true })
      const parsed = await kafkajsDecodeResponse('alterConfigs', version,
        encode(AlterConfigs, 'response', version, RESPONSE))
      assert.deepEqual(parsed.resources.map((r: any) => [r.resourceName, r.errorCode]),
        [['t', 0], ['u', 40]])
    }
  })
})
