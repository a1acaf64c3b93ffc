/**
 * The ClassicGroup state machine, deterministically: named scenarios, and a seeded simulator
 * that drives simulated clients (join, sync, heartbeat, leave, crash, static restart) on a
 * simulated clock and checks invariants after every event. A failure prints SEED=... to
 * replay it: `GROUP_SEED=<n> node --test dist/test/group/`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClassicGroup, type GroupEffect, type JoinResult } from '../../src/group/group-state.js'
import { ERROR } from '../../src/protocol/errors.js'
import { seededRandom } from '../support/seeded-random.js'

const LIMITS = { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 100,
  maxSessionTimeoutMs: 60_000, membersMax: 100 }
const PARTITIONS = 6


/** Assignment bytes: the partition numbers this member owns. */
const encode = (partitions: number[]): Buffer => Buffer.from(partitions)

class Harness {
  readonly group = new ClassicGroup('g', LIMITS)
  nowMs = 0
  nextRequest = 1
  nextMemberId = 1
  readonly answered = new Set<number>()
  readonly joins = new Map<number, JoinResult>()
  readonly syncs = new Map<number, { errorCode: number, assignment: Buffer }>()

  drain (): void {
    for (const effect of this.group.ready() as GroupEffect[]) {
      if (effect.type === 'persist') continue
      assert.ok(!this.answered.has(effect.requestId), `request ${effect.requestId} answered twice`)
      this.answered.add(effect.requestId)
      if (effect.type === 'join') this.joins.set(effect.requestId, effect.result)
      else this.syncs.set(effect.requestId, effect)
    }
  }

  join (memberId: string, instance: string | null = null, sessionTimeoutMs = 1000): number {
    const requestId = this.nextRequest++
    this.group.join({ requestId, memberId, generatedMemberId: `m${this.nextMemberId++}`,
      groupInstanceId: instance, clientId: 'c', clientHost: 'h', sessionTimeoutMs,
      rebalanceTimeoutMs: 2000, protocolType: 'consumer',
      protocols: [{ name: 'roundrobin', metadata: Buffer.from('meta') }],
      requireKnownMemberId: true }, this.nowMs)
    this.drain()
    return requestId
  }

  sync (memberId: string, generationId: number, assignments: { memberId: string,
    assignment: Buffer }[] = []): number {
    const requestId = this.nextRequest++
    this.group.sync(requestId, memberId, null, generationId, assignments)
    this.drain()
    return requestId
  }

  tick (ms: number): void {
    this.nowMs += ms
    this.group.tick(this.nowMs)
    this.drain()
  }

  /** Leader-side round robin over the members of a join response. */
  static assign (result: JoinResult): { memberId: string, assignment: Buffer }[] {
    const owned = new Map(result.members.map(m => [m.memberId, [] as number[]]))
    const ids = [...owned.keys()]
    for (let p = 0; p < PARTITIONS; p++) owned.get(ids[p % ids.length] as string)?.push(p)
    return [...owned].map(([memberId, partitions]) => ({ memberId,
      assignment: encode(partitions) }))
  }

  checkInvariants (): void {
    const group = this.group
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') {
      assert.ok(group.leaderId !== null && group.members.has(group.leaderId),
        'the leader is a member')
    }
    if (group.state === 'Stable') {
      const owned = [...group.members.values()].flatMap(m => [...m.assignment])
      assert.equal(owned.length, new Set(owned).size, 'no partition assigned twice')
    }
    if (group.state === 'Empty') assert.equal(group.members.size, 0)
    const replayed = ClassicGroup.restore('g', LIMITS, group.snapshot(), this.nowMs)
    assert.deepEqual(replayed.snapshot(), group.snapshot(), 'state equals a replay')
  }
}

/** Joins a new dynamic member through MEMBER_ID_REQUIRED; returns its id. */
function joinNew (h: Harness): { memberId: string, request: number } {
  const first = h.join('')
  const required = h.joins.get(first)
  assert.equal(required?.errorCode, ERROR.MEMBER_ID_REQUIRED)
  const memberId = required.memberId
  return { memberId, request: h.join(memberId) }
}

describe('ClassicGroup', () => {
  it('forms a generation with one leader and hands out the leader\'s assignment', () => {
    const h = new Harness()
    const a = joinNew(h)
    const b = { memberId: '', request: 0 }
    const first = h.joins.get(a.request)
    assert.equal(first?.errorCode, ERROR.NONE, 'a lone member completes at once')
    assert.equal(h.group.state, 'CompletingRebalance')
    h.sync(a.memberId, first.generationId, Harness.assign(first))
    assert.equal(h.group.state, 'Stable')
    // A second member triggers a rebalance; the first learns of it from its heartbeat.
    Object.assign(b, joinNew(h))
    assert.equal(h.group.heartbeat(a.memberId, null, first.generationId, h.nowMs),
      ERROR.REBALANCE_IN_PROGRESS)
    const rejoin = h.join(a.memberId)
    const leaderView = h.joins.get(rejoin)
    const followerView = h.joins.get(b.request)
    assert.equal(leaderView?.generationId, 2)
    assert.equal(leaderView?.leader, a.memberId)
    assert.equal(leaderView?.members.length, 2)
    assert.equal(followerView?.members.length, 0)
    const followerSync = h.sync(b.memberId, 2)
    assert.equal(h.syncs.has(followerSync), false, 'a follower waits for the leader')
    h.sync(a.memberId, 2, Harness.assign(leaderView as JoinResult))
    assert.deepEqual([...(h.syncs.get(followerSync)?.assignment ?? [])], [1, 3, 5])
    h.checkInvariants()
  })

  it('removes a member whose session expires, and one that misses the rebalance timeout', () => {
    const h = new Harness()
    const a = joinNew(h)
    h.sync(a.memberId, 1, Harness.assign(h.joins.get(a.request) as JoinResult))
    const b = joinNew(h)
    // a never rejoins: after the rebalance timeout the generation completes without it.
    h.tick(2500)
    assert.equal(h.joins.get(b.request)?.errorCode, ERROR.NONE)
    assert.equal(h.group.members.has(a.memberId), false)
    h.sync(b.memberId, 2, Harness.assign(h.joins.get(b.request) as JoinResult))
    // b stops heartbeating: its session expires and the group empties.
    h.tick(1500)
    assert.equal(h.group.state, 'Empty')
    assert.equal(h.group.heartbeat(b.memberId, null, 2, h.nowMs), ERROR.UNKNOWN_MEMBER_ID)
    h.checkInvariants()
  })

  it('fences stale generations and unknown members', () => {
    const h = new Harness()
    const a = joinNew(h)
    assert.equal(h.group.heartbeat(a.memberId, null, 99, h.nowMs), ERROR.ILLEGAL_GENERATION)
    assert.equal(h.group.heartbeat('ghost', null, 1, h.nowMs), ERROR.UNKNOWN_MEMBER_ID)
    assert.equal(h.joins.get(h.join('ghost'))?.errorCode, ERROR.UNKNOWN_MEMBER_ID)
    assert.equal(h.group.commitError(a.memberId, null, 0), ERROR.ILLEGAL_GENERATION)
  })

  it('gives a restarted static member its old assignment without a rebalance', () => {
    const h = new Harness()
    const first = h.joins.get(h.join('', 'instance-a')) as JoinResult
    const b = h.join('', 'instance-b')
    // a learns of the rebalance and rejoins with its member id; then both are answered.
    const a = h.join(first.memberId, 'instance-a')
    const ra = h.joins.get(a) as JoinResult
    const rb = h.joins.get(b) as JoinResult
    assert.equal(ra.generationId, 2)
    assert.equal(rb.generationId, 2)
    const leader = ra.leader === ra.memberId ? ra : rb
    h.sync(leader.memberId, leader.generationId, Harness.assign(leader))
    const other = leader === ra ? rb : ra
    const otherSync = h.sync(other.memberId, other.generationId)
    const before = h.syncs.get(otherSync)?.assignment
    const generation = h.group.generationId
    // The non-leader restarts with an empty member id and the same instance id.
    const restarted = h.join('', other === ra ? 'instance-a' : 'instance-b')
    const result = h.joins.get(restarted) as JoinResult
    assert.equal(result.errorCode, ERROR.NONE)
    assert.equal(result.generationId, generation, 'no new generation')
    assert.equal(h.group.state, 'Stable')
    const resync = h.sync(result.memberId, generation)
    assert.deepEqual(h.syncs.get(resync)?.assignment, before)
    // The old incarnation is fenced.
    assert.equal(h.group.heartbeat(other.memberId, other === ra ? 'instance-a' : 'instance-b',
      generation, h.nowMs), ERROR.FENCED_INSTANCE_ID)
    h.checkInvariants()
  })

  it('keeps its invariants under seeded random interleavings', () => {
    const seed = Number(process.env.GROUP_SEED ?? Date.now() % 1_000_000)
    const runs = 50
    for (let run = 0; run < runs; run++) {
      const random = seededRandom(seed + run)
      const h = new Harness()
      const clients: { memberId: string, generation: number, pending?: number,
        pendingSync?: number, alive: boolean }[] = []
      try {
        for (let step = 0; step < 300; step++) {
          const roll = random()
          const client = clients[Math.floor(random() * clients.length)]
          if (roll < 0.15 || client === undefined) {
            const first = h.join('')
            const id = h.joins.get(first)?.memberId ?? ''
            clients.push({ memberId: id, generation: -1, pending: h.join(id), alive: true })
          } else if (roll < 0.25 && client.alive) {
            h.group.leave(client.memberId, null, h.nowMs)
            h.drain()
            client.alive = false
          } else if (roll < 0.3) {
            client.alive = false // crash: stops heartbeating
          } else if (roll < 0.4) {
            h.tick(Math.floor(random() * 400))
          } else if (roll < 0.5) {
            // An offset commit interleaved with the rebalance: accepted exactly when the
            // member belongs to the current, stable generation.
            const code = h.group.commitError(client.memberId, null, client.generation)
            const current = h.group.state === 'Stable' && h.group.members.has(client.memberId) &&
              client.generation === h.group.generationId
            assert.equal(code === ERROR.NONE, current,
              `commit by ${client.memberId} gen ${client.generation}: code ${code}`)
          } else if (client.alive) {
            const joined = client.pending === undefined ? undefined : h.joins.get(client.pending)
            if (joined !== undefined) {
              client.pending = undefined
              if (joined.errorCode === ERROR.NONE) {
                client.generation = joined.generationId
                client.pendingSync = h.sync(client.memberId, joined.generationId,
                  joined.leader === client.memberId ? Harness.assign(joined) : [])
              } else client.alive = false
            } else if (client.pending === undefined) {
              const code = h.group.heartbeat(client.memberId, null, client.generation, h.nowMs)
              if (code === ERROR.REBALANCE_IN_PROGRESS || code === ERROR.ILLEGAL_GENERATION) {
                client.pending = h.join(client.memberId)
              } else if (code !== ERROR.NONE) client.alive = false
            }
          }
          h.checkInvariants()
        }
      } catch (error) {
        throw new Error(`GROUP_SEED=${seed + run}: ${(error as Error).message}`)
      }
    }
  })
})
