/**
 * The ClassicGroup state machine, one named scenario per transition and error of the classic
 * protocol, driven through step() on a simulated clock that only ticks at the deadlines the
 * group arms. The seeded simulator is in test/sim/group-sim.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  EMPTY_GROUP_LINGER_MS, type GroupResponse, type JoinResult,
} from '../../src/group/group-state.js'
import { ERROR } from '../../src/protocol/errors.js'
import { GroupHarness, SIM_CONFIG } from '../sim/group-sim.js'

/** Joins a new dynamic member through MEMBER_ID_REQUIRED; returns its id and join request. */
function joinNew (h: GroupHarness, protocols?: string[]): { memberId: string, request: number } {
  const required = h.joinResult(h.join('', null, protocols))
  assert.equal(required?.errorCode, ERROR.MEMBER_ID_REQUIRED)
  return { memberId: required.memberId, request: h.join(required.memberId, null, protocols) }
}

function joined (h: GroupHarness, request: number): JoinResult {
  const result = h.joinResult(request)
  assert.ok(result !== undefined, `join ${request} answered`)
  return result
}

function syncCode (h: GroupHarness, request: number): number | undefined {
  const response = h.responses.get(request)
  return response?.api === 'sync' ? response.errorCode : undefined
}

function commit (h: GroupHarness, memberId: string, generationId: number,
  retentionMs = -1): number {
  const id = h.request(requestId => ({ type: 'commit', requestId,
    member: { memberId, groupInstanceId: null }, generationId, retentionMs,
    offsets: [{ topic: 't', partition: 0, offset: 42, leaderEpoch: -1, metadata: null }] }))
  const response = h.responses.get(id) as Extract<GroupResponse, { api: 'commit' }>
  return response.errorCodes[0] as number
}

/** Advances time by `ms`, with the member heartbeating every 300 ms meanwhile. */
function keepAlive (h: GroupHarness, memberId: string, generationId: number, ms: number): void {
  for (let left = ms; left > 0; left -= 300) {
    h.advance(Math.min(300, left))
    if (h.group.members.has(memberId)) h.heartbeat(memberId, null, generationId)
  }
}

/** A single-member Stable group; returns the member id. */
function stableOfOne (h: GroupHarness): string {
  const a = joinNew(h)
  const result = joined(h, a.request)
  h.sync(a.memberId, null, result.generationId, GroupHarness.assign(result))
  assert.equal(h.group.state, 'Stable')
  return a.memberId
}

describe('ClassicGroup', () => {
  it('forms a generation with one leader, and followers wait for the leader\'s sync', () => {
    const h = new GroupHarness()
    const a = joinNew(h)
    const first = joined(h, a.request)
    assert.equal(first.errorCode, ERROR.NONE, 'a lone member completes the join at once')
    assert.equal(first.leader, a.memberId)
    assert.equal(h.group.state, 'CompletingRebalance')
    h.sync(a.memberId, null, 1, GroupHarness.assign(first))
    assert.equal(h.group.state, 'Stable')
    assert.equal(h.log.at(-1)?.kind, 'group', 'a Stable generation is persisted')
    const b = joinNew(h)
    assert.equal(h.responses.has(b.request), false, 'the join is held for the known members')
    assert.equal(h.heartbeat(a.memberId, null, 1), ERROR.REBALANCE_IN_PROGRESS)
    const leaderView = joined(h, h.join(a.memberId))
    const followerView = joined(h, b.request)
    assert.equal(leaderView.generationId, 2)
    assert.equal(followerView.leader, a.memberId)
    assert.equal(leaderView.members.length, 2, 'the leader gets every member\'s metadata')
    assert.equal(followerView.members.length, 0)
    const followerSync = h.sync(b.memberId, null, 2)
    assert.equal(h.responses.has(followerSync), false, 'a follower waits for the leader')
    h.sync(a.memberId, null, 2, GroupHarness.assign(leaderView))
    const assignment = h.responses.get(followerSync)
    assert.ok(assignment?.api === 'sync')
    assert.deepEqual([...assignment.assignment], [1, 3, 5, 7, 9, 11])
  })

  it('removes a member that misses the rebalance timeout, then one whose session expires', () => {
    const h = new GroupHarness()
    const a = stableOfOne(h)
    const b = joinNew(h)
    // a heartbeats (and hears REBALANCE_IN_PROGRESS) but never rejoins.
    keepAlive(h, a, 1, 1999)
    assert.equal(h.responses.has(b.request), false, 'held until the rebalance timeout')
    h.advance(1)
    assert.equal(joined(h, b.request).errorCode, ERROR.NONE)
    assert.equal(h.group.members.has(a), false)
    h.sync(b.memberId, null, 2, GroupHarness.assign(joined(h, b.request)))
    h.advance(999)
    assert.equal(h.group.state, 'Stable', 'the session has not expired yet')
    h.advance(1)
    assert.equal(h.group.state, 'Empty', 'session.timeout.ms after the last heartbeat')
    assert.equal(h.group.generationId, 3)
    assert.equal(h.heartbeat(b.memberId, null, 2), ERROR.UNKNOWN_MEMBER_ID)
  })

  it('removes members that never send SyncGroup within the rebalance timeout', () => {
    const h = new GroupHarness()
    const a = stableOfOne(h)
    const b = joinNew(h)
    h.join(a, null)
    const result = joined(h, b.request)
    assert.equal(h.group.state, 'CompletingRebalance')
    h.sync(b.memberId, null, result.generationId) // the follower syncs; the leader never does
    keepAlive(h, a, result.generationId, 2000)
    assert.equal(h.group.members.has(a), false, 'the silent leader is out')
    assert.equal(h.group.state, 'PreparingRebalance')
  })

  it('rebalances when the leader rejoins a Stable group, not when a follower does', () => {
    const h = new GroupHarness({ ...SIM_CONFIG, initialRebalanceDelayMs: 100 })
    const a = joinNew(h)
    const b = joinNew(h)
    h.advance(100)
    const leader = joined(h, a.request).leader === a.memberId ? a : b
    const follower = leader === a ? b : a
    h.sync(follower.memberId, null, 1)
    h.sync(leader.memberId, null, 1, GroupHarness.assign(joined(h, leader.request)))
    const again = joined(h, h.join(follower.memberId))
    assert.equal(again.generationId, 1, 'a follower with unchanged metadata stays in it')
    assert.equal(again.leader, leader.memberId)
    assert.equal(h.group.state, 'Stable')
    h.join(leader.memberId)
    assert.equal(h.group.state, 'PreparingRebalance', 'the leader may want to reassign')
  })

  it('answers ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID and INVALID_SESSION_TIMEOUT', () => {
    const h = new GroupHarness()
    const a = stableOfOne(h)
    assert.equal(h.heartbeat(a, null, 99), ERROR.ILLEGAL_GENERATION)
    assert.equal(h.heartbeat('ghost', null, 1), ERROR.UNKNOWN_MEMBER_ID)
    assert.equal(joined(h, h.join('ghost')).errorCode, ERROR.UNKNOWN_MEMBER_ID)
    assert.equal(syncCode(h, h.sync(a, null, 0)), ERROR.ILLEGAL_GENERATION)
    const tooShort = h.request(requestId => ({ type: 'join', requestId, request: {
      memberId: '', generatedMemberId: 'x', groupInstanceId: null, clientId: 'c',
      clientHost: 'h', sessionTimeoutMs: 1, rebalanceTimeoutMs: 1, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], requireKnownMemberId: true } }))
    assert.equal(joined(h, tooShort).errorCode, ERROR.INVALID_SESSION_TIMEOUT)
  })

  it('selects a protocol every member supports, by the members\' preference', () => {
    const h = new GroupHarness({ ...SIM_CONFIG, initialRebalanceDelayMs: 100 })
    joinNew(h, ['range', 'roundrobin'])
    joinNew(h, ['roundrobin', 'range'])
    const c = joinNew(h, ['roundrobin'])
    h.advance(100)
    assert.equal(joined(h, c.request).protocolName, 'roundrobin')
    assert.equal(h.group.members.size, 3)
    const other = h.join('', null, ['sticky'])
    assert.equal(joined(h, other).errorCode, ERROR.INCONSISTENT_GROUP_PROTOCOL)
  })

  it('refuses members past group.max.size', () => {
    const h = new GroupHarness({ ...SIM_CONFIG, membersMax: 2 })
    joinNew(h)
    joinNew(h)
    assert.equal(joined(h, h.join('')).errorCode, ERROR.GROUP_MAX_SIZE_REACHED)
  })

  it('holds the first generation for group.initial.rebalance.delay.ms', () => {
    const h = new GroupHarness({ ...SIM_CONFIG, initialRebalanceDelayMs: 500 })
    const a = joinNew(h)
    h.advance(300)
    const b = joinNew(h)
    assert.equal(h.responses.has(a.request), false)
    h.advance(200)
    assert.equal(joined(h, a.request).generationId, 1)
    assert.equal(joined(h, b.request).members.length + joined(h, a.request).members.length, 2)
  })

  it('gives a restarted static member its assignment back without a rebalance', () => {
    const h = new GroupHarness()
    const first = joined(h, h.join('', 'instance-a'))
    const b = h.join('', 'instance-b')
    const ra = joined(h, h.join(first.memberId, 'instance-a'))
    const rb = joined(h, b)
    const [leader, other] = ra.leader === ra.memberId ? [ra, rb] : [rb, ra]
    const otherInstance = other === ra ? 'instance-a' : 'instance-b'
    const otherSync = h.sync(other.memberId, otherInstance, other.generationId)
    h.sync(leader.memberId, other === ra ? 'instance-b' : 'instance-a', leader.generationId,
      GroupHarness.assign(leader))
    const before = h.responses.get(otherSync)
    assert.ok(before?.api === 'sync')
    const restarted = joined(h, h.join('', otherInstance))
    assert.equal(restarted.errorCode, ERROR.NONE)
    assert.equal(restarted.generationId, leader.generationId, 'no new generation')
    assert.equal(restarted.leader, leader.memberId)
    assert.equal(h.group.state, 'Stable', 'the others do not rebalance')
    const resync = h.responses.get(h.sync(restarted.memberId, otherInstance,
      restarted.generationId))
    assert.ok(resync?.api === 'sync')
    assert.deepEqual(resync.assignment, before.assignment)
    assert.equal(h.heartbeat(other.memberId, otherInstance, other.generationId),
      ERROR.FENCED_INSTANCE_ID, 'the old incarnation is fenced')
    assert.equal(h.heartbeat(leader.memberId, null, leader.generationId), ERROR.NONE)
    const fresh = h.replayed()
    assert.deepEqual(fresh.persistedView(), h.group.persistedView(), 'the swap is persisted')
  })

  it('accepts commits while PreparingRebalance but not before the assignment is known', () => {
    const h = new GroupHarness()
    const a = stableOfOne(h)
    assert.equal(commit(h, a, 1), ERROR.NONE)
    const b = joinNew(h)
    assert.equal(h.group.state, 'PreparingRebalance')
    assert.equal(commit(h, a, 1), ERROR.NONE, 'a member may commit before it rejoins')
    h.join(a)
    assert.equal(joined(h, b.request).generationId, 2)
    assert.equal(commit(h, a, 2), ERROR.REBALANCE_IN_PROGRESS)
    assert.equal(commit(h, a, 1), ERROR.ILLEGAL_GENERATION)
    assert.equal(commit(h, '', -1), ERROR.UNKNOWN_MEMBER_ID, 'admin commits need an Empty group')
  })

  it('checks TxnOffsetCommit\'s member like OffsetCommit\'s, but not the rebalance (KIP-447)',
    () => {
      const h = new GroupHarness()
      const check = (memberId: string, generationId: number): number => {
        const id = h.request(requestId => ({ type: 'txn-commit-check', requestId,
          member: { memberId, groupInstanceId: null }, generationId }))
        const response = h.responses.get(id)
        assert.equal(response?.api, 'txn-commit-check')
        return response?.api === 'txn-commit-check' ? response.errorCode : -1
      }
      const a = stableOfOne(h)
      assert.equal(check(a, 1), ERROR.NONE)
      assert.equal(check(a, 2), ERROR.ILLEGAL_GENERATION)
      assert.equal(check('zombie', 1), ERROR.UNKNOWN_MEMBER_ID)
      assert.equal(check('', -1), ERROR.NONE,
        'no member fields: a non-empty group takes transactional offsets (Kafka)')
      const b = joinNew(h)
      h.join(a)
      assert.equal(joined(h, b.request).generationId, 2)
      assert.equal(h.group.state, 'CompletingRebalance')
      // OffsetCommit answers REBALANCE_IN_PROGRESS here; a transactional commit is decided
      // later by its marker, so Kafka stages it.
      assert.equal(commit(h, a, 2), ERROR.REBALANCE_IN_PROGRESS)
      assert.equal(check(a, 2), ERROR.NONE)
      assert.equal(check(a, 1), ERROR.ILLEGAL_GENERATION, 'the generation before the rebalance')
      assert.equal(h.group.offsets.size, 0, 'a check commits nothing')
    })

  it('expires an Empty group\'s offsets after offsets.retention.minutes, then the group', () => {
    const h = new GroupHarness()
    assert.equal(commit(h, '', -1), ERROR.NONE, 'generation -1 commits to an Empty group')
    const a = stableOfOne(h)
    h.request(requestId => ({ type: 'leave', requestId,
      members: [{ memberId: a, groupInstanceId: null }] }))
    assert.equal(h.group.state, 'Empty')
    h.advance(SIM_CONFIG.offsetsRetentionMs - 1)
    assert.equal(h.group.offsets.size, 1)
    h.advance(1)
    assert.equal(h.group.offsets.size, 0, 'retention after the group became Empty')
    // Empty for longer than offsets.retention.check.interval.ms and no offsets: removed too.
    assert.ok(SIM_CONFIG.offsetsRetentionMs > EMPTY_GROUP_LINGER_MS)
    assert.equal(h.group.state, 'Dead')
    assert.deepEqual(h.log.slice(-2), [
      { kind: 'offset', groupId: 'g', topic: 't', partition: 0, value: null },
      { kind: 'group', groupId: 'g', value: null }])
  })

  it('expires an offset committed with a retention time while the group is Stable', () => {
    const h = new GroupHarness()
    const a = stableOfOne(h)
    assert.equal(commit(h, a, 1, 50), ERROR.NONE)
    h.heartbeat(a, null, 1)
    h.advance(50)
    assert.equal(h.group.offsets.size, 0)
  })

  it('deletes only Empty groups, with tombstones for the group and its offsets', () => {
    const h = new GroupHarness()
    const a = stableOfOne(h)
    commit(h, a, 1)
    const refused = h.request(requestId => ({ type: 'delete-group', requestId }))
    assert.deepEqual(h.responses.get(refused), { api: 'delete-group',
      errorCode: ERROR.NON_EMPTY_GROUP })
    h.request(requestId => ({ type: 'leave', requestId,
      members: [{ memberId: a, groupInstanceId: null }] }))
    h.request(requestId => ({ type: 'delete-group', requestId }))
    assert.equal(h.group.state, 'Dead')
    assert.deepEqual(h.log.slice(-2).map(r => [r.kind, r.value]), [['offset', null],
      ['group', null]])
    assert.equal(h.replayed().state, 'Dead', 'a replay finds nothing')
  })

  it('refuses to delete offsets of a topic an active member subscribes to', () => {
    const h = new GroupHarness()
    // ConsumerProtocolSubscription v0 for topic "t" (version, [topics], user data).
    const subscription = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff])
    const id = h.request(requestId => ({ type: 'join', requestId, request: {
      memberId: '', generatedMemberId: 'm', groupInstanceId: null, clientId: 'c',
      clientHost: 'h', sessionTimeoutMs: 1000, rebalanceTimeoutMs: 1000,
      protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription }],
      requireKnownMemberId: false } }))
    h.sync('m', null, joined(h, id).generationId, [])
    commit(h, 'm', 1)
    const del = h.request(requestId => ({ type: 'delete-offsets', requestId,
      partitions: [{ topic: 't', partition: 0 }, { topic: 'other', partition: 0 }] }))
    assert.deepEqual(h.responses.get(del), { api: 'delete-offsets', errorCode: ERROR.NONE,
      errorCodes: [ERROR.GROUP_SUBSCRIBED_TO_TOPIC, ERROR.NONE] })
  })

  it('rebuilds members, assignments and static ids from its records', () => {
    const h = new GroupHarness()
    const first = joined(h, h.join('', 'static-1'))
    h.sync(first.memberId, 'static-1', 1, GroupHarness.assign(first))
    const fresh = h.replayed()
    assert.equal(fresh.state, 'Stable')
    assert.deepEqual(fresh.persistedView(), h.group.persistedView())
    // After a coordinator restart the static member still gets its partitions back.
    fresh.step({ type: 'join', requestId: 1, request: { memberId: '', generatedMemberId: 'new',
      groupInstanceId: 'static-1', clientId: 'c', clientHost: 'h', sessionTimeoutMs: 1000,
      rebalanceTimeoutMs: 1000, protocolType: 'consumer',
      protocols: [{ name: 'roundrobin', metadata: Buffer.from('roundrobin') }],
      requireKnownMemberId: false } }, h.nowMs)
    const response = fresh.ready().find(effect => effect.type === 'respond')
    assert.ok(response?.type === 'respond' && response.response.api === 'join')
    assert.equal(response.response.result.generationId, 1)
    assert.equal(fresh.state, 'Stable')
  })
})
