/**
 * The group coordinator's driver (Kafka's GroupCoordinatorService + CoordinatorRuntime, classic
 * protocol): it owns the I/O around the pure ClassicGroup state machines. For each request it
 * steps the group, appends the records the group emitted to `__consumer_offsets` through the
 * OffsetsStore, completes responses only once the records before them are durable
 * (docs/architecture.md, "State changes by replaying records"; Kafka completes a write
 * operation when its records are committed), and keeps one
 * timer per group at the deadline the group asked for, on an injected Clock.
 *
 * Start-up: `load()` replays every partition of `__consumer_offsets` into fresh groups (the
 * same `replay` that every live record went through), then starts their timers. Until then,
 * and while a partition reloads, requests for its groups get COORDINATOR_LOAD_IN_PROGRESS,
 * which every client retries (docs/protocol.md, "Coordinator errors clients retry").
 *
 * Concurrency: everything runs on the event loop; a group is stepped synchronously, so steps
 * never interleave. Responses after an append wait on that group's latest append (its
 * barrier); appends per partition are ordered by the store. Failure: a failed append answers
 * the responses behind it with COORDINATOR_NOT_AVAILABLE (Kafka maps storage errors so) and
 * reloads that partition from the log, so memory never keeps state the log does not have.
 *
 * Limits: GROUPS_MAX groups; waiting requests are bounded by the connections' in-flight caps;
 * one timer and at most one barrier per group.
 */
import type { Clock, TimerHandle } from '../io/clock.js'
import { ERROR } from '../protocol/errors.js'
import { assert } from '../util/assert.js'
import type { OffsetValue } from './group-records.js'
import { PendingTxnOffsets, type PendingOffset } from './txn-offsets.js'
import {
  ClassicGroup, errorResponse, type CommitEntry, type GroupConfig, type GroupEffect,
  type GroupEvent, type GroupLimits, type GroupResponse, type JoinRequest, type JoinResult,
  type MemberRef,
} from './group-state.js'
import { OffsetsStore, partitionForGroup, type OffsetsLog } from './offsets-store.js'

export type { OffsetsLog } from './offsets-store.js'
export { javaStringHash } from './offsets-store.js'
export type CommittedOffset = OffsetValue

export interface CoordinatorOptions {
  clock: Clock
  limits: GroupLimits
  log: OffsetsLog
  offsetsRetentionMs: number
  newMemberId: (clientId: string) => string
  logger?: { warn (message: string): void }
  /**
   * In a cluster: whether this broker leads the `__consumer_offsets` partition now (absent on
   * a single node, which leads all). Groups of a partition led elsewhere get NOT_COORDINATOR.
   */
  leads?: (partition: number) => boolean
  /**
   * A group's staged transactional offsets were decided (committed, aborted, or dropped with
   * their partition): OffsetFetch v1-6 waits for this (src/broker/handlers/offset-fetch.ts).
   * For a commit it is called once the commit is issued, so a reader that then awaits
   * `settled` sees the committed offsets.
   */
  onTransactionalOffsetsDecided?: (groupId: string) => void
}

/** Groups one coordinator keeps; a new group past this is refused. */
export const GROUPS_MAX = 100_000

/** The member fields of TxnOffsetCommit v3+ (KIP-447). */
export interface TxnCommitMember extends MemberRef {
  generationId: number
}

/** What TxnOffsetCommit v0-2 carries: no member, nothing to check. */
const NO_MEMBER: TxnCommitMember = { memberId: '', groupInstanceId: null, generationId: -1 }

type RespondFn = (response: GroupResponse) => void
type GroupEventBody<T extends GroupEvent['type']> = Omit<Extract<GroupEvent, { type: T }>,
  'type' | 'requestId'>

export class GroupCoordinator {
  readonly #options: CoordinatorOptions
  readonly #config: GroupConfig
  readonly #store: OffsetsStore
  readonly #groups = new Map<string, ClassicGroup>()
  readonly #timers = new Map<string, TimerHandle>()
  readonly #waiters = new Map<number, { api: GroupResponse['api'], respond: RespondFn }>()
  readonly #barriers = new Map<string, Promise<boolean>>()
  readonly #loading = new Set<number>()
  readonly #pendingTxn = new PendingTxnOffsets()
  #nextRequestId = 1
  #stopped = false

  constructor (options: CoordinatorOptions) {
    this.#options = options
    this.#config = { ...options.limits, offsetsRetentionMs: options.offsetsRetentionMs }
    this.#store = new OffsetsStore(options.log)
    for (let partition = 0; partition < options.log.partitionCount; partition++) {
      this.#loading.add(partition)
    }
  }

  partitionFor (groupId: string): number {
    return partitionForGroup(groupId, this.#store.partitionCount)
  }

  /** Rebuilds groups and offsets from __consumer_offsets, then arms their timers. */
  async load (): Promise<void> {
    for (let partition = 0; partition < this.#store.partitionCount; partition++) {
      await this.#loadPartition(partition)
    }
  }

  async #loadPartition (partition: number): Promise<void> {
    this.#loading.add(partition)
    const nowMs = this.#options.clock.nowMs()
    const loaded = new Map<string, ClassicGroup>()
    for await (const record of this.#store.replay(partition)) {
      if (record.kind === 'txn-offset') {
        this.#pendingTxn.replay(record)
        continue
      }
      let group = loaded.get(record.groupId)
      if (group === undefined) {
        group = new ClassicGroup(record.groupId, this.#config, nowMs)
        loaded.set(record.groupId, group)
      }
      group.replay(record)
    }
    for (const group of loaded.values()) {
      if (this.#groups.size >= GROUPS_MAX) break
      this.#groups.set(group.groupId, group)
      this.#step(group, { type: 'loaded' })
    }
    this.#loading.delete(partition)
  }

  stop (): void {
    this.#stopped = true
    for (const timer of this.#timers.values()) timer.cancel()
    this.#timers.clear()
  }

  /** NONE if this coordinator may serve the group now, else the error to answer with. */
  coordinatorError (groupId: string): number {
    if (groupId === '') return ERROR.INVALID_GROUP_ID
    if (this.#stopped) return ERROR.COORDINATOR_NOT_AVAILABLE
    const partition = this.partitionFor(groupId)
    if (this.#options.leads?.(partition) === false) return ERROR.NOT_COORDINATOR
    if (this.#loading.has(partition)) return ERROR.COORDINATOR_LOAD_IN_PROGRESS
    return ERROR.NONE
  }

  /**
   * Leadership of a `__consumer_offsets` partition moved to this broker (its groups are loaded
   * from the log, COORDINATOR_LOAD_IN_PROGRESS meanwhile) or away from it (its groups are
   * dropped, waiting requests answered NOT_COORDINATOR): Kafka's GroupCoordinator onElection /
   * onResignation.
   */
  async onLeadershipChange (partition: number, leader: boolean): Promise<void> {
    if (leader) {
      await this.#reload(partition)
      return
    }
    if (this.#loading.has(partition)) return
    this.#loading.add(partition)
    await this.#unload(partition)
    this.#loading.delete(partition)
  }

  #group (groupId: string, create: boolean): ClassicGroup | undefined {
    let group = this.#groups.get(groupId)
    if (group === undefined && create && this.#groups.size < GROUPS_MAX) {
      group = new ClassicGroup(groupId, this.#config, this.#options.clock.nowMs())
      this.#groups.set(groupId, group)
    }
    return group
  }

  /** Steps the group with a request and resolves with its response. */
  #request (groupId: string, create: boolean, event: GroupEvent & { requestId: number },
    missing: number, count = 0): Promise<GroupResponse> {
    const api = event.type as GroupResponse['api']
    const error = this.coordinatorError(groupId)
    if (error !== ERROR.NONE) return Promise.resolve(errorResponse(api, error, count))
    const group = this.#group(groupId, create)
    if (group === undefined) return Promise.resolve(errorResponse(api, missing, count))
    return new Promise(resolve => {
      this.#waiters.set(event.requestId, { api, respond: resolve })
      this.#step(group, event)
    })
  }

  #step (group: ClassicGroup, event: GroupEvent): void {
    group.step(event, this.#options.clock.nowMs())
    this.#apply(group, group.ready())
    if (group.state === 'Dead' && this.#groups.get(group.groupId) === group) {
      this.#groups.delete(group.groupId)
      this.#timers.get(group.groupId)?.cancel()
      this.#timers.delete(group.groupId)
    }
  }

  #apply (group: ClassicGroup, effects: GroupEffect[]): void {
    const groupId = group.groupId
    for (const effect of effects) {
      if (effect.type === 'append') this.#append(group, effect.records)
      else if (effect.type === 'timer') this.#arm(group, effect.deadlineMs)
      else {
        const waiter = this.#waiters.get(effect.requestId)
        this.#waiters.delete(effect.requestId)
        if (waiter === undefined) continue
        const barrier = this.#barriers.get(groupId)
        // A heartbeat changes no persisted state and is answered synchronously (heartbeat()
        // reads its code right after the step), so it never waits behind an append.
        if (barrier === undefined || waiter.api === 'heartbeat') waiter.respond(effect.response)
        else {
          void barrier.then(durable => waiter.respond(durable
            ? effect.response
            : failedLike(effect.response, ERROR.COORDINATOR_NOT_AVAILABLE)))
        }
      }
    }
  }

  #append (group: ClassicGroup, records: Parameters<OffsetsStore['append']>[1]): void {
    const partition = this.partitionFor(group.groupId)
    const barrier = this.#store.append(partition, records).then(() => true, error => {
      this.#options.logger?.warn(`__consumer_offsets-${partition}: append failed (` +
        `${(error as Error).message}); reloading the partition`)
      void this.#reload(partition)
      return false
    })
    this.#barriers.set(group.groupId, barrier)
    void barrier.then(() => {
      if (this.#barriers.get(group.groupId) === barrier) this.#barriers.delete(group.groupId)
    })
  }

  #arm (group: ClassicGroup, deadlineMs: number | null): void {
    this.#timers.get(group.groupId)?.cancel()
    this.#timers.delete(group.groupId)
    if (deadlineMs === null || this.#stopped) return
    const delayMs = Math.max(0, deadlineMs - this.#options.clock.nowMs())
    this.#timers.set(group.groupId, this.#options.clock.setTimer(delayMs, () => {
      this.#timers.delete(group.groupId)
      if (this.#groups.get(group.groupId) === group) this.#step(group, { type: 'tick' })
    }))
  }

  /** After a failed append: forget the partition's groups and rebuild them from the log. */
  async #reload (partition: number): Promise<void> {
    if (this.#loading.has(partition)) return
    this.#loading.add(partition)
    await this.#unload(partition)
    await this.#loadPartition(partition).catch(error => {
      this.#options.logger?.warn(`__consumer_offsets-${partition}: reload failed (` +
        `${(error as Error).message}); its groups stay unavailable`)
    })
  }

  /** Forgets the partition's groups once their appends settled; waiters get NOT_COORDINATOR. */
  async #unload (partition: number): Promise<void> {
    const groups = [...this.#groups.values()].filter(g => this.partitionFor(g.groupId) ===
      partition)
    await Promise.all(groups.map(group => this.#barriers.get(group.groupId)))
    this.#decided(this.#pendingTxn.drop(groupId => this.partitionFor(groupId) === partition))
    for (const group of groups) {
      this.#timers.get(group.groupId)?.cancel()
      this.#timers.delete(group.groupId)
      this.#groups.delete(group.groupId)
      for (const requestId of group.waitingRequests()) {
        const waiter = this.#waiters.get(requestId)
        this.#waiters.delete(requestId)
        waiter?.respond(errorResponse(waiter.api, ERROR.NOT_COORDINATOR))
      }
    }
  }

  async join (groupId: string, request: Omit<JoinRequest, 'generatedMemberId'>):
  Promise<JoinResult> {
    const requestId = this.#nextRequestId++
    const response = await this.#request(groupId, true, { type: 'join', requestId, request: {
      ...request, generatedMemberId: this.#options.newMemberId(request.clientId) } },
    ERROR.COORDINATOR_NOT_AVAILABLE)
    assert(response.api === 'join', 'a join is answered by a join response')
    return response.result
  }

  async sync (groupId: string, memberId: string, groupInstanceId: string | null,
    generationId: number, assignments: GroupEventBody<'sync'>['assignments']):
    Promise<{ errorCode: number, assignment: Buffer }> {
    const response = await this.#request(groupId, false, { type: 'sync',
      requestId: this.#nextRequestId++, member: { memberId, groupInstanceId }, generationId,
      assignments }, ERROR.UNKNOWN_MEMBER_ID)
    assert(response.api === 'sync', 'a sync is answered by a sync response')
    return { errorCode: response.errorCode, assignment: response.assignment }
  }

  /** Heartbeats change no persisted state, so they are answered at once. */
  heartbeat (groupId: string, memberId: string, groupInstanceId: string | null,
    generationId: number): number {
    const error = this.coordinatorError(groupId)
    if (error !== ERROR.NONE) return error
    const group = this.#group(groupId, false)
    if (group === undefined) return ERROR.UNKNOWN_MEMBER_ID
    const requestId = this.#nextRequestId++
    let errorCode: number = ERROR.UNKNOWN_SERVER_ERROR
    this.#waiters.set(requestId, { api: 'heartbeat', respond: response => {
      if (response.api === 'heartbeat') errorCode = response.errorCode
    } })
    this.#step(group, { type: 'heartbeat', requestId, member: { memberId, groupInstanceId },
      generationId })
    this.#waiters.delete(requestId)
    return errorCode
  }

  async leave (groupId: string, members: MemberRef[]): Promise<number[]> {
    const response = await this.#request(groupId, false, { type: 'leave',
      requestId: this.#nextRequestId++, members }, ERROR.UNKNOWN_MEMBER_ID, members.length)
    assert(response.api === 'leave', 'a leave is answered by a leave response')
    return response.errorCodes
  }

  /** Commits offsets; one error code per entry. A group is created only for generation -1. */
  async commit (groupId: string, member: MemberRef, generationId: number, retentionMs: number,
    offsets: CommitEntry[]): Promise<number[]> {
    const create = generationId < 0 && member.memberId === ''
    const response = await this.#request(groupId, create, { type: 'commit',
      requestId: this.#nextRequestId++, member, generationId, retentionMs, offsets },
    create ? ERROR.COORDINATOR_NOT_AVAILABLE : ERROR.ILLEGAL_GENERATION, offsets.length)
    assert(response.api === 'commit', 'a commit is answered by a commit response')
    return response.errorCodes
  }

  /**
   * The offsets of a committed transaction (its commit marker on this group's partition):
   * applied whatever the group's membership now; the group is created if it does not exist.
   */
  async commitTransactionalOffsets (groupId: string, offsets: CommitEntry[]): Promise<number> {
    const response = await this.#request(groupId, true, { type: 'commit',
      requestId: this.#nextRequestId++, member: { memberId: '', groupInstanceId: null },
      generationId: -1, retentionMs: -1, offsets, transactional: true },
    ERROR.COORDINATOR_NOT_AVAILABLE, offsets.length)
    assert(response.api === 'commit', 'a commit is answered by a commit response')
    return response.errorCodes.find(code => code !== ERROR.NONE) ?? ERROR.NONE
  }

  /**
   * TxnOffsetCommit: offsets committed in a transaction, staged at this group coordinator and
   * durable as `txn-offset` records, invisible to the group until the transaction's marker on
   * the group's partition commits them (`completeTransaction`). A producer epoch older than one
   * already staged for the producer is PRODUCER_FENCED (Kafka's log refuses the older epoch
   * with the same effect). The member fields of TxnOffsetCommit v3+ (KIP-447), when given, are
   * checked like OffsetCommit's (`checkTransactionalMember`). `verified` is the transaction
   * verification's guard (src/broker/txn-verification.ts), re-run just before staging: a
   * marker that ended the transaction while it was being verified must not leave offsets
   * pending for the producer's next marker to decide.
   */
  async stageTransactionalOffsets (groupId: string, producerId: number, producerEpoch: number,
    offsets: CommitEntry[], member: TxnCommitMember = NO_MEMBER,
    verified: () => number = () => ERROR.NONE): Promise<number> {
    const error = this.coordinatorError(groupId)
    if (error !== ERROR.NONE) return error
    const memberError = await this.checkTransactionalMember(groupId, member)
    if (memberError !== ERROR.NONE) return memberError
    const verifiedError = verified()
    if (verifiedError !== ERROR.NONE) return verifiedError
    const staged = this.#pendingTxn.epochOf(producerId)
    if (staged !== undefined && producerEpoch < staged) return ERROR.PRODUCER_FENCED
    if (!this.#pendingTxn.hasRoom(offsets.length)) return ERROR.COORDINATOR_NOT_AVAILABLE
    const commitTimestampMs = this.#options.clock.nowMs()
    const records = offsets.map(o => ({ kind: 'txn-offset' as const, groupId, producerId,
      topic: o.topic, partition: o.partition, value: { producerEpoch, offset: o.offset,
        leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestampMs } }))
    // Staged in memory before the append, so a marker that arrives meanwhile finds them (its
    // tombstones queue behind these records on the partition).
    for (const record of records) {
      this.#pendingTxn.stage(producerId, { groupId, topic: record.topic,
        partition: record.partition, ...record.value })
    }
    const partition = this.partitionFor(groupId)
    try {
      await this.#store.append(partition, records)
      return ERROR.NONE
    } catch (appendError) {
      this.#options.logger?.warn(`__consumer_offsets-${partition}: staging transactional ` +
        `offsets failed (${(appendError as Error).message}); reloading the partition`)
      void this.#reload(partition)
      return ERROR.COORDINATOR_NOT_AVAILABLE
    }
  }

  /**
   * TxnOffsetCommit's member check (KIP-447; Kafka's GroupCoordinator.handleTxnCommitOffsets →
   * validateOffsetCommit with isTransactional): skipped when the request names no member
   * (generation -1, empty member id, no instance id: v0-2, or a producer outside group
   * management); else the member must be the group's current one in that generation
   * (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION). A group that does not exist
   * has no generation: ILLEGAL_GENERATION for a generation ≥ 0 (Kafka's
   * OffsetMetadataManager.validateTransactionalOffsetCommit), else nothing to check.
   */
  async checkTransactionalMember (groupId: string, member: TxnCommitMember): Promise<number> {
    const { memberId, groupInstanceId, generationId } = member
    if (generationId < 0 && memberId === '' && groupInstanceId === null) return ERROR.NONE
    const response = await this.#request(groupId, false, { type: 'txn-commit-check',
      requestId: this.#nextRequestId++, member: { memberId, groupInstanceId }, generationId },
    generationId >= 0 ? ERROR.ILLEGAL_GENERATION : ERROR.NONE)
    assert(response.api === 'txn-commit-check', 'a check is answered by a check response')
    return response.errorCode
  }

  /**
   * A transaction's marker on `__consumer_offsets` partition `partition` (Kafka's
   * GroupCoordinator.onTransactionCompleted): the producer's pending offsets of that
   * partition's groups become committed offsets (COMMIT) or are dropped (ABORT); either way
   * their `txn-offset` records get tombstones. NONE once durable; a failure puts them back, so
   * the coordinator's retry completes them.
   */
  async completeTransaction (partition: number, producerId: number, commit: boolean):
  Promise<number> {
    if (this.#stopped) return ERROR.COORDINATOR_NOT_AVAILABLE
    if (this.#options.leads?.(partition) === false) return ERROR.NOT_COORDINATOR
    if (this.#loading.has(partition)) return ERROR.COORDINATOR_LOAD_IN_PROGRESS
    const taken = this.#pendingTxn.take(producerId,
      groupId => this.partitionFor(groupId) === partition)
    if (taken.length === 0) return ERROR.NONE
    const restore = (): void => {
      for (const entry of taken) this.#pendingTxn.stage(producerId, entry)
    }
    // Every group's commit is issued in this turn, before anything is awaited: from here on
    // the offsets are no longer pending, and an OffsetFetch that reads them waits for these
    // appends (`settled`), so no reader sees the partition neither pending nor committed.
    const commits = commit ? this.#commitTaken(taken) : []
    this.#decided(taken)
    const errorCode = (await Promise.all(commits)).find(code => code !== ERROR.NONE)
    if (errorCode !== undefined) {
      restore()
      return errorCode
    }
    try {
      await this.#store.append(partition, taken.map(entry => ({ kind: 'txn-offset' as const,
        groupId: entry.groupId, producerId, topic: entry.topic, partition: entry.partition,
        value: null })))
      return ERROR.NONE
    } catch {
      restore()
      return ERROR.COORDINATOR_NOT_AVAILABLE
    }
  }

  /** Commits a decided transaction's offsets, one request per group, all issued now. */
  #commitTaken (taken: readonly PendingOffset[]): Promise<number>[] {
    const byGroup = new Map<string, CommitEntry[]>()
    for (const entry of taken) {
      const offset = { topic: entry.topic, partition: entry.partition, offset: entry.offset,
        leaderEpoch: entry.leaderEpoch, metadata: entry.metadata }
      const offsets = byGroup.get(entry.groupId)
      if (offsets === undefined) byGroup.set(entry.groupId, [offset])
      else offsets.push(offset)
    }
    return [...byGroup].map(([groupId, offsets]) =>
      this.commitTransactionalOffsets(groupId, offsets))
  }

  /** Tells `onTransactionalOffsetsDecided` about each group of `entries`, once. */
  #decided (entries: readonly PendingOffset[]): void {
    const notify = this.#options.onTransactionalOffsetsDecided
    if (notify === undefined) return
    for (const groupId of new Set(entries.map(entry => entry.groupId))) notify(groupId)
  }

  /** The first error of `commit`, or NONE (for callers that commit all-or-nothing). */
  async commitOffsets (groupId: string, memberId: string, groupInstanceId: string | null,
    generationId: number, offsets: CommitEntry[]): Promise<number> {
    const codes = await this.commit(groupId, { memberId, groupInstanceId }, generationId, -1,
      offsets)
    return codes.find(code => code !== ERROR.NONE) ?? ERROR.NONE
  }

  /**
   * Resolves once every record the group has emitted so far is durable (or failed), so that an
   * OffsetFetch never reads an offset a failed append could still take back.
   */
  async settled (groupId: string): Promise<void> {
    await this.#barriers.get(groupId)
  }

  /** Whether a transaction has staged an offset for the partition that is not decided yet. */
  hasPendingTransactionalOffset (groupId: string, topic: string, partition: number): boolean {
    return this.#pendingTxn.has(groupId, topic, partition)
  }

  /** Whether a transaction has staged an offset for any partition of the group. */
  hasPendingTransactionalOffsets (groupId: string): boolean {
    return this.#pendingTxn.hasGroup(groupId)
  }

  /** Committed offsets by offsetKey(topic, partition); empty for an unknown group. */
  fetchOffsets (groupId: string): ReadonlyMap<string, CommittedOffset> {
    return this.#groups.get(groupId)?.offsets ?? new Map()
  }

  listGroups (): { groupId: string, protocolType: string, state: string }[] {
    return [...this.#groups.values()].filter(group => group.state !== 'Dead').map(group => ({
      groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state,
    }))
  }

  describeGroup (groupId: string): ClassicGroup | undefined {
    return this.#groups.get(groupId)
  }

  /** Deletes empty groups and their offsets (NON_EMPTY_GROUP while members remain). */
  async deleteGroups (groupIds: string[]): Promise<number[]> {
    return Promise.all(groupIds.map(async groupId => {
      const response = await this.#request(groupId, false, { type: 'delete-group',
        requestId: this.#nextRequestId++ }, ERROR.GROUP_ID_NOT_FOUND)
      assert(response.api === 'delete-group', 'a delete is answered by a delete response')
      return response.errorCode
    }))
  }

  /** OffsetDelete: a group-level error, and one code per partition. */
  async deleteOffsets (groupId: string, partitions: { topic: string, partition: number }[]):
  Promise<{ errorCode: number, errorCodes: number[] }> {
    const response = await this.#request(groupId, false, { type: 'delete-offsets',
      requestId: this.#nextRequestId++, partitions }, ERROR.GROUP_ID_NOT_FOUND)
    assert(response.api === 'delete-offsets', 'an offset delete gets its own response')
    return { errorCode: response.errorCode, errorCodes: response.errorCodes }
  }
}

/** The same response with every error code set to `errorCode` (a write that failed). */
function failedLike (response: GroupResponse, errorCode: number): GroupResponse {
  switch (response.api) {
    case 'leave': return errorResponse('leave', errorCode, response.errorCodes.length)
    case 'commit': return errorResponse('commit', errorCode, response.errorCodes.length)
    case 'join': return errorResponse('join', errorCode, 0, response.result.memberId)
    default: return errorResponse(response.api, errorCode)
  }
}
