/**
 * The controller's pure partition decisions (src/controller/partition-change.ts): leader
 * election on fencing and controlled shutdown, unclean election, preferred election, and the
 * reassignment transitions (start, completion, cancel), each as Kafka's
 * PartitionChangeBuilder / PartitionReassignmentReplicas decide them.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  completedReassignment, onlineTarget, partitionRecord, preferredElection,
  revertedReassignment, startReassignment, uncleanElection, type BrokerStates,
  type PartitionState,
} from '../../src/controller/partition-change.js'

function partition (replicas: number[], isr: number[], leader: number,
  extra: Partial<PartitionState> = {}): PartitionState {
  return { partitionId: 0, replicas, isr, leader, leaderEpoch: 5, partitionEpoch: 9,
    addingReplicas: [], removingReplicas: [], ...extra }
}

function states (live: number[], shuttingDown: number[] = []): BrokerStates {
  return { live: new Set(live), shuttingDown: new Set(shuttingDown) }
}

describe('onlineTarget (leader and ISR after fencing or controlled shutdown)', () => {
  it('keeps a live leader and drops dead followers from the ISR', () => {
    const target = onlineTarget(partition([1, 2, 3], [1, 2, 3], 1), states([1, 3]), () => false)
    assert.equal(target.leader, 1)
    assert.deepEqual(target.isr, [1, 3])
    assert.equal(target.unclean, false)
  })

  it('moves leadership to the first eligible ISR member in replica order', () => {
    const target = onlineTarget(partition([1, 2, 3], [3, 2, 1], 1), states([2, 3]), () => false)
    assert.equal(target.leader, 2)
    assert.deepEqual(target.isr, [3, 2])
  })

  it('moves leadership off a broker in controlled shutdown and takes it out of the ISR', () => {
    const target = onlineTarget(partition([1, 2, 3], [1, 2, 3], 1), states([1, 2, 3], [1]),
      () => false)
    assert.equal(target.leader, 2)
    assert.deepEqual(target.isr, [2, 3])
  })

  it('leaves a shutting-down broker leading when it is the only in-sync replica', () => {
    const target = onlineTarget(partition([1, 2], [1], 1), states([1, 2], [1]), () => false)
    assert.equal(target.leader, 1)
    assert.deepEqual(target.isr, [1])
  })

  it('without unclean election: no leader, and the last ISR member is kept', () => {
    const target = onlineTarget(partition([1, 2, 3], [1], 1), states([2, 3]), () => false)
    assert.equal(target.leader, -1)
    assert.deepEqual(target.isr, [1])
    assert.equal(target.unclean, false)
  })

  it('with unclean election: the first live replica leads alone', () => {
    const target = onlineTarget(partition([1, 2, 3], [1], 1), states([2, 3]), () => true)
    assert.equal(target.leader, 2)
    assert.deepEqual(target.isr, [2])
    assert.equal(target.unclean, true)
  })

  it('never chooses an out-of-sync replica while an in-sync one lives, unclean or not', () => {
    const target = onlineTarget(partition([1, 2, 3], [1, 3], 1), states([2, 3]), () => true)
    assert.equal(target.leader, 3)
    assert.equal(target.unclean, false)
  })

  it('gives a leaderless partition back to a returning ISR member', () => {
    const target = onlineTarget(partition([1, 2], [1], -1), states([1, 2]), () => false)
    assert.equal(target.leader, 1)
  })
})

describe('partitionRecord', () => {
  it('bumps the leader epoch only when the leader changes or replicas are removed', () => {
    const p = partition([1, 2, 3], [1, 2, 3], 1)
    const sameLeader = partitionRecord('t', p, { ...onlineTarget(p, states([1, 2]), () => false) })
    assert.equal(sameLeader.leaderEpoch, 5)
    assert.equal(sameLeader.partitionEpoch, 10)
    const moved = partitionRecord('t', p, onlineTarget(p, states([2, 3]), () => false))
    assert.equal(moved.leaderEpoch, 6)
    assert.equal(moved.addingReplicas, undefined, 'no reassignment fields when none is going on')
  })

  it('refuses a leader outside the ISR (an invariant, not input)', () => {
    const p = partition([1, 2], [1, 2], 1)
    assert.throws(() => partitionRecord('t', p, { replicas: [1, 2], isr: [2], leader: 1,
      addingReplicas: [], removingReplicas: [], unclean: false }), /outside ISR/)
  })
})

describe('preferred and unclean elections (ElectLeaders)', () => {
  it('elects the preferred replica when it is in sync and eligible', () => {
    const outcome = preferredElection(partition([1, 2, 3], [1, 2, 3], 2), states([1, 2, 3]))
    assert.ok('target' in outcome)
    assert.equal(outcome.target.leader, 1)
  })

  it('answers ELECTION_NOT_NEEDED and PREFERRED_LEADER_NOT_AVAILABLE as Kafka does', () => {
    const led = preferredElection(partition([1, 2], [1, 2], 1), states([1, 2]))
    assert.ok('errorName' in led && led.errorName === 'ELECTION_NOT_NEEDED')
    const outOfSync = preferredElection(partition([1, 2], [2], 2), states([1, 2]))
    assert.ok('errorName' in outOfSync && outOfSync.errorName === 'PREFERRED_LEADER_NOT_AVAILABLE')
    const dead = preferredElection(partition([1, 2], [1, 2], 2), states([2]))
    assert.ok('errorName' in dead && dead.errorName === 'PREFERRED_LEADER_NOT_AVAILABLE')
    const leaving = preferredElection(partition([1, 2], [1, 2], 2), states([1, 2], [1]))
    assert.ok('errorName' in leaving && leaving.errorName === 'PREFERRED_LEADER_NOT_AVAILABLE')
  })

  it('an unclean election only for a partition without a live leader', () => {
    const led = uncleanElection(partition([1, 2], [1, 2], 1), states([1, 2]))
    assert.ok('errorName' in led && led.errorName === 'ELECTION_NOT_NEEDED')
    const offline = uncleanElection(partition([1, 2, 3], [1], -1), states([3]))
    assert.ok('target' in offline)
    assert.deepEqual([offline.target.leader, offline.target.isr, offline.target.unclean],
      [3, [3], true])
    const none = uncleanElection(partition([1, 2], [1], -1), states([3]))
    assert.ok('errorName' in none && none.errorName === 'ELIGIBLE_LEADERS_NOT_AVAILABLE')
  })
})

describe('reassignment (KIP-455)', () => {
  it('starts with target ∪ current, target first; adding and removing set', () => {
    const target = startReassignment(partition([1, 2, 3], [1, 2, 3], 1), [4, 2, 5])
    assert.deepEqual(target.replicas, [4, 2, 5, 1, 3])
    assert.deepEqual(target.addingReplicas, [4, 5])
    assert.deepEqual(target.removingReplicas, [1, 3])
    assert.deepEqual(target.isr, [1, 2, 3])
    assert.equal(target.leader, 1)
  })

  it('completes only once every target replica is in the ISR, moving a removed leader', () => {
    const started = { ...partition([1], [1], 1), ...startReassignment(partition([1], [1], 1),
      [2, 3]) }
    assert.deepEqual(started.replicas, [2, 3, 1])
    assert.equal(completedReassignment(started, states([1, 2, 3])), undefined)
    assert.equal(completedReassignment({ ...started, isr: [1, 2] }, states([1, 2, 3])),
      undefined)
    const done = completedReassignment({ ...started, isr: [1, 2, 3] }, states([1, 2, 3]))
    assert.ok(done !== undefined)
    assert.deepEqual([done.replicas, done.isr, done.leader, done.addingReplicas,
      done.removingReplicas], [[2, 3], [2, 3], 2, [], []])
    const record = partitionRecord('t', { ...started, isr: [1, 2, 3] }, done)
    assert.equal(record.leaderEpoch, 6, 'the leader moved')
  })

  it('a pure shrink or reorder completes at once', () => {
    const p = partition([1, 2, 3], [1, 2, 3], 1)
    const started = { ...p, ...startReassignment(p, [3, 2]) }
    const done = completedReassignment(started, states([1, 2, 3]))
    assert.ok(done !== undefined)
    assert.deepEqual([done.replicas, done.isr, done.leader], [[3, 2], [2, 3], 3])
  })

  it('cancelling drops the adding replicas and restores the leader among the original ones', () => {
    const p = partition([1, 2], [1, 2], 1)
    const started = { ...p, ...startReassignment(p, [3, 4]), isr: [1, 2, 3] }
    const reverted = revertedReassignment({ ...started, leader: 3 }, states([1, 2, 3, 4]))
    assert.ok(reverted !== undefined)
    assert.deepEqual([reverted.replicas, reverted.isr, reverted.leader, reverted.addingReplicas,
      reverted.removingReplicas], [[1, 2], [1, 2], 1, [], []])
  })

  it('refuses to cancel when only adding replicas are in sync (Kafka would go unclean)', () => {
    const p = partition([1], [1], 1)
    const started = { ...p, ...startReassignment(p, [2]), isr: [2], leader: 2 }
    assert.equal(revertedReassignment(started, states([1, 2])), undefined)
  })
})
