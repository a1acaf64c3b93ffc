/**
 * One consumer group under Kafka's classic rebalance protocol, as a PURE state machine (Kafka's
 * ClassicGroup and the classic paths of GroupMetadataManager / OffsetMetadataManager, formerly
 * GroupCoordinator.scala). `step(event, nowMs)` takes a request or a timer tick; `ready()`
 * drains the effects: records to append to `__consumer_offsets`, responses to complete (by
 * request id) and the next deadline at which to `step({ type: 'tick' })`. No I/O, no clock, no
 * randomness: the driver passes time in and makes member ids, so a seeded simulator replays
 * any interleaving exactly.
 *
 * Transitions (Kafka's ClassicGroupState):
 *   Empty ──join──▶ PreparingRebalance ──all known members joined, or rebalance timeout──▶
 *     CompletingRebalance (generation + 1; no member left: Empty, generation + 1)
 *   CompletingRebalance ──leader's SyncGroup (group record appended)──▶ Stable
 *   Stable, CompletingRebalance ──new member, leader or changed metadata rejoins, leave,
 *     session expiry, sync timeout──▶ PreparingRebalance
 *   Empty ──DeleteGroups, or no offsets left after expiry──▶ Dead (a tombstone is appended)
 *
 * Persistence (docs/architecture.md, "State changes by replaying records"): committed offsets
 * and the generation's assignment change only in
 * `replay(record)`, which is what loading runs and what every emitted record is applied with.
 * As in Kafka, a group record is written when a generation becomes Stable (leader's sync),
 * when the group becomes Empty, when a static member is replaced, and on deletion. Responses
 * queued after an `append` effect must be completed only once that append is durable.
 *
 * Invariants: a Stable or CompletingRebalance group has one leader, a member of it; a join or
 * sync request is answered exactly once; at rest (Stable, Empty) the live generation equals a
 * fresh replay of the emitted records. Limits: group.max.size members, PENDING_MEMBERS_MAX ids
 * awaiting their second join, OFFSETS_PER_GROUP_MAX committed offsets.
 *
 * Size: about 700 lines, above the 600-line aim (docs/architecture.md, "Size"), because join,
 * sync, heartbeat, leave and
 * the timers all read and write the same private member table and deadlines; the vocabulary
 * (group-events.ts) and the offsets (group-offsets.ts) already live in their own files.
 */
import { ERROR } from '../protocol/errors.js'
import { assert } from '../util/assert.js'
import {
  errorResponse, sameProtocols, type GroupConfig, type GroupEffect, type GroupEvent,
  type GroupResponse, type GroupStateName, type JoinRequest, type JoinResult, type Member,
  type MemberRef, type PersistedView, type Protocol,
} from './group-events.js'
import { GroupOffsets, type ExpiryContext } from './group-offsets.js'
import {
  subscribedTopics, type GroupMetadataValue, type GroupRecord, type MemberValue, type OffsetValue,
} from './group-records.js'

export * from './group-events.js'
export { OFFSET_METADATA_MAX_BYTES, OFFSETS_PER_GROUP_MAX } from './group-offsets.js'

const EMPTY: Buffer = Buffer.alloc(0)
/** Members told MEMBER_ID_REQUIRED and not back yet; each expires after its session timeout. */
const PENDING_MEMBERS_MAX = 1000
/** offsets.retention.check.interval.ms: how long an Empty group without offsets lingers. */
export const EMPTY_GROUP_LINGER_MS = 600_000
export class ClassicGroup {
  readonly groupId: string
  readonly #config: GroupConfig
  state: GroupStateName = 'Empty'
  generationId = 0
  protocolType: string | null = null
  protocolName: string | null = null
  leaderId: string | null = null
  currentStateTimestampMs: number
  readonly members = new Map<string, Member>()
  readonly #offsets: GroupOffsets
  readonly #pending = new Map<string, number>()
  readonly #staticMembers = new Map<string, string>()
  readonly #pendingSync = new Set<string>()
  /** Whether the last group record (not offset record) replayed was a value, not a tombstone. */
  #persisted = false
  #rebalanceDeadlineMs = 0
  #initialDelayUntilMs = 0
  #syncDeadlineMs = 0
  /** The deadline the driver's timer is set to; undefined once it fired (arm again). */
  #armedDeadlineMs: number | null | undefined = null
  #nowMs: number
  #effects: GroupEffect[] = []

  constructor (groupId: string, config: GroupConfig, nowMs: number) {
    this.groupId = groupId
    this.#offsets = new GroupOffsets(groupId)
    this.#config = config
    this.#nowMs = nowMs
    this.currentStateTimestampMs = nowMs
  }

  /** Drains the queued effects, in order. */
  ready (): GroupEffect[] {
    const effects = this.#effects
    this.#effects = []
    return effects
  }

  get offsets (): ReadonlyMap<string, OffsetValue> {
    return this.#offsets.map
  }

  /** Join and sync requests held by the group, not answered yet. */
  waitingRequests (): number[] {
    const ids: number[] = []
    for (const member of this.members.values()) {
      if (member.joinRequest !== undefined) ids.push(member.joinRequest)
      if (member.syncRequest !== undefined) ids.push(member.syncRequest)
    }
    return ids
  }

  step (event: GroupEvent, nowMs: number): void {
    // The driver's wall clock may step back (NTP); the group's own time never does.
    this.#nowMs = Math.max(this.#nowMs, nowMs)
    switch (event.type) {
      case 'join': this.#join(event.requestId, event.request); break
      case 'sync': this.#sync(event); break
      case 'heartbeat':
        this.#respond(event.requestId, { api: 'heartbeat',
          errorCode: this.#heartbeat(event.member, event.generationId) })
        // A heartbeat only moves a session deadline later: the armed timer stays valid.
        return
      case 'leave': this.#leave(event.requestId, event.members); break
      case 'commit': this.#commit(event); break
      case 'txn-commit-check':
        this.#respond(event.requestId, { api: 'txn-commit-check',
          errorCode: this.#commitError(event.member, event.generationId, true) })
        break
      case 'delete-offsets': this.#deleteOffsets(event.requestId, event.partitions); break
      case 'delete-group': this.#deleteGroup(event.requestId); break
      case 'tick': this.#armedDeadlineMs = undefined; this.#tick(); break
      case 'loaded': this.#loaded(); break
    }
    this.#rearm()
  }

  // ---- persistence: the only writers of offsets and of a generation's assignment ----

  /** Applies one record: start-up replay, and every record this group emits. */
  replay (record: GroupRecord): void {
    assert(record.groupId === this.groupId, 'a record replays into its own group')
    // Pending transactional offsets belong to the coordinator's PendingTxnOffsets.
    if (record.kind === 'txn-offset') return
    if (record.kind === 'offset') {
      this.#offsets.replay(record.topic, record.partition, record.value)
      return
    }
    const value = record.value
    this.#persisted = value !== null
    if (value === null) {
      for (const memberId of [...this.members.keys()]) this.#forget(memberId)
      this.generationId = 0
      this.protocolType = null
      this.protocolName = null
      this.leaderId = null
      return
    }
    this.generationId = value.generationId
    this.protocolType = value.protocolType
    this.protocolName = value.protocolName
    this.leaderId = value.leaderId
    this.currentStateTimestampMs = value.currentStateTimestampMs
    const kept = new Set(value.members.map(member => member.memberId))
    for (const memberId of [...this.members.keys()]) {
      if (!kept.has(memberId)) this.#forget(memberId)
    }
    for (const stored of value.members) this.#replayMember(stored, value.protocolName ?? '')
  }

  #replayMember (stored: MemberValue, protocolName: string): void {
    const live = this.members.get(stored.memberId)
    if (live !== undefined) {
      live.assignment = stored.assignment
      return
    }
    this.members.set(stored.memberId, {
      memberId: stored.memberId, groupInstanceId: stored.groupInstanceId,
      clientId: stored.clientId, clientHost: stored.clientHost,
      sessionTimeoutMs: stored.sessionTimeoutMs, rebalanceTimeoutMs: stored.rebalanceTimeoutMs,
      protocols: [{ name: protocolName, metadata: stored.subscription }],
      assignment: stored.assignment, lastHeartbeatMs: this.#nowMs,
      joinRequest: undefined, syncRequest: undefined,
    })
    if (stored.groupInstanceId !== null) {
      this.#staticMembers.set(stored.groupInstanceId, stored.memberId)
    }
  }

  /** Queues records for the driver to append, and applies them (live state = replay). */
  #persist (records: GroupRecord[]): void {
    if (records.length === 0) return
    this.#effects.push({ type: 'append', records })
    for (const record of records) this.replay(record)
  }

  /** The group record of the current generation, with the given assignments. */
  #groupValue (assignments: (member: Member) => Buffer): GroupMetadataValue {
    return {
      protocolType: this.protocolType ?? '',
      generationId: this.generationId,
      protocolName: this.protocolName,
      leaderId: this.leaderId,
      currentStateTimestampMs: this.currentStateTimestampMs,
      members: [...this.members.values()].map(member => ({
        memberId: member.memberId, groupInstanceId: member.groupInstanceId,
        clientId: member.clientId, clientHost: member.clientHost,
        sessionTimeoutMs: member.sessionTimeoutMs, rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        subscription: this.#subscription(member), assignment: assignments(member),
      })),
    }
  }

  #subscription (member: Member): Buffer {
    return member.protocols.find(p => p.name === this.protocolName)?.metadata ?? EMPTY
  }

  persistedView (): PersistedView {
    return {
      generationId: this.generationId,
      protocolName: this.protocolName,
      leaderId: this.leaderId,
      members: [...this.members.values()].map(member => ({ memberId: member.memberId,
        groupInstanceId: member.groupInstanceId, assignment: member.assignment.toString('hex') }))
        .sort((a, b) => a.memberId < b.memberId ? -1 : 1),
      offsets: [...this.#offsets.map].sort(([a], [b]) => a < b ? -1 : 1),
    }
  }

  // ---- JoinGroup ----

  #respond (requestId: number, response: GroupResponse): void {
    this.#effects.push({ type: 'respond', requestId, response })
  }

  #joinError (requestId: number, errorCode: number, memberId = ''): void {
    this.#respond(requestId, errorResponse('join', errorCode, 0, memberId))
  }

  #join (requestId: number, request: JoinRequest): void {
    if (this.state === 'Dead') return this.#joinError(requestId, ERROR.COORDINATOR_NOT_AVAILABLE)
    if (request.sessionTimeoutMs < this.#config.minSessionTimeoutMs ||
      request.sessionTimeoutMs > this.#config.maxSessionTimeoutMs) {
      return this.#joinError(requestId, ERROR.INVALID_SESSION_TIMEOUT)
    }
    if (!this.#supports(request.protocolType, request.protocols)) {
      return this.#joinError(requestId, ERROR.INCONSISTENT_GROUP_PROTOCOL)
    }
    if (request.memberId === '') this.#joinUnknown(requestId, request)
    else this.#joinKnown(requestId, request)
  }

  /** Protocol type equal to the group's, and a protocol every member supports (Kafka). */
  #supports (protocolType: string, protocols: Protocol[]): boolean {
    if (protocolType === '' || protocols.length === 0) return false
    if (this.members.size === 0) return true
    if (protocolType !== this.protocolType) return false
    const names = new Set(protocols.map(protocol => protocol.name))
    return this.#candidateProtocols().some(name => names.has(name))
  }

  #candidateProtocols (): string[] {
    let candidates: string[] | undefined
    for (const member of this.members.values()) {
      const names = member.protocols.map(protocol => protocol.name)
      candidates = candidates === undefined ? names : candidates.filter(n => names.includes(n))
    }
    return candidates ?? []
  }

  #joinUnknown (requestId: number, request: JoinRequest): void {
    const instance = request.groupInstanceId
    const known = instance === null ? undefined : this.#staticMembers.get(instance)
    if (known !== undefined) return this.#replaceStaticMember(known, requestId, request)
    if (this.members.size + this.#pending.size >= this.#config.membersMax) {
      return this.#joinError(requestId, ERROR.GROUP_MAX_SIZE_REACHED)
    }
    const memberId = request.generatedMemberId
    if (instance === null && request.requireKnownMemberId) {
      if (this.#pending.size >= PENDING_MEMBERS_MAX) {
        return this.#joinError(requestId, ERROR.GROUP_MAX_SIZE_REACHED)
      }
      this.#pending.set(memberId, this.#nowMs + request.sessionTimeoutMs)
      return this.#joinError(requestId, ERROR.MEMBER_ID_REQUIRED, memberId)
    }
    this.#addOrUpdate(memberId, requestId, request)
    this.#rebalanceOrComplete()
  }

  #joinKnown (requestId: number, request: JoinRequest): void {
    const memberId = request.memberId
    const instance = request.groupInstanceId
    if (instance !== null) {
      const known = this.#staticMembers.get(instance)
      if (known === undefined) return this.#joinError(requestId, ERROR.UNKNOWN_MEMBER_ID, memberId)
      if (known !== memberId) return this.#joinError(requestId, ERROR.FENCED_INSTANCE_ID, memberId)
    }
    if (this.#pending.delete(memberId)) {
      this.#addOrUpdate(memberId, requestId, request)
      return this.#rebalanceOrComplete()
    }
    const member = this.members.get(memberId)
    if (member === undefined) return this.#joinError(requestId, ERROR.UNKNOWN_MEMBER_ID, memberId)
    const unchanged = sameProtocols(member.protocols, request.protocols)
    // A follower rejoining with the same metadata (Stable), or any member doing so before the
    // leader's sync (CompletingRebalance), gets the current generation back (Kafka).
    const current = (this.state === 'Stable' && memberId !== this.leaderId) ||
      this.state === 'CompletingRebalance'
    if (unchanged && current) return this.#respondCurrent(requestId, member, this.leaderId)
    this.#addOrUpdate(memberId, requestId, request)
    this.#rebalanceOrComplete()
  }

  #respondCurrent (requestId: number, member: Member, leaderId: string | null): void {
    member.lastHeartbeatMs = this.#nowMs
    this.#respond(requestId, { api: 'join', result: {
      errorCode: ERROR.NONE, generationId: this.generationId,
      protocolName: this.protocolName ?? '', leader: leaderId ?? '', memberId: member.memberId,
      members: member.memberId === leaderId && this.state === 'CompletingRebalance'
        ? this.#memberList()
        : [],
    } })
  }

  #addOrUpdate (memberId: string, requestId: number, request: JoinRequest): void {
    const existing = this.members.get(memberId)
    if (existing?.joinRequest !== undefined) {
      // A newer join from the same member supersedes the older one, which is told to retry.
      this.#joinError(existing.joinRequest, ERROR.REBALANCE_IN_PROGRESS, memberId)
    }
    if (this.members.size === 0) this.protocolType = request.protocolType
    this.members.set(memberId, {
      memberId, groupInstanceId: request.groupInstanceId,
      clientId: request.clientId, clientHost: request.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs > 0
        ? request.rebalanceTimeoutMs
        : request.sessionTimeoutMs, // JoinGroup v0 has no rebalance timeout (Kafka)
      protocols: request.protocols,
      assignment: existing?.assignment ?? EMPTY,
      lastHeartbeatMs: this.#nowMs,
      joinRequest: requestId,
      syncRequest: existing?.syncRequest,
    })
    if (request.groupInstanceId !== null) {
      this.#staticMembers.set(request.groupInstanceId, memberId)
    }
    this.leaderId ??= memberId
  }

  #rebalanceOrComplete (): void {
    if (this.state !== 'PreparingRebalance') this.#prepareRebalance()
    this.#tryCompleteJoin()
  }

  /**
   * A static member restarting with an empty member id takes over its old identity and
   * assignment (KIP-345). In a Stable group whose protocol would not change, the others do not
   * rebalance: the record is rewritten and the member gets the current generation, with the
   * OLD leader id so that it never computes an assignment nobody would receive (Kafka's
   * updateStaticMemberThenRebalanceOrCompleteJoin).
   */
  #replaceStaticMember (oldId: string, requestId: number, request: JoinRequest): void {
    const old = this.members.get(oldId)
    assert(old !== undefined, 'a static member id maps to a member')
    const newId = request.generatedMemberId
    const previousLeader = this.leaderId
    if (old.joinRequest !== undefined) {
      this.#joinError(old.joinRequest, ERROR.FENCED_INSTANCE_ID, oldId)
    }
    if (old.syncRequest !== undefined) {
      this.#respond(old.syncRequest, errorResponse('sync', ERROR.FENCED_INSTANCE_ID))
    }
    this.members.delete(oldId)
    if (this.#pendingSync.delete(oldId)) this.#pendingSync.add(newId)
    this.members.set(newId, { ...old, memberId: newId, clientId: request.clientId,
      clientHost: request.clientHost, sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs > 0
        ? request.rebalanceTimeoutMs
        : request.sessionTimeoutMs,
      protocols: request.protocols, lastHeartbeatMs: this.#nowMs,
      joinRequest: undefined, syncRequest: undefined })
    this.#staticMembers.set(request.groupInstanceId as string, newId)
    if (this.leaderId === oldId) this.leaderId = newId
    const member = this.members.get(newId) as Member
    if (this.state === 'Stable' && this.#selectProtocol() === this.protocolName) {
      this.#persist([{ kind: 'group', groupId: this.groupId,
        value: this.#groupValue(each => each.assignment) }])
      return this.#respondCurrent(requestId, member, previousLeader)
    }
    member.joinRequest = requestId
    this.#rebalanceOrComplete()
  }

  #memberList (): JoinResult['members'] {
    return [...this.members.values()].map(member => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      metadata: this.#subscription(member),
    }))
  }

  #transition (state: GroupStateName): void {
    this.state = state
    this.currentStateTimestampMs = this.#nowMs
  }

  #maxRebalanceTimeoutMs (): number {
    let timeoutMs = 0
    for (const member of this.members.values()) {
      timeoutMs = Math.max(timeoutMs, member.rebalanceTimeoutMs)
    }
    return timeoutMs
  }

  #prepareRebalance (): void {
    for (const member of this.members.values()) {
      if (member.syncRequest === undefined) continue
      this.#respond(member.syncRequest, errorResponse('sync', ERROR.REBALANCE_IN_PROGRESS))
      member.syncRequest = undefined
      // Its session restarts when its held request is answered (Kafka's
      // completeAndScheduleNextHeartbeatExpiration).
      member.lastHeartbeatMs = this.#nowMs
    }
    this.#pendingSync.clear()
    const wasEmpty = this.state === 'Empty'
    this.#transition('PreparingRebalance')
    this.#rebalanceDeadlineMs = this.#nowMs + this.#maxRebalanceTimeoutMs()
    // group.initial.rebalance.delay.ms: a new group waits for more members before its first
    // generation, so a fleet starting together does not rebalance once per member (KIP-134).
    this.#initialDelayUntilMs = wasEmpty ? this.#nowMs + this.#config.initialRebalanceDelayMs : 0
  }

  #tryCompleteJoin (): void {
    if (this.state !== 'PreparingRebalance') return
    let allJoined = this.#pending.size === 0
    for (const member of this.members.values()) {
      if (member.joinRequest === undefined) allJoined = false
    }
    const delayed = this.#nowMs < this.#initialDelayUntilMs
    if ((allJoined && !delayed) || this.#nowMs >= this.#rebalanceDeadlineMs) this.#completeJoin()
  }

  #completeJoin (): void {
    for (const member of [...this.members.values()]) {
      // Members that did not rejoin within the rebalance timeout are out (Kafka's
      // removeMemberAndUpdateGroup on the join deadline), static ones included.
      if (member.joinRequest === undefined) this.#remove(member.memberId)
    }
    this.#pending.clear()
    this.generationId++
    if (this.members.size === 0) {
      this.protocolName = null
      this.leaderId = null
      this.#transition('Empty')
      this.#persist([{ kind: 'group', groupId: this.groupId,
        value: this.#groupValue(() => EMPTY) }])
      return
    }
    this.protocolName = this.#selectProtocol()
    if (this.leaderId === null || !this.members.has(this.leaderId)) {
      this.leaderId = this.members.keys().next().value as string
    }
    this.#transition('CompletingRebalance')
    this.#syncDeadlineMs = this.#nowMs + this.#maxRebalanceTimeoutMs()
    const members = this.#memberList()
    for (const member of this.members.values()) {
      assert(member.joinRequest !== undefined, 'every remaining member joined')
      this.#respond(member.joinRequest, { api: 'join', result: {
        errorCode: ERROR.NONE, generationId: this.generationId, protocolName: this.protocolName,
        leader: this.leaderId, memberId: member.memberId,
        members: member.memberId === this.leaderId ? members : [],
      } })
      member.joinRequest = undefined
      member.lastHeartbeatMs = this.#nowMs
      this.#pendingSync.add(member.memberId)
    }
  }

  /** Each member votes for its most preferred protocol among those all support (Kafka). */
  #selectProtocol (): string {
    const candidates = this.#candidateProtocols()
    const votes = new Map<string, number>()
    for (const member of this.members.values()) {
      const choice = member.protocols.find(p => candidates.includes(p.name))?.name
      if (choice !== undefined) votes.set(choice, (votes.get(choice) ?? 0) + 1)
    }
    let best = candidates[0] ?? ''
    for (const name of candidates) {
      if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name
    }
    return best
  }

  /** Drops a member without answering anything (replay, or after answering elsewhere). */
  #forget (memberId: string): Member | undefined {
    const member = this.members.get(memberId)
    if (member === undefined) return undefined
    this.members.delete(memberId)
    this.#pendingSync.delete(memberId)
    if (member.groupInstanceId !== null &&
      this.#staticMembers.get(member.groupInstanceId) === memberId) {
      this.#staticMembers.delete(member.groupInstanceId)
    }
    return member
  }

  #remove (memberId: string): void {
    const member = this.#forget(memberId)
    if (member?.joinRequest !== undefined) {
      this.#joinError(member.joinRequest, ERROR.UNKNOWN_MEMBER_ID, memberId)
    }
    if (member?.syncRequest !== undefined) {
      this.#respond(member.syncRequest, errorResponse('sync', ERROR.UNKNOWN_MEMBER_ID))
    }
  }

  #afterMembershipChange (): void {
    if (this.state === 'Stable' || this.state === 'CompletingRebalance') this.#prepareRebalance()
    this.#tryCompleteJoin()
  }

  // ---- SyncGroup, Heartbeat, LeaveGroup ----

  /** The error for a request naming this member and generation, or NONE (Kafka's order). */
  #checkMember (ref: MemberRef, generationId: number): number {
    if (this.state === 'Dead') return ERROR.COORDINATOR_NOT_AVAILABLE
    if (ref.groupInstanceId !== null) {
      const known = this.#staticMembers.get(ref.groupInstanceId)
      if (known !== undefined && known !== ref.memberId) return ERROR.FENCED_INSTANCE_ID
    }
    if (!this.members.has(ref.memberId)) return ERROR.UNKNOWN_MEMBER_ID
    if (generationId !== this.generationId) return ERROR.ILLEGAL_GENERATION
    return ERROR.NONE
  }

  #sync (event: Extract<GroupEvent, { type: 'sync' }>): void {
    const requestId = event.requestId
    const error = this.#checkMember(event.member, event.generationId)
    if (error !== ERROR.NONE) return this.#respond(requestId, errorResponse('sync', error))
    if (this.state === 'PreparingRebalance') {
      return this.#respond(requestId, errorResponse('sync', ERROR.REBALANCE_IN_PROGRESS))
    }
    const member = this.members.get(event.member.memberId) as Member
    this.#pendingSync.delete(member.memberId)
    member.lastHeartbeatMs = this.#nowMs
    if (this.state === 'Stable') {
      return this.#respond(requestId, { api: 'sync', errorCode: ERROR.NONE,
        assignment: member.assignment })
    }
    assert(this.state === 'CompletingRebalance', 'a member syncs only in a generation')
    if (member.syncRequest !== undefined) {
      this.#respond(member.syncRequest, errorResponse('sync', ERROR.REBALANCE_IN_PROGRESS))
    }
    member.syncRequest = requestId
    if (member.memberId !== this.leaderId) return
    // The leader's assignment becomes the generation's record; members it does not name get
    // an empty assignment, names that are not members are ignored (Kafka).
    const given = new Map(event.assignments.map(entry => [entry.memberId, entry.assignment]))
    this.#transition('Stable')
    this.#persist([{ kind: 'group', groupId: this.groupId,
      value: this.#groupValue(each => given.get(each.memberId) ?? EMPTY) }])
    for (const each of this.members.values()) {
      if (each.syncRequest === undefined) continue
      this.#respond(each.syncRequest, { api: 'sync', errorCode: ERROR.NONE,
        assignment: each.assignment })
      each.syncRequest = undefined
      each.lastHeartbeatMs = this.#nowMs
    }
  }

  #heartbeat (ref: MemberRef, generationId: number): number {
    if (this.state === 'Empty') return ERROR.UNKNOWN_MEMBER_ID
    const error = this.#checkMember(ref, generationId)
    if (error !== ERROR.NONE) return error
    ;(this.members.get(ref.memberId) as Member).lastHeartbeatMs = this.#nowMs
    return this.state === 'PreparingRebalance' ? ERROR.REBALANCE_IN_PROGRESS : ERROR.NONE
  }

  #leave (requestId: number, refs: MemberRef[]): void {
    let changed = false
    const errorCodes = refs.map(ref => {
      const code = this.#leaveOne(ref)
      if (code === ERROR.NONE) changed = true
      return code
    })
    if (changed) this.#afterMembershipChange()
    this.#respond(requestId, { api: 'leave', errorCodes })
  }

  #leaveOne (ref: MemberRef): number {
    if (this.state === 'Dead') return ERROR.COORDINATOR_NOT_AVAILABLE
    let memberId = ref.memberId
    if (ref.groupInstanceId !== null) {
      const known = this.#staticMembers.get(ref.groupInstanceId)
      if (known === undefined) return ERROR.UNKNOWN_MEMBER_ID
      if (memberId !== '' && known !== memberId) return ERROR.FENCED_INSTANCE_ID
      memberId = known
    } else if (this.#pending.delete(memberId)) {
      return ERROR.NONE
    }
    if (!this.members.has(memberId)) return ERROR.UNKNOWN_MEMBER_ID
    this.#remove(memberId)
    return ERROR.NONE
  }

  // ---- offsets ----

  /**
   * Kafka's ClassicGroup.validateOffsetCommit, for OffsetCommit and (`transactional`)
   * TxnOffsetCommit (KIP-447): a named member must be the current one of its generation
   * (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION). A transactional commit without
   * member fields (TxnOffsetCommit v0-2, or a producer outside group management) may commit to
   * a non-empty group, and one may be staged during a rebalance: it is decided later, by the
   * transaction's marker.
   */
  #commitError (ref: MemberRef, generationId: number, transactional = false): number {
    if (this.state === 'Dead') return ERROR.COORDINATOR_NOT_AVAILABLE
    // Generation -1: an admin client or a consumer without group management; only while Empty.
    if (generationId < 0 && this.state === 'Empty') return ERROR.NONE
    if (generationId >= 0 || ref.memberId !== '' || ref.groupInstanceId !== null) {
      const error = this.#checkMember(ref, generationId)
      if (error !== ERROR.NONE) return error
    } else if (!transactional && this.state !== 'Empty') {
      return ERROR.UNKNOWN_MEMBER_ID
    }
    if (transactional) return ERROR.NONE
    // A member of the current generation may commit while PreparingRebalance (before it
    // rejoins), but not before it learned its assignment (Kafka).
    return this.state === 'CompletingRebalance' ? ERROR.REBALANCE_IN_PROGRESS : ERROR.NONE
  }

  #commit (event: Extract<GroupEvent, { type: 'commit' }>): void {
    // Kafka's GroupMetadata.completePendingTxnOffsetCommit applies a committed
    // transaction's offsets whatever the group's state now.
    const error = event.transactional === true
      ? (this.state === 'Dead' ? ERROR.COORDINATOR_NOT_AVAILABLE : ERROR.NONE)
      : this.#commitError(event.member, event.generationId)
    const { records, errorCodes } = this.#offsets.commit(event.offsets, error, this.#nowMs,
      event.retentionMs)
    this.#persist(records)
    this.#respond(event.requestId, { api: 'commit', errorCodes })
  }

  /** Kafka's OffsetDelete: refused for topics an active consumer group subscribes to. */
  #deleteOffsets (requestId: number, partitions: { topic: string, partition: number }[]): void {
    if (this.state === 'Dead') {
      return this.#respond(requestId, errorResponse('delete-offsets', ERROR.GROUP_ID_NOT_FOUND))
    }
    let subscribed: Set<string> | 'all' = new Set()
    if (this.members.size > 0) {
      if (this.protocolType !== 'consumer') {
        return this.#respond(requestId, errorResponse('delete-offsets', ERROR.NON_EMPTY_GROUP))
      }
      for (const member of this.members.values()) {
        const topics = subscribedTopics(this.#subscription(member))
        if (topics === undefined) subscribed = 'all'
        else if (subscribed !== 'all') for (const topic of topics) subscribed.add(topic)
      }
    }
    const { records, errorCodes } = this.#offsets.delete(partitions, subscribed)
    this.#persist(records)
    this.#respond(requestId, { api: 'delete-offsets', errorCode: ERROR.NONE, errorCodes })
  }

  #deleteGroup (requestId: number): void {
    if (this.state === 'Dead') {
      return this.#respond(requestId, errorResponse('delete-group', ERROR.GROUP_ID_NOT_FOUND))
    }
    if (this.state !== 'Empty') {
      return this.#respond(requestId, errorResponse('delete-group', ERROR.NON_EMPTY_GROUP))
    }
    this.#die()
    this.#respond(requestId, { api: 'delete-group', errorCode: ERROR.NONE })
  }

  /** Tombstones for every offset and the group record; the group is Dead from here on. */
  #die (): void {
    const records = this.#offsets.deleteAll()
    records.push({ kind: 'group', groupId: this.groupId, value: null })
    this.#persist(records)
    this.#pending.clear()
    this.#transition('Dead')
  }

  #expiryContext (): ExpiryContext {
    return { empty: this.state === 'Empty', hadMembers: this.protocolType !== null,
      currentStateTimestampMs: this.currentStateTimestampMs,
      retentionMs: this.#config.offsetsRetentionMs }
  }

  // ---- timers ----

  #tick (): void {
    const nowMs = this.#nowMs
    for (const [memberId, expiresMs] of [...this.#pending]) {
      if (nowMs >= expiresMs) this.#pending.delete(memberId)
    }
    let changed = false
    for (const member of [...this.members.values()]) {
      const waiting = member.joinRequest !== undefined || member.syncRequest !== undefined
      if (!waiting && nowMs >= member.lastHeartbeatMs + member.sessionTimeoutMs) {
        this.#remove(member.memberId)
        changed = true
      }
    }
    if (this.#pendingSync.size > 0 && nowMs >= this.#syncDeadlineMs) {
      // Members that never sent SyncGroup within the rebalance timeout are out (Kafka's
      // onSyncTimeout, KAFKA-13419).
      for (const memberId of [...this.#pendingSync]) this.#remove(memberId)
      changed = true
    }
    if (changed) this.#afterMembershipChange()
    else this.#tryCompleteJoin()
    this.#expireOffsets()
  }

  #expireOffsets (): void {
    this.#persist(this.#offsets.expired(this.#nowMs, this.#expiryContext()))
    if (this.#deletable() && this.#nowMs >= this.currentStateTimestampMs + EMPTY_GROUP_LINGER_MS) {
      // Kafka's cleanupGroupMetadata: an Empty group without offsets is removed.
      this.#die()
    }
  }

  #deletable (): boolean {
    return this.state === 'Empty' && this.members.size === 0 && this.#pending.size === 0 &&
      this.#offsets.size === 0
  }

  #loaded (): void {
    for (const member of this.members.values()) member.lastHeartbeatMs = this.#nowMs
    if (this.members.size > 0) this.state = 'Stable'
    else if (!this.#persisted && this.#offsets.size === 0) this.state = 'Dead'
    else this.state = 'Empty'
  }

  /** The earliest moment something may happen without a request, or null. */
  #nextDeadlineMs (): number | null {
    if (this.state === 'Dead') return null
    let next = Infinity
    for (const expiresMs of this.#pending.values()) next = Math.min(next, expiresMs)
    if (this.state === 'PreparingRebalance') {
      next = Math.min(next, this.#rebalanceDeadlineMs)
      if (this.#initialDelayUntilMs > this.#nowMs) next = Math.min(next, this.#initialDelayUntilMs)
    }
    if (this.#pendingSync.size > 0) next = Math.min(next, this.#syncDeadlineMs)
    for (const member of this.members.values()) {
      if (member.joinRequest !== undefined || member.syncRequest !== undefined) continue
      next = Math.min(next, member.lastHeartbeatMs + member.sessionTimeoutMs)
    }
    next = Math.min(next, this.#offsets.nextExpiryMs(this.#expiryContext()))
    if (this.#deletable()) {
      next = Math.min(next, this.currentStateTimestampMs + EMPTY_GROUP_LINGER_MS)
    }
    return next === Infinity ? null : next
  }

  #rearm (): void {
    const deadlineMs = this.#nextDeadlineMs()
    if (deadlineMs === this.#armedDeadlineMs) return
    this.#armedDeadlineMs = deadlineMs
    this.#effects.push({ type: 'timer', deadlineMs })
  }
}
