import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DEBUGGING_REPLICA_ID, OffsetForLeaderEpoch,
} from '../../../src/protocol/apis/offset-for-leader-epoch.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const RESPONSE = { throttleTimeMs: 0, topics: [{ topic: 't', partitions: [
  { errorCode: 0, partition: 0, leaderEpoch: 3, endOffset: 2 ** 35 },
  { errorCode: 74, partition: 1, leaderEpoch: -1, endOffset: -1 }] }] }

describe('OffsetForLeaderEpoch codec (versions 0-4)', () => {
  it('round-trips requests and responses at every version and rejects truncations', () => {
    for (const version of versionsOf(OffsetForLeaderEpoch)) {
      const request = {
        replicaId: version >= 3 ? 2 : DEBUGGING_REPLICA_ID,
        topics: [{ topic: 't', partitions: [
          { partition: 0, currentLeaderEpoch: version >= 2 ? 4 : -1, leaderEpoch: 3 }] }],
      }
      assertRoundTrip(OffsetForLeaderEpoch, 'request', version, request)
      // v0 has no leader_epoch in the response: it decodes as its default, -1.
      const response = version >= 1 ? RESPONSE : { ...RESPONSE, topics: RESPONSE.topics.map(
        topic => ({ ...topic,
          partitions: topic.partitions.map(p => ({ ...p, leaderEpoch: -1 })) })) }
      assertRoundTrip(OffsetForLeaderEpoch, 'response', version, response)
      assertPrefixesRejected(OffsetForLeaderEpoch, 'response', version,
        encode(OffsetForLeaderEpoch, 'response', version, response))
    }
  })

  it('defaults replica_id to the debugging replica before v3 (Kafka: -2)', () => {
    const bytes = encode(OffsetForLeaderEpoch, 'request', 2, { replicaId: 7, topics: [] })
    assert.equal((decode(OffsetForLeaderEpoch, 'request', 2, bytes) as { replicaId: number })
      .replicaId, DEBUGGING_REPLICA_ID)
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(OffsetForLeaderEpoch)
  })
})
