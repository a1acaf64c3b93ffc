/**
 * Tagged fields in the schema codec (KIP-482): a field with a `tag` travels in its struct's
 * tagged-field buffer, only when it differs from its default, and decodes back; tags the
 * schema does not know are stepped over. ApiVersions v3+ features are the first user.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ApiVersions, type ApiVersionsResponse } from '../../src/protocol/apis/api-versions.js'
import { ProtocolDecodeError } from '../../src/protocol/reader.js'
import { assertRoundTrip, checkRandomRoundTrips, decode, encode } from './support/messages.js'

const BASE: ApiVersionsResponse = {
  errorCode: 0,
  apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
  throttleTimeMs: 0,
  supportedFeatures: [],
  finalizedFeaturesEpoch: -1,
  finalizedFeatures: [],
  zkMigrationReady: false,
}

describe('tagged fields', () => {
  it('leaves fields at their default off the wire: an empty tagged-field buffer', () => {
    const bytes = assertRoundTrip(ApiVersions, 'response', 3, BASE)
    // error, compact array of one (key, min, max, tags), throttle, no tagged fields
    assert.equal(bytes.toString('hex'), '0000' + '02' + '0012' + '0000' + '0004' + '00' +
      '00000000' + '00')
  })

  it('writes set fields in tag order with their sizes, and reads them back', () => {
    const message = {
      ...BASE,
      supportedFeatures: [{ name: 'metadata.version', minVersion: 7, maxVersion: 27 }],
      finalizedFeaturesEpoch: 5,
    }
    const bytes = assertRoundTrip(ApiVersions, 'response', 4, message)
    const feature = '11' + Buffer.from('metadata.version').toString('hex') + '0007' + '001b' + '00'
    const tag0 = '02' + feature
    assert.equal(bytes.subarray(14).toString('hex'),
      '02' + '00' + (tag0.length / 2).toString(16).padStart(2, '0') + tag0 +
      '01' + '08' + '0000000000000005')
  })

  it('steps over unknown tags and rejects a field that does not fill its size', () => {
    const plain = encode(ApiVersions, 'response', 3, BASE)
    const body = plain.subarray(0, plain.length - 1)
    // tag 9 (unknown, 2 bytes) is skipped
    const unknown = Buffer.concat([body, Buffer.from('01' + '09' + '02' + 'abcd', 'hex')])
    assert.deepEqual(decode(ApiVersions, 'response', 3, unknown), BASE)
    // tag 1 (finalized_features_epoch, int64) given 9 bytes
    const padded = Buffer.concat([body, Buffer.from('01' + '01' + '09' + '000000000000000500',
      'hex')])
    assert.throws(() => decode(ApiVersions, 'response', 3, padded), ProtocolDecodeError)
    // tags must ascend
    const unordered = Buffer.concat([body, Buffer.from('02' + '03' + '01' + '01' + '01' + '01' +
      '00', 'hex')])
    assert.throws(() => decode(ApiVersions, 'response', 3, unordered), ProtocolDecodeError)
  })

  it('round-trips random ApiVersions messages with tagged fields at every version', () => {
    checkRandomRoundTrips(ApiVersions)
  })
})
