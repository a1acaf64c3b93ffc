/**
 * The group coordinator's driver: runs every ClassicGroup state machine, answers requests from
 * their effects, persists group metadata and committed offsets in the compacted internal topic
 * `__consumer_offsets`, and rebuilds everything by replaying that topic at start-up (Kafka's
 * GroupCoordinator + GroupMetadataManager).
 *
 * Records (msgpackr): key {t:'g', g} → GroupSnapshot; key {t:'o', g, topic, p} →
 * {offset, leaderEpoch, metadata, commitTimestamp}; a null value deletes. A group lives on
 * partition abs(javaHash(groupId)) % offsets.topic.num.partitions, as in Kafka.
 *
 * Concurrency: each group's effects are processed in order on its own promise chain, and a
 * response that follows a `persist` effect waits until that record is durable. Limits: at most
 * GROUPS_MAX groups; pending requests are bounded by the connections' in-flight caps.
 */
import { Packr } from 'msgpackr'
import type { Clock, TimerHandle } from '../io/clock.js'
import { ERROR } from '../protocol/errors.js'
import {
  ClassicGroup, type GroupEffect, type GroupLimits, type GroupSnapshot, type JoinRequest,
  type JoinResult,
} from './group-state.js'

export interface OffsetsLog {
  readonly partitionCount: number
  append (partition: number, records: { key: Buffer, value: Buffer | null }[]): Promise<void>
  replay (partition: number): AsyncIterable<{ key: Buffer, value: Buffer | null }>
}

export interface CommittedOffset {
  offset: number
  leaderEpoch: number
  metadata: string | null
  commitTimestamp: number
}

export interface CoordinatorOptions {
  clock: Clock
  limits: GroupLimits
  log: OffsetsLog
  offsetsRetentionMs: number
  newMemberId: (clientId: string) => string
}

/** Groups one coordinator keeps; joining a new group past this is refused. */
export const GROUPS_MAX = 100_000
const TICK_MS = 250
const packr = new Packr({ useRecords: false })

type Pending = (value: unknown) => void

/** Java's String.hashCode, which Kafka uses to place a group on a partition. */
export function javaStringHash (text: string): number {
  let hash = 0
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0
  return hash
}

export class GroupCoordinator {
  readonly #options: CoordinatorOptions
  readonly #groups = new Map<string, ClassicGroup>()
  readonly #offsets = new Map<string, Map<string, CommittedOffset>>()
  readonly #pending = new Map<number, Pending>()
  readonly #chains = new Map<string, Promise<void>>()
  #nextRequestId = 1
  #timer: TimerHandle | undefined

  constructor (options: CoordinatorOptions) {
    this.#options = options
  }

  partitionFor (groupId: string): number {
    return Math.abs(javaStringHash(groupId)) % this.#options.log.partitionCount
  }

  /** Rebuilds groups and offsets from __consumer_offsets, then starts the timers. */
  async load (): Promise<void> {
    const nowMs = this.#options.clock.nowMs()
    for (let partition = 0; partition < this.#options.log.partitionCount; partition++) {
      for await (const { key, value } of this.#options.log.replay(partition)) {
        this.#replay(packr.unpack(key), value === null ? null : packr.unpack(value), nowMs)
      }
    }
    const tick = (): void => {
      this.#tick()
      this.#timer = this.#options.clock.setTimer(TICK_MS, tick)
    }
    this.#timer = this.#options.clock.setTimer(TICK_MS, tick)
  }

  stop (): void {
    this.#timer?.cancel()
  }

  #replay (key: { t: string, g: string, topic?: string, p?: number }, value: unknown,
    nowMs: number): void {
    if (key.t === 'g') {
      if (value === null) this.#groups.delete(key.g)
      else {
        this.#groups.set(key.g, ClassicGroup.restore(key.g, this.#options.limits,
          value as GroupSnapshot, nowMs))
      }
      return
    }
    const offsets = this.#offsets.get(key.g) ?? new Map<string, CommittedOffset>()
    const tp = `${key.topic ?? ''}\u0000${key.p ?? 0}`
    if (value === null) offsets.delete(tp)
    else offsets.set(tp, value as CommittedOffset)
    if (offsets.size > 0) this.#offsets.set(key.g, offsets)
    else this.#offsets.delete(key.g)
  }

  #group (groupId: string, create: boolean): ClassicGroup | undefined {
    let group = this.#groups.get(groupId)
    if (group === undefined && create && this.#groups.size < GROUPS_MAX) {
      group = new ClassicGroup(groupId, this.#options.limits, this.#options.clock.nowMs())
      this.#groups.set(groupId, group)
    }
    return group
  }

  #await<T> (): { requestId: number, promise: Promise<T> } {
    const requestId = this.#nextRequestId++
    const promise = new Promise<T>(resolve => this.#pending.set(requestId, resolve as Pending))
    return { requestId, promise }
  }

  /** Processes a group's queued effects in order; responses after a persist wait for it. */
  #drain (group: ClassicGroup): Promise<void> {
    const effects = group.ready()
    if (effects.length === 0) return this.#chains.get(group.groupId) ?? Promise.resolve()
    const previous = this.#chains.get(group.groupId) ?? Promise.resolve()
    const next = previous.then(() => this.#apply(group, effects))
    this.#chains.set(group.groupId, next.catch(() => undefined))
    return next
  }

  async #apply (group: ClassicGroup, effects: GroupEffect[]): Promise<void> {
    for (const effect of effects) {
      if (effect.type === 'persist') {
        await this.#persistGroup(group).catch(() => undefined)
        continue
      }
      const resolve = this.#pending.get(effect.requestId)
      this.#pending.delete(effect.requestId)
      if (effect.type === 'join') resolve?.(effect.result)
      else resolve?.({ errorCode: effect.errorCode, assignment: effect.assignment })
    }
  }

  #persistGroup (group: ClassicGroup): Promise<void> {
    const value = group.state === 'Dead' ? null : packr.pack(group.snapshot())
    return this.#options.log.append(this.partitionFor(group.groupId),
      [{ key: packr.pack({ t: 'g', g: group.groupId }), value }])
  }

  async join (groupId: string, request: Omit<JoinRequest, 'requestId' | 'generatedMemberId'>):
  Promise<JoinResult> {
    const group = this.#group(groupId, true)
    if (group === undefined) {
      return { errorCode: ERROR.COORDINATOR_NOT_AVAILABLE, generationId: -1, protocolName: '',
        leader: '', memberId: '', members: [] }
    }
    const { requestId, promise } = this.#await<JoinResult>()
    group.join({ ...request, requestId,
      generatedMemberId: this.#options.newMemberId(request.clientId) },
    this.#options.clock.nowMs())
    void this.#drain(group)
    return promise
  }

  async sync (groupId: string, memberId: string, groupInstanceId: string | null,
    generationId: number, assignments: { memberId: string, assignment: Buffer }[]):
    Promise<{ errorCode: number, assignment: Buffer }> {
    const group = this.#group(groupId, false)
    if (group === undefined) return { errorCode: ERROR.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) }
    const { requestId, promise } = this.#await<{ errorCode: number, assignment: Buffer }>()
    group.sync(requestId, memberId, groupInstanceId, generationId, assignments)
    void this.#drain(group)
    return promise
  }

  heartbeat (groupId: string, memberId: string, groupInstanceId: string | null,
    generationId: number): number {
    const group = this.#group(groupId, false)
    if (group === undefined) return ERROR.UNKNOWN_MEMBER_ID
    const errorCode = group.heartbeat(memberId, groupInstanceId, generationId,
      this.#options.clock.nowMs())
    void this.#drain(group)
    return errorCode
  }

  async leave (groupId: string, members: { memberId: string, groupInstanceId: string | null }[]):
  Promise<number[]> {
    const group = this.#group(groupId, false)
    if (group === undefined) return members.map(() => ERROR.UNKNOWN_MEMBER_ID)
    const nowMs = this.#options.clock.nowMs()
    const codes = members.map(member => group.leave(member.memberId, member.groupInstanceId,
      nowMs))
    await this.#drain(group)
    return codes
  }

  #tick (): void {
    const nowMs = this.#options.clock.nowMs()
    for (const group of this.#groups.values()) {
      group.tick(nowMs)
      void this.#drain(group)
      if (group.state === 'Empty' && group.members.size === 0 &&
        nowMs - group.emptySinceMs > this.#options.offsetsRetentionMs) {
        // offsets.retention.minutes: an empty group's offsets expire (KIP-211).
        void this.deleteGroups([group.groupId])
      }
    }
  }

  /** Commits offsets; returns one error code per given partition. */
  async commitOffsets (groupId: string, memberId: string, groupInstanceId: string | null,
    generationId: number, offsets: { topic: string, partition: number, offset: number,
      leaderEpoch: number, metadata: string | null }[]): Promise<number> {
    const group = this.#group(groupId, true)
    if (group === undefined) return ERROR.COORDINATOR_NOT_AVAILABLE
    const error = group.commitError(memberId, groupInstanceId, generationId)
    if (error !== ERROR.NONE) return error
    const commitTimestamp = this.#options.clock.nowMs()
    const records = offsets.map(entry => ({
      key: packr.pack({ t: 'o', g: groupId, topic: entry.topic, p: entry.partition }),
      value: packr.pack({ offset: entry.offset, leaderEpoch: entry.leaderEpoch,
        metadata: entry.metadata, commitTimestamp } satisfies CommittedOffset),
    }))
    await this.#options.log.append(this.partitionFor(groupId), records)
    const stored = this.#offsets.get(groupId) ?? new Map<string, CommittedOffset>()
    for (const entry of offsets) {
      stored.set(`${entry.topic}\u0000${entry.partition}`, { offset: entry.offset,
        leaderEpoch: entry.leaderEpoch, metadata: entry.metadata, commitTimestamp })
    }
    this.#offsets.set(groupId, stored)
    return ERROR.NONE
  }

  fetchOffsets (groupId: string): Map<string, CommittedOffset> {
    return this.#offsets.get(groupId) ?? new Map()
  }

  listGroups (): { groupId: string, protocolType: string, state: string }[] {
    const ids = new Set([...this.#groups.keys(), ...this.#offsets.keys()])
    return [...ids].map(groupId => {
      const group = this.#groups.get(groupId)
      return { groupId, protocolType: group?.protocolType ?? 'consumer',
        state: group?.state ?? 'Empty' }
    })
  }

  describeGroup (groupId: string): ClassicGroup | undefined {
    return this.#groups.get(groupId)
  }

  /** Deletes empty groups and their offsets; NON_EMPTY_GROUP for groups with members. */
  async deleteGroups (groupIds: string[]): Promise<number[]> {
    const codes: number[] = []
    for (const groupId of groupIds) {
      const group = this.#groups.get(groupId)
      if (group === undefined && !this.#offsets.has(groupId)) {
        codes.push(ERROR.GROUP_ID_NOT_FOUND)
        continue
      }
      if (group !== undefined && group.members.size > 0) {
        codes.push(ERROR.NON_EMPTY_GROUP)
        continue
      }
      const tombstones = [...(this.#offsets.get(groupId)?.keys() ?? [])].map(tp => {
        const [topic, partition] = tp.split('\u0000')
        return { key: packr.pack({ t: 'o', g: groupId, topic, p: Number(partition) }),
          value: null }
      })
      tombstones.push({ key: packr.pack({ t: 'g', g: groupId }), value: null })
      await this.#options.log.append(this.partitionFor(groupId), tombstones)
      group?.markDead()
      this.#groups.delete(groupId)
      this.#offsets.delete(groupId)
      codes.push(ERROR.NONE)
    }
    return codes
  }

  /** OffsetDelete: refused for partitions of topics the group is subscribed to while active. */
  async deleteOffsets (groupId: string, partitions: { topic: string, partition: number }[]):
  Promise<number> {
    const stored = this.#offsets.get(groupId)
    if (stored === undefined) return ERROR.GROUP_ID_NOT_FOUND
    const group = this.#groups.get(groupId)
    if (group !== undefined && group.members.size > 0) return ERROR.GROUP_SUBSCRIBED_TO_TOPIC
    await this.#options.log.append(this.partitionFor(groupId), partitions.map(entry => ({
      key: packr.pack({ t: 'o', g: groupId, topic: entry.topic, p: entry.partition }),
      value: null,
    })))
    for (const entry of partitions) stored.delete(`${entry.topic}\u0000${entry.partition}`)
    return ERROR.NONE
  }
}
