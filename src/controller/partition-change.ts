/**
 * Controller decisions about one partition's leader, ISR and replica set, as pure functions of
 * the partition and the brokers' states (KRaft's PartitionChangeBuilder and
 * PartitionReassignmentReplicas). No I/O: the Controller turns a decision into a Partition
 * record and commits it; tests drive these directly (test/controller/partition-change.test.ts).
 *
 * Brokers' states: `live` (a registered broker with a session) and `shuttingDown` (asked for a
 * controlled shutdown, KIP-631's "wantShutDown"). A broker is *eligible* (may become leader or
 * stay in / join the ISR) when it is live and not shutting down.
 *
 * Invariants of every decision (asserted in `partitionRecord`): the leader, when there is one,
 * is in the ISR and the replicas; the ISR is a non-empty subset of the replicas; the leader
 * epoch never decreases and grows exactly when the leader changes or replicas are removed.
 */
import { METADATA_RECORD_VERSION, type PartitionRecord } from '../metadata/records.js'
import { assert } from '../util/assert.js'

/** A partition as the decisions read it (the image's PartitionInfo, or a decision's result). */
export interface PartitionState {
  partitionId: number
  replicas: readonly number[]
  isr: readonly number[]
  leader: number
  leaderEpoch: number
  partitionEpoch: number
  addingReplicas: readonly number[]
  removingReplicas: readonly number[]
}

export interface BrokerStates {
  live: ReadonlySet<number>
  shuttingDown: ReadonlySet<number>
}

/** A partition's next state; `unclean` when an out-of-sync replica was made leader. */
export interface PartitionTarget {
  replicas: readonly number[]
  isr: readonly number[]
  leader: number
  addingReplicas: readonly number[]
  removingReplicas: readonly number[]
  unclean: boolean
}

const eligible = (states: BrokerStates, id: number): boolean =>
  states.live.has(id) && !states.shuttingDown.has(id)

function sameSequence (a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => b[index] === id)
}

function targetOf (partition: PartitionState): PartitionTarget {
  return { replicas: partition.replicas, isr: partition.isr, leader: partition.leader,
    addingReplicas: partition.addingReplicas, removingReplicas: partition.removingReplicas,
    unclean: false }
}

/**
 * The leader and ISR after brokers died or asked to shut down (KRaft's
 * generateLeaderAndIsrUpdates): ineligible brokers leave the ISR, except the chosen leader and
 * except when none would be left (the last members are kept, so one can lead again when it
 * returns). The leader stays when it is eligible; else the first eligible ISR member in replica
 * order (the preferred replica first); else a live ISR member that is shutting down (it still
 * has the data: better than offline); else, only when `uncleanAllowed()`
 * (`unclean.leader.election.enable`, asked only then), the first eligible replica outside the
 * ISR, which becomes the whole ISR (records it never had are lost); else no leader (-1).
 */
export function onlineTarget (partition: PartitionState, states: BrokerStates,
  uncleanAllowed: () => boolean): PartitionTarget {
  const target = targetOf(partition)
  const leader = chooseLeader(partition, states)
  if (leader !== -1) {
    const isr = partition.isr.filter(id => eligible(states, id) || id === leader)
    return { ...target, leader, isr }
  }
  if (uncleanAllowed()) {
    const chosen = partition.replicas.find(id => eligible(states, id))
    if (chosen !== undefined) return { ...target, leader: chosen, isr: [chosen], unclean: true }
  }
  // Offline: the ISR keeps its live members, or all of them when none is live.
  const liveIsr = partition.isr.filter(id => states.live.has(id))
  return { ...target, leader: -1, isr: liveIsr.length > 0 ? liveIsr : partition.isr }
}

function chooseLeader (partition: PartitionState, states: BrokerStates): number {
  const inIsr = (id: number): boolean => partition.isr.includes(id)
  if (partition.leader >= 0 && inIsr(partition.leader) && eligible(states, partition.leader)) {
    return partition.leader
  }
  const next = partition.replicas.find(id => inIsr(id) && eligible(states, id))
  if (next !== undefined) return next
  if (partition.leader >= 0 && inIsr(partition.leader) && states.live.has(partition.leader)) {
    return partition.leader
  }
  return partition.replicas.find(id => inIsr(id) && states.live.has(id)) ?? -1
}

/** ElectLeaders' answers for one partition (Kafka's ApiError per partition). */
export type ElectionOutcome =
  | { target: PartitionTarget }
  | { errorName: 'ELECTION_NOT_NEEDED' | 'PREFERRED_LEADER_NOT_AVAILABLE' |
    'ELIGIBLE_LEADERS_NOT_AVAILABLE', message: string }

/**
 * A preferred election (KIP-183): the preferred replica (replicas[0]) leads when it is
 * eligible and in the ISR. ELECTION_NOT_NEEDED when it already does.
 */
export function preferredElection (partition: PartitionState,
  states: BrokerStates): ElectionOutcome {
  const preferred = partition.replicas[0] as number
  if (partition.leader === preferred) {
    return { errorName: 'ELECTION_NOT_NEEDED', message: `broker ${preferred}, the preferred ` +
      'replica, already leads' }
  }
  if (!partition.isr.includes(preferred) || !eligible(states, preferred)) {
    return { errorName: 'PREFERRED_LEADER_NOT_AVAILABLE', message: `the preferred replica ` +
      `${preferred} is ${states.live.has(preferred) ? (partition.isr.includes(preferred)
        ? 'shutting down' : 'not in the ISR') : 'not alive'}` }
  }
  return { target: { ...targetOf(partition), leader: preferred } }
}

/**
 * An unclean election asked for by ElectLeaders (KIP-460, type 1): only for a partition
 * without a live leader; an eligible ISR member if any, else the first eligible replica
 * whatever the topic's `unclean.leader.election.enable` says (the operator asked for it).
 */
export function uncleanElection (partition: PartitionState, states: BrokerStates): ElectionOutcome {
  if (partition.leader >= 0 && states.live.has(partition.leader)) {
    return { errorName: 'ELECTION_NOT_NEEDED', message: `broker ${partition.leader} leads` }
  }
  const target = onlineTarget(partition, states, () => true)
  if (target.leader === -1) {
    return { errorName: 'ELIGIBLE_LEADERS_NOT_AVAILABLE', message: 'no replica of this ' +
      `partition (${partition.replicas.join(',')}) is alive` }
  }
  return { target }
}

/**
 * Starts a reassignment to `target` (KIP-455, PartitionReassignmentReplicas): replicas become
 * target ∪ current (target order first), adding = target − current, removing = current −
 * target; leader and ISR unchanged. The new replicas then fetch and join the ISR, and
 * `completedReassignment` finishes it.
 */
export function startReassignment (partition: PartitionState,
  target: readonly number[]): PartitionTarget {
  const current = partition.replicas
  return {
    ...targetOf(partition),
    replicas: [...target, ...current.filter(id => !target.includes(id))],
    addingReplicas: target.filter(id => !current.includes(id)),
    removingReplicas: current.filter(id => !target.includes(id)),
  }
}

/** The reassignment's target: the replicas that are not being removed. */
export function reassignmentTarget (partition: PartitionState): number[] {
  return partition.replicas.filter(id => !partition.removingReplicas.includes(id))
}

export function reassigning (partition: PartitionState): boolean {
  return partition.addingReplicas.length > 0 || partition.removingReplicas.length > 0
}

/**
 * Completes a reassignment once every target replica is in the ISR (KRaft's
 * completeReassignmentIfNeeded): replicas = target, ISR = ISR ∩ target, and a leader that was
 * being removed hands over to the first eligible target replica. Undefined while a target
 * replica is still catching up, or when no target replica could lead.
 */
export function completedReassignment (partition: PartitionState,
  states: BrokerStates): PartitionTarget | undefined {
  if (!reassigning(partition)) return undefined
  const target = reassignmentTarget(partition)
  if (!target.every(id => partition.isr.includes(id))) return undefined
  const isr = partition.isr.filter(id => target.includes(id))
  let leader = partition.leader
  if (!target.includes(leader)) {
    const next = target.find(id => eligible(states, id))
    if (next === undefined) return undefined
    leader = next
  }
  return { replicas: target, isr, leader, addingReplicas: [], removingReplicas: [],
    unclean: false }
}

/**
 * Cancels a reassignment (KRaft's PartitionReassignmentRevert): replicas and ISR lose the
 * adding replicas; a leader that was being added hands over to the first eligible remaining
 * ISR member (or none: -1). Undefined when only adding replicas are in sync: Kafka then puts
 * an out-of-sync original replica in the ISR (an unclean election); Tributary refuses.
 */
export function revertedReassignment (partition: PartitionState,
  states: BrokerStates): PartitionTarget | undefined {
  const adding = partition.addingReplicas
  const replicas = partition.replicas.filter(id => !adding.includes(id))
  const isr = partition.isr.filter(id => !adding.includes(id))
  if (isr.length === 0) return undefined
  let leader = partition.leader
  if (!isr.includes(leader)) leader = isr.find(id => eligible(states, id)) ?? -1
  return { replicas, isr, leader, addingReplicas: [], removingReplicas: [], unclean: false }
}

/** Whether `target` changes anything of `partition`. */
export function changes (partition: PartitionState, target: PartitionTarget): boolean {
  return partition.leader !== target.leader || !sameSequence(partition.isr, target.isr) ||
    !sameSequence(partition.replicas, target.replicas) ||
    !sameSequence(partition.addingReplicas, target.addingReplicas) ||
    !sameSequence(partition.removingReplicas, target.removingReplicas)
}

/**
 * The Partition record moving `partition` to `target`: the partition epoch grows on every
 * change; the leader epoch grows when the leader changes, and when replicas are removed (so a
 * removed replica's fetches are fenced, as Kafka's reassignment completion does).
 */
export function partitionRecord (topicId: string, partition: PartitionState,
  target: PartitionTarget): PartitionRecord {
  const removed = partition.replicas.some(id => !target.replicas.includes(id))
  const bump = partition.leader !== target.leader || removed
  assert(target.isr.length > 0, `${topicId}-${partition.partitionId}: the ISR is never empty`)
  assert(target.isr.every(id => target.replicas.includes(id)),
    `${topicId}-${partition.partitionId}: ISR ${target.isr} outside replicas ${target.replicas}`)
  assert(target.leader === -1 || target.isr.includes(target.leader),
    `${topicId}-${partition.partitionId}: leader ${target.leader} outside ISR ${target.isr}`)
  return {
    type: 'Partition', version: METADATA_RECORD_VERSION, topicId,
    partitionId: partition.partitionId, replicas: [...target.replicas], isr: [...target.isr],
    leader: target.leader, leaderEpoch: partition.leaderEpoch + (bump ? 1 : 0),
    partitionEpoch: partition.partitionEpoch + 1,
    ...(target.addingReplicas.length === 0 && target.removingReplicas.length === 0
      ? {}
      : { addingReplicas: [...target.addingReplicas],
          removingReplicas: [...target.removingReplicas] }),
  }
}
