import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DescribeTopicPartitions, type DescribeTopicPartitionsResponse,
} from '../../../src/protocol/apis/describe-topic-partitions.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, encode, PROTOCOL_SEED,
} from '../support/messages.js'

const RESPONSE: DescribeTopicPartitionsResponse = {
  throttleTimeMs: 0,
  topics: [{
    errorCode: 0, name: 'orders', topicId: Buffer.alloc(16, 7), isInternal: false,
    partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 2,
      replicaNodes: [1], isrNodes: [1], eligibleLeaderReplicas: null, lastKnownElr: [],
      offlineReplicas: [] }],
    topicAuthorizedOperations: 3576,
  }],
  nextCursor: { topicName: 'orders', partitionIndex: 1 },
}

describe('DescribeTopicPartitions codec (version 0, flexible)', () => {
  it('round-trips requests with and without a cursor, and responses', () => {
    const withCursor = assertRoundTrip(DescribeTopicPartitions, 'request', 0, {
      topics: [{ name: 'a' }], responsePartitionLimit: 10,
      cursor: { topicName: 'a', partitionIndex: 3 },
    })
    // topics [a], limit 10, cursor marker 1, "a", 3, cursor tags, request tags
    assert.equal(withCursor.toString('hex'),
      '02' + '0261' + '00' + '0000000a' + '01' + '0261' + '00000003' + '00' + '00')
    const without = assertRoundTrip(DescribeTopicPartitions, 'request', 0,
      { topics: [], responsePartitionLimit: 2000, cursor: null })
    assert.equal(without.toString('hex'), '01' + '000007d0' + 'ff' + '00')
    assertRoundTrip(DescribeTopicPartitions, 'response', 0, RESPONSE)
    assertRoundTrip(DescribeTopicPartitions, 'response', 0, { ...RESPONSE, nextCursor: null })
    assertPrefixesRejected(DescribeTopicPartitions, 'response', 0,
      encode(DescribeTopicPartitions, 'response', 0, RESPONSE))
  })

  it(`round-trips random messages (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DescribeTopicPartitions)
  })
})
