import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AlterPartitionReassignments,
} from '../../../src/protocol/apis/alter-partition-reassignments.js'
import {
  ListPartitionReassignments,
} from '../../../src/protocol/apis/list-partition-reassignments.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const ALTER_REQUEST = { timeoutMs: 1000, allowReplicationFactorChange: false, topics: [
  { name: 't', partitions: [{ partitionIndex: 0, replicas: [2, 3] },
    { partitionIndex: 1, replicas: null }] }] }
const ALTER_RESPONSE = { throttleTimeMs: 0, allowReplicationFactorChange: false, errorCode: 0,
  errorMessage: null, responses: [{ name: 't', partitions: [
    { partitionIndex: 0, errorCode: 0, errorMessage: null },
    { partitionIndex: 1, errorCode: 85, errorMessage: 'none' }] }] }
const LIST_REQUEST = { timeoutMs: 1000, topics: [{ name: 't', partitionIndexes: [0, 1] }] }
const LIST_RESPONSE = { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: [
  { name: 't', partitions: [{ partitionIndex: 0, replicas: [2, 3, 1], addingReplicas: [2, 3],
    removingReplicas: [1] }] }] }

describe('AlterPartitionReassignments codec (versions 0-1)', () => {
  it('round-trips, with a null (cancel) replica list, at every version', () => {
    for (const version of versionsOf(AlterPartitionReassignments)) {
      // v0 has no allow_replication_factor_change: it reads as its default, true.
      const request = version === 0
        ? { ...ALTER_REQUEST, allowReplicationFactorChange: true }
        : ALTER_REQUEST
      const response = version === 0
        ? { ...ALTER_RESPONSE, allowReplicationFactorChange: true }
        : ALTER_RESPONSE
      assertRoundTrip(AlterPartitionReassignments, 'request', version, request)
      assertRoundTrip(AlterPartitionReassignments, 'response', version, response)
      assertPrefixesRejected(AlterPartitionReassignments, 'request', version,
        encode(AlterPartitionReassignments, 'request', version, request))
      assertPrefixesRejected(AlterPartitionReassignments, 'response', version,
        encode(AlterPartitionReassignments, 'response', version, response))
    }
  })

  it('lays v1 out as Kafka 4.1 does: timeout, then the flag, then the topics', () => {
    const bytes = encode(AlterPartitionReassignments, 'request', 1, { ...ALTER_REQUEST,
      topics: [] })
    assert.deepEqual([...bytes], [0, 0, 3, 0xe8, 0, 1, 0])
    const v0 = encode(AlterPartitionReassignments, 'request', 0, { ...ALTER_REQUEST,
      topics: [] })
    assert.deepEqual([...v0], [0, 0, 3, 0xe8, 1, 0])
    const decoded = decode(AlterPartitionReassignments, 'request', 0, v0) as
      { allowReplicationFactorChange: boolean }
    assert.equal(decoded.allowReplicationFactorChange, true)
  })

  it('answers every partition asked for in an error response', () => {
    const response = AlterPartitionReassignments.errorResponse(ALTER_REQUEST, 1, 41)
    assert.equal(response.errorCode, 41)
    assert.deepEqual(response.responses, [{ name: 't', partitions: [
      { partitionIndex: 0, errorCode: 41, errorMessage: null },
      { partitionIndex: 1, errorCode: 41, errorMessage: null }] }])
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(AlterPartitionReassignments)
  })
})

describe('ListPartitionReassignments codec (version 0)', () => {
  it('round-trips requests (null topics too) and responses', () => {
    assertRoundTrip(ListPartitionReassignments, 'request', 0, LIST_REQUEST)
    assertRoundTrip(ListPartitionReassignments, 'request', 0, { timeoutMs: 5, topics: null })
    assertRoundTrip(ListPartitionReassignments, 'response', 0, LIST_RESPONSE)
    assertPrefixesRejected(ListPartitionReassignments, 'request', 0,
      encode(ListPartitionReassignments, 'request', 0, LIST_REQUEST))
    assertPrefixesRejected(ListPartitionReassignments, 'response', 0,
      encode(ListPartitionReassignments, 'response', 0, LIST_RESPONSE))
  })

  it(`round-trips random messages (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(ListPartitionReassignments)
  })
})
