import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ElectLeaders } from '../../../src/protocol/apis/elect-leaders.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const REQUEST = { electionType: 1, topicPartitions: [{ topic: 't', partitions: [0, 2] }],
  timeoutMs: 1000 }
const RESPONSE = { throttleTimeMs: 0, errorCode: 0, replicaElectionResults: [{ topic: 't',
  partitionResult: [{ partitionId: 0, errorCode: 0, errorMessage: null },
    { partitionId: 2, errorCode: 84, errorMessage: 'not needed' }] }] }

describe('ElectLeaders codec (versions 0-2)', () => {
  it('round-trips requests (null partitions too) and responses at every version', () => {
    for (const version of versionsOf(ElectLeaders)) {
      // v0 has no election type (always preferred) and no top-level error code.
      const request = version === 0 ? { ...REQUEST, electionType: 0 } : REQUEST
      const response = version === 0 ? { ...RESPONSE, errorCode: 0 } : RESPONSE
      assertRoundTrip(ElectLeaders, 'request', version, request)
      assertRoundTrip(ElectLeaders, 'request', version, { ...request, topicPartitions: null })
      assertRoundTrip(ElectLeaders, 'response', version, response)
      assertPrefixesRejected(ElectLeaders, 'request', version,
        encode(ElectLeaders, 'request', version, request))
      assertPrefixesRejected(ElectLeaders, 'response', version,
        encode(ElectLeaders, 'response', version, response))
    }
  })

  it('matches Kafka\'s v2 wire layout byte for byte', () => {
    // election_type int8, compact array (n+1) of {compact string, compact int32 array, tags},
    // timeout_ms int32, tags.
    const bytes = encode(ElectLeaders, 'request', 2, REQUEST)
    assert.deepEqual([...bytes], [1, 2, 2, 0x74, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, 0xe8,
      0])
    assert.deepEqual(decode(ElectLeaders, 'request', 2, bytes), REQUEST)
  })

  it('answers every partition asked for in an error response', () => {
    assert.deepEqual(ElectLeaders.errorResponse(REQUEST, 2, 41), { throttleTimeMs: 0, errorCode: 41,
      replicaElectionResults: [{ topic: 't', partitionResult: [
        { partitionId: 0, errorCode: 41, errorMessage: null },
        { partitionId: 2, errorCode: 41, errorMessage: null }] }] })
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(ElectLeaders)
  })
})
