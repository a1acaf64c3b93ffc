/**
 * A seeded simulator for one ClassicGroup: simulated consumers (kafkajs-like: MEMBER_ID_REQUIRED
 * two-step join, leader assigns round robin, heartbeats, rejoin on REBALANCE_IN_PROGRESS /
 * ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID), on a simulated clock that only advances to the
 * deadlines the group asked for (so a missing timer shows up as a stuck group). Chaos: members
 * join, leave, crash, stall past the rebalance or session timeout, static members restart, and
 * offset commits interleave with rebalances. Invariants are checked after every event; the
 * run ends with a calm phase in which the group must settle with every live member.
 */
import assert from 'node:assert/strict'
import {
  ClassicGroup, type GroupConfig, type GroupEffect, type GroupEvent, type GroupResponse,
  type JoinResult,
} from '../../src/group/group-state.js'
import type { GroupRecord } from '../../src/group/group-records.js'
import { ERROR } from '../../src/protocol/errors.js'
import { seededRandom } from '../support/seeded-random.js'

export const SIM_CONFIG: GroupConfig = { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 100,
  maxSessionTimeoutMs: 60_000, membersMax: 50, offsetsRetentionMs: 3_600_000 }
const PARTITIONS = 12
const SESSION_TIMEOUT_MS = 1000
const REBALANCE_TIMEOUT_MS = 2000
const HEARTBEAT_INTERVAL_MS = 300

/** The harness around the pure group: effects go to a log, responses to a table. */
export class GroupHarness {
  readonly group: ClassicGroup
  readonly log: GroupRecord[] = []
  readonly responses = new Map<number, GroupResponse>()
  /** Every effect, in the order the group emitted it. */
  readonly trace: GroupEffect[] = []
  /** member id → owner: a static member's instance id survives its member id changing. */
  readonly ownerOf = new Map<string, string>()
  readonly #joinInstances = new Map<number, string>()
  nowMs = 0
  armedMs: number | null = null
  #nextRequestId = 1
  #nextMemberId = 1

  constructor (config: GroupConfig = SIM_CONFIG, groupId = 'g') {
    this.group = new ClassicGroup(groupId, config, 0)
  }

  /** Steps an event that carries a request id; returns that id. */
  request (event: (requestId: number) => GroupEvent): number {
    const requestId = this.#nextRequestId++
    this.step(event(requestId))
    return requestId
  }

  step (event: GroupEvent): void {
    this.group.step(event, this.nowMs)
    for (const effect of this.group.ready()) {
      this.trace.push(effect)
      if (effect.type === 'append') this.log.push(...effect.records)
      else if (effect.type === 'timer') this.armedMs = effect.deadlineMs
      else {
        assert.ok(!this.responses.has(effect.requestId),
          `request ${effect.requestId} answered twice`)
        this.responses.set(effect.requestId, effect.response)
        const instance = this.#joinInstances.get(effect.requestId)
        this.#joinInstances.delete(effect.requestId)
        if (effect.response.api === 'join' && instance !== undefined) {
          this.ownerOf.set(effect.response.result.memberId, instance)
        }
      }
    }
  }

  join (memberId: string, instance: string | null = null, protocols = ['roundrobin']): number {
    return this.request(requestId => {
      if (instance !== null) this.#joinInstances.set(requestId, instance)
      return this.#joinEvent(requestId, memberId, instance, protocols)
    })
  }

  #joinEvent (requestId: number, memberId: string, instance: string | null,
    protocols: string[]): GroupEvent {
    return ({ type: 'join', requestId, request: {
      memberId, generatedMemberId: `m${this.#nextMemberId++}`, groupInstanceId: instance,
      clientId: 'client', clientHost: '/127.0.0.1', sessionTimeoutMs: SESSION_TIMEOUT_MS,
      rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS, protocolType: 'consumer',
      protocols: protocols.map(name => ({ name, metadata: Buffer.from(name) })),
      requireKnownMemberId: instance === null } })
  }

  sync (memberId: string, instance: string | null, generationId: number,
    assignments: { memberId: string, assignment: Buffer }[] = []): number {
    return this.request(requestId => ({ type: 'sync', requestId,
      member: { memberId, groupInstanceId: instance }, generationId, assignments }))
  }

  heartbeat (memberId: string, instance: string | null, generationId: number): number {
    const id = this.request(requestId => ({ type: 'heartbeat', requestId,
      member: { memberId, groupInstanceId: instance }, generationId }))
    const response = this.responses.get(id)
    assert.ok(response?.api === 'heartbeat', 'a heartbeat is answered at once')
    return response.errorCode
  }

  joinResult (requestId: number): JoinResult | undefined {
    const response = this.responses.get(requestId)
    return response?.api === 'join' ? response.result : undefined
  }

  /** Moves time forward, ticking at every deadline the group armed on the way. */
  advance (ms: number): void {
    const until = this.nowMs + ms
    let ticks = 0
    while (this.armedMs !== null && this.armedMs <= until) {
      assert.ok(this.armedMs > this.nowMs || ticks === 0,
        `a tick at ${this.nowMs} left the deadline at ${this.armedMs} (${this.group.state})`)
      this.nowMs = Math.max(this.nowMs, this.armedMs)
      this.step({ type: 'tick' })
      ticks++
    }
    this.nowMs = until
  }

  /** A group rebuilt from nothing but the records this one emitted. */
  replayed (): ClassicGroup {
    const fresh = new ClassicGroup(this.group.groupId, SIM_CONFIG, this.nowMs)
    for (const record of this.log) fresh.replay(record)
    fresh.step({ type: 'loaded' }, this.nowMs)
    fresh.ready()
    return fresh
  }

  /** Leader-side round robin over the members of a join response, in their order. */
  static assign (result: JoinResult, partitions = PARTITIONS):
  { memberId: string, assignment: Buffer }[] {
    const owned = new Map(result.members.map(m => [m.memberId, [] as number[]]))
    const ids = [...owned.keys()]
    for (let p = 0; p < partitions; p++) owned.get(ids[p % ids.length] as string)?.push(p)
    return [...owned].map(([memberId, list]) => ({ memberId, assignment: Buffer.from(list) }))
  }
}

type Phase = 'idle' | 'joining' | 'syncing' | 'stable' | 'dead'

interface SimMember {
  memberId: string
  instance: string | null
  generationId: number
  phase: Phase
  request: number | undefined
  lastHeartbeatMs: number
  /** Until when this member does nothing (a stall: GC pause, slow poll loop). */
  stalledUntilMs: number
  assignment: number[]
}

/** Invariants across the whole run, keyed by generation. */
class Observed {
  readonly leaders = new Map<number, string>()
  readonly ownerOf: Map<string, string>

  constructor (ownerOf: Map<string, string>) {
    this.ownerOf = ownerOf
  }
  /** generation → partition → owner (instance id for static members, else member id). */
  readonly owners = new Map<number, Map<number, string>>()

  joined (result: JoinResult): void {
    const owner = this.ownerOf.get(result.leader) ?? result.leader
    const leader = this.leaders.get(result.generationId)
    if (leader === undefined) this.leaders.set(result.generationId, owner)
    else assert.equal(owner, leader, `one leader in generation ${result.generationId}`)
  }

  synced (generationId: number, owner: string, partitions: number[]): void {
    const owners = this.owners.get(generationId) ?? new Map<number, string>()
    this.owners.set(generationId, owners)
    for (const partition of partitions) {
      const previous = owners.get(partition)
      assert.ok(previous === undefined || previous === owner,
        `partition ${partition} assigned to ${previous} and ${owner} in generation ` +
        `${generationId}`)
      owners.set(partition, owner)
    }
  }
}

export class GroupSimulation {
  readonly h = new GroupHarness()
  readonly members: SimMember[] = []
  readonly observed = new Observed(this.h.ownerOf)
  readonly random: () => number
  #staticCount = 0

  constructor (seed: number) {
    this.random = seededRandom(seed)
  }

  addMember (isStatic: boolean): void {
    const instance = isStatic ? `instance-${this.#staticCount++}` : null
    this.members.push({ memberId: '', instance, generationId: -1, phase: 'idle',
      request: undefined, lastHeartbeatMs: 0, stalledUntilMs: 0, assignment: [] })
  }

  /** One member takes its next protocol step, if it has one due. */
  act (member: SimMember): void {
    if (member.phase === 'dead' || this.h.nowMs < member.stalledUntilMs) return
    if (member.phase === 'idle') return this.#join(member)
    const response = member.request === undefined ? undefined : this.h.responses.get(member.request)
    if (member.phase === 'joining' && response?.api === 'join') {
      return this.#joined(member, response.result)
    }
    if (member.phase === 'syncing' && response?.api === 'sync') {
      return this.#synced(member, response.errorCode, response.assignment)
    }
    if (member.phase === 'stable' &&
      this.h.nowMs - member.lastHeartbeatMs >= HEARTBEAT_INTERVAL_MS) {
      member.lastHeartbeatMs = this.h.nowMs
      const code = this.h.heartbeat(member.memberId, member.instance, member.generationId)
      this.#onError(member, code)
    }
  }

  #join (member: SimMember): void {
    member.phase = 'joining'
    member.request = this.h.join(member.memberId, member.instance)
  }

  #joined (member: SimMember, result: JoinResult): void {
    if (result.errorCode === ERROR.MEMBER_ID_REQUIRED) {
      member.memberId = result.memberId
      return this.#join(member)
    }
    if (result.errorCode !== ERROR.NONE) return this.#onError(member, result.errorCode)
    member.memberId = result.memberId
    this.observed.joined(result)
    member.generationId = result.generationId
    member.phase = 'syncing'
    const assignments = result.leader === result.memberId ? GroupHarness.assign(result) : []
    member.request = this.h.sync(member.memberId, member.instance, result.generationId,
      assignments)
  }

  #synced (member: SimMember, errorCode: number, assignment: Buffer): void {
    if (errorCode !== ERROR.NONE) return this.#onError(member, errorCode)
    member.phase = 'stable'
    member.assignment = [...assignment]
    member.lastHeartbeatMs = this.h.nowMs
    this.observed.synced(member.generationId, member.instance ?? member.memberId,
      member.assignment)
  }

  /** What a kafkajs consumer does with each error. */
  #onError (member: SimMember, code: number): void {
    if (code === ERROR.NONE) return
    if (code === ERROR.FENCED_INSTANCE_ID) {
      member.phase = 'dead'
      return
    }
    // Static members too: the Java client resets its member id on UNKNOWN_MEMBER_ID.
    if (code === ERROR.UNKNOWN_MEMBER_ID) member.memberId = ''
    member.phase = 'idle'
  }

  /** An offset commit, checked against Kafka's rule for the group's state right now. */
  commit (member: SimMember): void {
    const group = this.h.group
    const state = group.state
    const isMember = group.members.has(member.memberId)
    const id = this.h.request(requestId => ({ type: 'commit', requestId,
      member: { memberId: member.memberId, groupInstanceId: member.instance },
      generationId: member.generationId, retentionMs: -1,
      offsets: member.assignment.map(partition => ({ topic: 't', partition,
        offset: Math.floor(this.h.nowMs), leaderEpoch: -1, metadata: null })) }))
    const response = this.h.responses.get(id)
    assert.ok(response?.api === 'commit', 'a commit is answered')
    const accepted = response.errorCodes.every(code => code === ERROR.NONE)
    const expected = isMember && member.generationId === group.generationId &&
      (state === 'Stable' || state === 'PreparingRebalance')
    if (member.assignment.length > 0) {
      assert.equal(accepted, expected, `commit by ${member.memberId} in generation ` +
        `${member.generationId} (group: ${state}, generation ${group.generationId})`)
    }
  }

  /** Chaos: one random event. */
  chaos (): void {
    const roll = this.random()
    const live = this.members.filter(m => m.phase !== 'dead')
    const member = live[Math.floor(this.random() * live.length)]
    if (roll < 0.08 || member === undefined) {
      if (this.members.length < 12) this.addMember(this.random() < 0.3)
    } else if (roll < 0.13) {
      this.#leave(member)
    } else if (roll < 0.16) {
      member.phase = 'dead' // crash: no LeaveGroup, the session must expire
    } else if (roll < 0.22 && member.instance !== null) {
      // A static member restarts: same instance id, empty member id, no LeaveGroup.
      member.phase = 'dead'
      this.members.push({ ...member, memberId: '', generationId: -1, phase: 'idle',
        request: undefined, assignment: [], stalledUntilMs: 0 })
    } else if (roll < 0.27) {
      member.stalledUntilMs = this.h.nowMs + Math.floor(this.random() * 3000)
    } else if (roll < 0.4) {
      this.commit(member)
    } else if (roll < 0.43 && member.phase === 'stable') {
      // A stable member rejoins (kafkajs does when a subscribed topic's metadata changes).
      member.phase = 'idle'
    } else {
      this.h.advance(Math.floor(this.random() * 150))
    }
  }

  #leave (member: SimMember): void {
    if (member.memberId === '' || member.instance !== null) return
    this.h.request(requestId => ({ type: 'leave', requestId,
      members: [{ memberId: member.memberId, groupInstanceId: null }] }))
    member.phase = 'dead'
  }

  checkInvariants (): void {
    const group = this.h.group
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') {
      assert.ok(group.leaderId !== null, 'a generation has a leader')
      assert.ok(group.members.has(group.leaderId), 'the leader is a member')
    }
    if (group.state === 'Empty') assert.equal(group.members.size, 0, 'Empty has no members')
    const live = group.persistedView()
    const fresh = this.h.replayed().persistedView()
    assert.deepEqual(fresh.offsets, live.offsets, 'offsets equal a replay of the records')
    if (group.state === 'Stable' || group.state === 'Empty') {
      assert.deepEqual(fresh, live, `a ${group.state} group equals a replay of its records`)
    }
  }

  /** Runs chaos, then a calm phase in which the group must settle with all live members. */
  run (events: number): void {
    for (let i = 0; i < events; i++) {
      this.chaos()
      for (const member of this.members) {
        this.act(member)
        this.checkInvariants()
      }
      this.checkInvariants()
    }
    this.settle()
  }

  settle (): void {
    for (const member of this.members) member.stalledUntilMs = 0
    for (let i = 0; i < 400; i++) {
      this.h.advance(50)
      for (const member of this.members) this.act(member)
      this.checkInvariants()
    }
    const live = this.members.filter(m => m.phase !== 'dead')
    const group = this.h.group
    assert.equal(group.state, live.length === 0 ? 'Empty' : 'Stable', 'the group settles')
    assert.deepEqual(new Set(group.members.keys()), new Set(live.map(m => m.memberId)),
      'exactly the live members remain')
    if (live.length > 0) {
      const owned = live.flatMap(m => m.assignment).sort((a, b) => a - b)
      assert.deepEqual(owned, Array.from({ length: PARTITIONS }, (_, p) => p),
        'every partition owned by exactly one live member')
      for (const m of live) assert.equal(m.generationId, group.generationId, 'one generation')
    }
  }
}

/** Runs one seeded simulation; a failure names its seed so that it can be replayed. */
export function simulateGroup (seed: number, events = 300): void {
  try {
    new GroupSimulation(seed).run(events)
  } catch (error) {
    const message = `SEED=${seed} GROUP_SEED=${seed} node --test dist/test/sim/: ` +
      (error as Error).message
    console.error(message)
    throw new Error(message, { cause: error })
  }
}
