import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { IncrementalAlterConfigs } from
  '../../../src/protocol/apis/incremental-alter-configs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST = { resources: [{ resourceType: 2, resourceName: 't', configs: [
  { name: 'retention.ms', configOperation: 0, value: '1' },
  { name: 'x', configOperation: 1, value: null }] }], validateOnly: false }
const RESPONSE = { throttleTimeMs: 0, responses: [{ errorCode: 0, errorMessage: null,
  resourceType: 2, resourceName: 't' }] }

describe('IncrementalAlterConfigs codec (versions 0-1)', () => {
  it('round-trips requests and responses, with null values, at every version', () => {
    for (const version of versionsOf(IncrementalAlterConfigs)) {
      assertRoundTrip(IncrementalAlterConfigs, 'request', version, REQUEST)
      assertRoundTrip(IncrementalAlterConfigs, 'response', version, RESPONSE)
      assertPrefixesRejected(IncrementalAlterConfigs, 'request', version,
        encode(IncrementalAlterConfigs, 'request', version, REQUEST))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(IncrementalAlterConfigs)
  })

  it('is classic in v0 and compact with tag buffers in v1', () => {
    const one = { resources: [{ resourceType: 2, resourceName: 't', configs: [] }],
      validateOnly: true }
    assert.equal(encode(IncrementalAlterConfigs, 'request', 0, one).toString('hex'),
      '00000001' + '02' + '000174' + '00000000' + '01')
    assert.equal(encode(IncrementalAlterConfigs, 'request', 1, one).toString('hex'),
      '02' + '02' + '0274' + '01' + '00' + '01' + '00')
  })
})
