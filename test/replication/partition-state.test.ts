/**
 * The leader's pure partition state, case by case (the seeded simulator in
 * test/sim/replication-sim.ts covers random interleavings): the high watermark over the ISR,
 * Kafka's lastCaughtUpTime rules, KIP-207 expansion, the maximal ISR while a change is
 * pending, and acks=all outcomes.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LeaderPartitionState } from '../../src/replication/partition-state.js'

const LAG_MS = 1000
const live = (): boolean => true

function leaderOf (isr = [1, 2, 3], endOffset = 10, highWatermark = 5): LeaderPartitionState {
  return new LeaderPartitionState({ leaderId: 1, leaderEpoch: 4, partitionEpoch: 7,
    replicas: [1, 2, 3], isr }, { leaderEndOffset: endOffset, epochStartOffset: endOffset,
    highWatermark, nowMs: 0, replicaLagTimeMaxMs: LAG_MS })
}

describe('LeaderPartitionState', () => {
  it('raises the high watermark to the smallest log end offset reported by the ISR', () => {
    const leader = leaderOf()
    assert.equal(leader.highWatermark, 5, 'followers have not fetched in this epoch')
    assert.equal(leader.onFollowerFetch(2, 8, 10, 1), false, 'follower 3 is still unknown')
    assert.equal(leader.onFollowerFetch(3, 7, 10, 1), true)
    assert.equal(leader.highWatermark, 7)
    leader.onFollowerFetch(3, 10, 10, 2)
    assert.equal(leader.highWatermark, 8)
    leader.onFollowerFetch(2, 10, 10, 2)
    assert.equal(leader.highWatermark, 10)
    // Never past the leader's own durable end, never backwards.
    leader.onLeaderEndOffset(12)
    assert.equal(leader.highWatermark, 10)
    leader.onFollowerFetch(2, 9, 12, 3)
    assert.equal(leader.highWatermark, 10)
  })

  it('makes every follower drop a tail a failed write cut, and waits for all of them', () => {
    const leader = leaderOf([1, 2, 3], 10, 5)
    leader.onFollowerFetch(2, 12, 14, 1) // copied written, unfsynced records up to 12
    leader.onFollowerFetch(3, 9, 14, 1)
    leader.onWrittenCut(10) // the leader's fsync failed: back to its durable end
    assert.equal(leader.followerLogEndOffset(2), 10, 'an end past the cut counted lost records')
    assert.equal(leader.awaitingCutTruncation, true)
    assert.equal(leader.truncationAfterCut(2, 12), 10, 'past the cut: truncate to it')
    assert.equal(leader.truncationAfterCut(2, 12), 10, 'until it fetches at or below it')
    assert.equal(leader.truncationAfterCut(2, 10), undefined)
    assert.equal(leader.awaitingCutTruncation, true, 'follower 3 has not fetched since')
    leader.onWrittenCut(11) // a later cut never raises an earlier one's point
    assert.equal(leader.truncationAfterCut(3, 11), 10)
    assert.equal(leader.truncationAfterCut(3, 9), undefined)
    assert.equal(leader.truncationAfterCut(2, 10), undefined)
    assert.equal(leader.awaitingCutTruncation, false)
    assert.equal(leader.truncationAfterCut(2, 14), undefined, 'cleared: its reads are the leader\'s')
  })

  it('commits a sole in-sync leader\'s durable log as it takes over (a restarted replica)',
    () => {
      // A checkpointed HW of 5 and a durable end of 10 after the restart: nobody else to wait
      // for, so the HW is 10 before any new append (a reader at 5..9 is not left waiting).
      assert.equal(leaderOf([1]).highWatermark, 10)
      assert.equal(leaderOf([1, 2]).highWatermark, 5, 'follower 2 has not reported yet')
    })

  it('follows Kafka\'s lastCaughtUpTime rules for the ISR shrink', () => {
    const leader = leaderOf()
    leader.onFollowerFetch(2, 10, 10, 100) // at the leader's end: caught up at 100
    leader.onFollowerFetch(3, 6, 10, 100) // behind
    assert.deepEqual(leader.shrinkCandidates(1000, live), [])
    leader.onFollowerFetch(3, 14, 14, 1050) // at the end again: caught up at 1050
    // Behind the leader's end now, but at the end the leader had at its previous fetch:
    // caught up as of that previous fetch (1050), not now.
    leader.onFollowerFetch(3, 14, 20, 1200)
    assert.deepEqual(leader.shrinkCandidates(1101, live), [2], 'only 2 stopped fetching')
    assert.deepEqual(leader.shrinkCandidates(2051, live), [2, 3], '3 caught up at 1050')
    assert.deepEqual(leader.shrinkCandidates(1101, id => id !== 3), [2, 3], 'fenced brokers go')
    const change = leader.proposeIsrChange(1101, live)
    assert.deepEqual(change, { kind: 'shrink', isr: [1, 3], leaderEpoch: 4, partitionEpoch: 7 })
    assert.equal(leader.proposeIsrChange(1100, live), undefined, 'one change at a time')
  })

  it('lets a follower back in once it reaches the high watermark and the epoch start ' +
    '(KIP-207), counting it from the moment the change is proposed', () => {
    const leader = leaderOf([1, 2])
    leader.onFollowerFetch(2, 10, 10, 1)
    assert.equal(leader.highWatermark, 10)
    leader.onLeaderEndOffset(20)
    leader.onFollowerFetch(3, 9, 20, 2)
    assert.equal(leader.isExpandCandidate(3, live), false, 'below the high watermark')
    leader.onFollowerFetch(3, 12, 20, 3)
    assert.equal(leader.isExpandCandidate(3, live), true)
    assert.equal(leader.isExpandCandidate(3, () => false), false, 'not while fenced')
    const change = leader.proposeIsrChange(3, live)
    assert.deepEqual(change?.isr, [1, 2, 3])
    // Pending expansion: the maximal ISR holds 3, so the HW waits for it.
    leader.onFollowerFetch(2, 20, 20, 4)
    assert.equal(leader.highWatermark, 12)
    assert.deepEqual(leader.maximalIsr, [1, 2, 3])
    // The metadata carries it: the ISR and partition epoch become the state.
    leader.applyMetadata({ leaderId: 1, leaderEpoch: 4, partitionEpoch: 8, replicas: [1, 2, 3],
      isr: [1, 2, 3] }, 5)
    assert.equal(leader.pendingChange, undefined)
    assert.equal(leader.partitionEpoch, 8)
  })

  it('answers acks=all: wait below the HW, done past it, NOT_ENOUGH_REPLICAS_AFTER_APPEND ' +
    'when the ISR shrank below the minimum', () => {
    const leader = leaderOf([1, 2])
    assert.equal(leader.hasEnoughReplicas(2), true)
    assert.equal(leader.ackAllStatus(7, 2), 'wait')
    leader.onFollowerFetch(2, 10, 10, 1)
    assert.equal(leader.ackAllStatus(7, 2), 'done')
    assert.equal(leader.ackAllStatus(10, 2), 'wait', 'offset 10 is not below the HW')
    leader.applyMetadata({ leaderId: 1, leaderEpoch: 4, partitionEpoch: 8, replicas: [1, 2, 3],
      isr: [1] }, 2)
    assert.equal(leader.hasEnoughReplicas(2), false)
    leader.onLeaderEndOffset(15)
    assert.equal(leader.ackAllStatus(12, 2), 'not-enough-replicas-after-append')
  })

  it('drops a refused change so the next one can be proposed', () => {
    const leader = leaderOf()
    leader.onFollowerFetch(2, 10, 10, 4900)
    leader.onFollowerFetch(3, 10, 10, 4900)
    const shrink = leader.proposeIsrChange(5000, id => id !== 3)
    assert.deepEqual(shrink?.isr, [1, 2])
    leader.changeFailed()
    assert.deepEqual(leader.proposeIsrChange(5000, id => id !== 3)?.isr, [1, 2])
  })
})
