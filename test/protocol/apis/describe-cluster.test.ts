import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DescribeCluster, type DescribeClusterResponse } from
  '../../../src/protocol/apis/describe-cluster.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

function response (version: number): DescribeClusterResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    endpointType: 1,
    clusterId: 'cluster-1',
    controllerId: 1,
    brokers: [{ brokerId: 1, host: 'localhost', port: 9092, rack: null, isFenced: false },
      { brokerId: 2, host: 'b2', port: 9093, rack: version >= 0 ? 'r2' : null,
        isFenced: version >= 2 }],
    clusterAuthorizedOperations: -2147483648,
  }
}

describe('DescribeCluster codec (versions 0-2, always flexible)', () => {
  it('round-trips requests and responses, with null messages and racks, at every version', () => {
    for (const version of versionsOf(DescribeCluster)) {
      assertRoundTrip(DescribeCluster, 'request', version,
        { includeClusterAuthorizedOperations: true, endpointType: version >= 1 ? 2 : 1,
          includeFencedBrokers: version >= 2 })
      assertRoundTrip(DescribeCluster, 'response', version, response(version))
      assertRoundTrip(DescribeCluster, 'response', version,
        { ...response(version), errorCode: 35, errorMessage: 'no', brokers: [] })
      assertPrefixesRejected(DescribeCluster, 'response', version,
        encode(DescribeCluster, 'response', version, response(version)))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DescribeCluster)
  })

  it('encodes v0 compactly with tagged-field buffers and adds endpoint_type in v1', () => {
    assert.equal(encode(DescribeCluster, 'request', 0,
      { includeClusterAuthorizedOperations: false, endpointType: 1 }).toString('hex'), '0000')
    assert.equal(encode(DescribeCluster, 'request', 1,
      { includeClusterAuthorizedOperations: false, endpointType: 1 }).toString('hex'), '000100')
    const v0 = encode(DescribeCluster, 'response', 0, { ...response(0), brokers: [] })
    // throttle, error code, null message, compact "cluster-1", controller, empty array, ops, tags
    assert.equal(v0.toString('hex'), '00000000' + '0000' + '00' + '0a' +
      Buffer.from('cluster-1').toString('hex') + '00000001' + '01' + '80000000' + '00')
  })
})
