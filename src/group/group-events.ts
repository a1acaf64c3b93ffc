/**
 * The vocabulary of the group state machine (group-state.ts): its configuration, the events
 * it steps on, the responses and effects it emits. Pure data and two pure helpers.
 */
import type { GroupRecord, OffsetValue } from './group-records.js'

export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' |
  'Stable' | 'Dead'

export interface GroupLimits {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number
  /** group.min.session.timeout.ms and group.max.session.timeout.ms */
  minSessionTimeoutMs: number
  maxSessionTimeoutMs: number
  /** group.max.size */
  membersMax: number
}

export interface GroupConfig extends GroupLimits {
  /** offsets.retention.minutes, in ms (KIP-211). */
  offsetsRetentionMs: number
}

export interface Protocol { name: string, metadata: Buffer }

export interface Member {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocols: Protocol[]
  assignment: Buffer
  lastHeartbeatMs: number
  joinRequest: number | undefined
  syncRequest: number | undefined
}

export interface JoinResult {
  errorCode: number
  generationId: number
  protocolName: string
  leader: string
  memberId: string
  members: { memberId: string, groupInstanceId: string | null, metadata: Buffer }[]
}

export interface JoinRequest {
  memberId: string
  /** An id the driver made for this join, used if the member needs a new one. */
  generatedMemberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: Protocol[]
  /** JoinGroup v4+: an unknown dynamic member first gets MEMBER_ID_REQUIRED (KIP-394). */
  requireKnownMemberId: boolean
}

export interface MemberRef { memberId: string, groupInstanceId: string | null }

export interface CommitEntry {
  topic: string
  partition: number
  offset: number
  leaderEpoch: number
  metadata: string | null
}

export type GroupEvent =
  | { type: 'join', requestId: number, request: JoinRequest }
  | { type: 'sync', requestId: number, member: MemberRef, generationId: number,
    assignments: { memberId: string, assignment: Buffer }[] }
  | { type: 'heartbeat', requestId: number, member: MemberRef, generationId: number }
  | { type: 'leave', requestId: number, members: MemberRef[] }
  | { type: 'commit', requestId: number, member: MemberRef, generationId: number,
    retentionMs: number, offsets: CommitEntry[],
    /** Offsets of a committed transaction: membership was checked when they were staged. */
    transactional?: boolean }
  /**
   * TxnOffsetCommit v3+ named a member (KIP-447): may it stage offsets for this group? Checked
   * before the offsets are staged (they reach the group only with the transaction's COMMIT).
   */
  | { type: 'txn-commit-check', requestId: number, member: MemberRef, generationId: number }
  | { type: 'delete-offsets', requestId: number,
    partitions: { topic: string, partition: number }[] }
  | { type: 'delete-group', requestId: number }
  /** A deadline passed (or may have): sessions, rebalance and sync timeouts, offset expiry. */
  | { type: 'tick' }
  /** Replay of __consumer_offsets finished: loaded members start a fresh session. */
  | { type: 'loaded' }

export type GroupResponse =
  | { api: 'join', result: JoinResult }
  | { api: 'sync', errorCode: number, assignment: Buffer }
  | { api: 'heartbeat', errorCode: number }
  | { api: 'leave', errorCodes: number[] }
  | { api: 'commit', errorCodes: number[] }
  | { api: 'txn-commit-check', errorCode: number }
  | { api: 'delete-offsets', errorCode: number, errorCodes: number[] }
  | { api: 'delete-group', errorCode: number }

export type GroupEffect =
  | { type: 'append', records: GroupRecord[] }
  | { type: 'respond', requestId: number, response: GroupResponse }
  | { type: 'timer', deadlineMs: number | null }

/** The persisted part of a group, for comparing live state with a replay. */
export interface PersistedView {
  generationId: number
  protocolName: string | null
  leaderId: string | null
  members: { memberId: string, groupInstanceId: string | null, assignment: string }[]
  offsets: [string, OffsetValue][]
}

const EMPTY: Buffer = Buffer.alloc(0)

/** The failed form of each response, for errors found before or after the state machine. */
export function errorResponse (api: GroupResponse['api'], errorCode: number, count = 0,
  memberId = ''): GroupResponse {
  switch (api) {
    case 'join': return { api, result: { errorCode, generationId: -1, protocolName: '',
      leader: '', memberId, members: [] } }
    case 'sync': return { api, errorCode, assignment: EMPTY }
    case 'heartbeat': return { api, errorCode }
    case 'txn-commit-check': return { api, errorCode }
    case 'delete-group': return { api, errorCode }
    case 'delete-offsets': return { api, errorCode, errorCodes: [] }
    case 'leave': return { api, errorCodes: new Array<number>(count).fill(errorCode) }
    case 'commit': return { api, errorCodes: new Array<number>(count).fill(errorCode) }
  }
}

export function sameProtocols (a: Protocol[], b: Protocol[]): boolean {
  if (a.length !== b.length) return false
  return a.every((protocol, i) => protocol.name === b[i]?.name &&
    protocol.metadata.equals(b[i].metadata))
}
