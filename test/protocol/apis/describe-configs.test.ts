import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DescribeConfigs, type DescribeConfigsRequest, type DescribeConfigsResponse } from
  '../../../src/protocol/apis/describe-configs.js'
import { kafkajsDecodeResponse, kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function response (version: number): DescribeConfigsResponse {
  return {
    throttleTimeMs: 0,
    results: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't',
      configs: [{ name: 'retention.ms', value: '1000', readOnly: false,
        isDefault: version === 0, configSource: version >= 1 ? 1 : -1, isSensitive: false,
        synonyms: version >= 1 ? [{ name: 'log.retention.ms', value: null, source: 5 }] : [],
        configType: version >= 3 ? 5 : 0,
        documentation: version >= 3 ? 'how long' : null },
      { name: 'secret', value: null, readOnly: true, isDefault: false,
        configSource: -1, isSensitive: true, synonyms: [], configType: 0,
        documentation: null }] }],
  }
}

describe('DescribeConfigs codec (versions 0-4)', () => {
  it('round-trips requests and responses, with null keys and values, at every version', () => {
    for (const version of versionsOf(DescribeConfigs)) {
      const request = { resources: [{ resourceType: 2, resourceName: 't',
        configurationKeys: null }, { resourceType: 4, resourceName: '1',
        configurationKeys: ['a'] }], includeSynonyms: version >= 1,
      includeDocumentation: version >= 3 }
      assertRoundTrip(DescribeConfigs, 'request', version, request)
      assertRoundTrip(DescribeConfigs, 'response', version, response(version))
      assertPrefixesRejected(DescribeConfigs, 'request', version,
        encode(DescribeConfigs, 'request', version, request))
      assertPrefixesRejected(DescribeConfigs, 'response', version,
        encode(DescribeConfigs, 'response', version, response(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DescribeConfigs)
  })

  it('decodes kafkajs v0-v2 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1, 2]) {
      const { apiKey, body } = await kafkajsRequestBody('describeConfigs', version, {
        resources: [{ type: 2, name: 't', configNames: ['retention.ms'] }],
        includeSynonyms: true })
      assert.equal(apiKey, DescribeConfigs.key)
      const decoded = decode(DescribeConfigs, 'request', version, body) as DescribeConfigsRequest
      assert.deepEqual(decoded.resources, [{ resourceType: 2, resourceName: 't',
        configurationKeys: ['retention.ms'] }])
      assert.equal(decoded.includeSynonyms, version >= 1)
      const parsed = await kafkajsDecodeResponse('describeConfigs', version,
        encode(DescribeConfigs, 'response', version, response(version)))
      const entry = parsed.resources[0].configEntries[0]
      assert.equal(entry.configName, 'retention.ms')
      assert.equal(entry.configValue, '1000')
      if (version >= 1) {
        assert.deepEqual(entry.configSynonyms, [{ configName: 'log.retention.ms',
          configValue: null, configSource: 5 }])
      }
    }
  })
})
