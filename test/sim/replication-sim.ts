/**
 * A seeded simulator of one replicated partition on three brokers, driving the pure leader
 * state (src/replication/partition-state.ts) the way the replica manager does: produces on the
 * leader (acks=all), the leader's group-commit flushes, failed leader fsyncs that cut the
 * written tail the followers may have copied (the leader heals in place and re-appends those
 * offsets in the same epoch), follower fetches that read what the leader has written (fsynced
 * or not) and report only what
 * they appended (durable, as appendAsFollower resolves after the fsync), follower truncation by
 * the brokers' own KIP-320 rules (divergence.ts) over storage-like epoch caches, ISR changes sent
 * to a controller that checks leader and partition epochs (AlterPartition) and answers late,
 * never, or commits a change whose answer is lost (with ReplicaRoles' policy for unknown
 * outcomes), metadata that reaches the leader late, broker crashes that lose whatever was not
 * fsynced, restarts, and leader elections from the ISR (no unclean election). Time only moves
 * forward, in random steps.
 *
 * Invariants, checked after every event:
 * - the high watermark never decreases while the leader epoch is unchanged;
 * - the high watermark ≤ the log end offset of every member of the ISR (the metadata's and
 *   the leader's maximal one);
 * - every offset acknowledged to an acks=all producer is on every ISR member, with the epoch
 *   it was written in, and on the leader;
 * - the ISR is never empty, and the leader is always in it;
 * - a follower whose fetch the leader accepts holds no record the leader does not have, and
 *   no truncation goes below a follower's high watermark (no committed record is lost).
 */
import assert from 'node:assert/strict'
import {
  LeaderPartitionState, type IsrChange, type LeaderAndIsr,
} from '../../src/replication/partition-state.js'
import {
  divergingEpochFor, leaderEpochEnd, truncationOffset, type EpochEnd,
} from '../../src/replication/divergence.js'
import { seededRandom } from '../support/seeded-random.js'

const BROKERS = [1, 2, 3]
const LAG_TIME_MAX_MS = 1000
const MIN_ISR = 2
const EVENTS = 4000

interface SimBroker {
  id: number
  live: boolean
  /** The leader epoch of each offset's record: the log, as far as it is written. */
  log: number[]
  /**
   * Each offset's record, by a number unique to the produce that wrote it: a leader that cut
   * a failed write's tail writes other records at the same offsets in the same epoch.
   */
  ids: number[]
  /** The leader's fsynced end; a follower's appends are durable when they return. */
  durable: number
  highWatermark: number
}

interface PendingAck { lastOffset: number, epoch: number }

/**
 * A log's leader epoch cache as storage keeps it (leader-epoch-cache.ts): an entry per run of
 * one epoch, learnt from appended batches only; the latest epoch ends at the log end, an older
 * one where the next higher starts; one newer than any known, or none at all: { -1, -1 }.
 */
function epochCacheOf (log: readonly number[]): {
  latestEpoch: number, endOffsetForEpoch (epoch: number): EpochEnd
} {
  const entries: { epoch: number, start: number }[] = []
  log.forEach((epoch, offset) => {
    if (entries.at(-1)?.epoch !== epoch) entries.push({ epoch, start: offset })
  })
  const latestEpoch = entries.at(-1)?.epoch ?? -1
  return {
    latestEpoch,
    endOffsetForEpoch (requested) {
      if (requested < 0) return { leaderEpoch: -1, endOffset: -1 }
      if (entries.length > 0 && requested === latestEpoch) {
        return { leaderEpoch: requested, endOffset: log.length }
      }
      const higher = entries.findIndex(entry => entry.epoch > requested)
      if (higher < 0) return { leaderEpoch: -1, endOffset: -1 }
      const floor = entries[higher - 1]
      return { leaderEpoch: floor?.epoch ?? requested,
        endOffset: (entries[higher] as { start: number }).start }
    },
  }
}

export interface ReplicationSimResult {
  acknowledged: number
  /** Leader fsyncs that failed with a tail to cut. */
  failedFlushes: number
  elections: number
  shrinks: number
  expands: number
}

export function simulateReplication (seed: number): ReplicationSimResult {
  const random = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const fail = (message: string): never => {
    assert.fail(`${message} (replay: REPLICATION_SEED=${seed})`)
  }
  const brokers = new Map(BROKERS.map(id => [id, {
    id, live: true, log: [], ids: [], durable: 0, highWatermark: 0,
  } satisfies SimBroker as SimBroker]))
  const broker = (id: number): SimBroker => brokers.get(id) as SimBroker
  let image: LeaderAndIsr = { leaderId: 1, leaderEpoch: 0, partitionEpoch: 0,
    replicas: BROKERS, isr: BROKERS }
  let nowMs = 0
  let leader: LeaderPartitionState | undefined
  let pending: PendingAck[] = []
  /**
   * An AlterPartition in flight: it reaches the controller at `atMs`, or is lost before it
   * (refused), or its answer is lost after the controller committed it (an unknown outcome).
   */
  let inFlight: { change: IsrChange, atMs: number, fate: 'answered' | 'lost' | 'unknown' } |
    undefined
  /** A committed ISR change the leader has not received yet (its metadata lags). */
  let undelivered: LeaderAndIsr | undefined
  /** Acknowledged offsets: the epoch and record id each had. */
  const acknowledged = new Map<number, { epoch: number, id: number }>()
  let nextRecordId = 0
  let lastHw = { epoch: -1, hw: 0 }
  const result: ReplicationSimResult = { acknowledged: 0, failedFlushes: 0, elections: 0,
    shrinks: 0, expands: 0 }

  const becomeLeader = (): void => {
    leader = undefined
    pending = []
    inFlight = undefined
    undelivered = undefined
    if (image.leaderId === -1) return
    const self = broker(image.leaderId)
    leader = new LeaderPartitionState(image, {
      leaderEndOffset: self.durable, epochStartOffset: self.log.length,
      highWatermark: Math.min(self.highWatermark, self.durable), nowMs,
      replicaLagTimeMaxMs: LAG_TIME_MAX_MS,
    })
  }
  const commit = (next: LeaderAndIsr): void => {
    const newLeader = next.leaderId !== image.leaderId || next.leaderEpoch !== image.leaderEpoch
    image = next
    if (newLeader) {
      result.elections++
      becomeLeader()
    } else {
      // Same leader: the record reaches it later (deliverMetadata).
      undelivered = image
    }
  }
  const deliverMetadata = (): void => {
    if (undelivered === undefined || leader === undefined) return
    leader.applyMetadata(undelivered, nowMs)
    undelivered = undefined
    afterHwMove()
  }
  /** The controller's fencing and election (Controller.#leadershipChanges). */
  const elect = (): void => {
    const liveIsr = image.isr.filter(id => broker(id).live)
    const isr = liveIsr.length > 0 ? liveIsr : image.isr
    const leaderId = broker(image.leaderId)?.live === true ? image.leaderId : liveIsr[0] ?? -1
    if (leaderId === image.leaderId && isr.length === image.isr.length) return
    commit({ ...image, isr, leaderId,
      leaderEpoch: image.leaderEpoch + (leaderId === image.leaderId ? 0 : 1),
      partitionEpoch: image.partitionEpoch + 1 })
  }
  const afterHwMove = (): void => {
    if (leader === undefined) return
    const self = broker(leader.leaderId)
    self.highWatermark = leader.highWatermark
    const still: PendingAck[] = []
    for (const ack of pending) {
      const status = leader.ackAllStatus(ack.lastOffset, MIN_ISR)
      if (status === 'wait') still.push(ack)
      if (status === 'done') {
        for (let offset = 0; offset <= ack.lastOffset; offset++) {
          // Below the HW everything is committed; remember what it was.
          acknowledged.set(offset, { epoch: self.log[offset] as number,
            id: self.ids[offset] as number })
        }
        result.acknowledged++
      }
    }
    pending = still
  }

  const produce = (): void => {
    if (leader === undefined) return
    if (!leader.hasEnoughReplicas(MIN_ISR)) return // NOT_ENOUGH_REPLICAS
    // PartitionLog.cutFenced: no offset is reused while a replica may hold a cut tail.
    if (leader.awaitingCutTruncation) return
    const self = broker(leader.leaderId)
    const count = 1 + Math.floor(random() * 3)
    for (let i = 0; i < count; i++) {
      self.log.push(image.leaderEpoch)
      self.ids.push(nextRecordId++)
    }
    pending.push({ lastOffset: self.log.length - 1, epoch: image.leaderEpoch })
  }
  const flush = (): void => {
    if (leader === undefined) return
    const self = broker(leader.leaderId)
    self.durable = self.log.length
    leader.onLeaderEndOffset(self.durable)
    afterHwMove()
  }
  /**
   * The leader's fsync fails (PartitionLog.#fail in replicated mode): it cuts its log back to
   * its durable end (≥ the HW), the produces past it fail, and it goes on leading in the same
   * epoch; followers may have copied the lost tail (they read written bytes), so the leader
   * state is told (LeaderPartitionState.onWrittenCut), and produces wait until every replica
   * has dropped it.
   */
  const failFlush = (): void => {
    if (leader === undefined) return
    const self = broker(leader.leaderId)
    const keep = Math.max(leader.highWatermark, self.durable)
    if (self.log.length <= keep) return
    result.failedFlushes++
    self.log.length = keep
    self.ids.length = keep
    pending = pending.filter(ack => ack.lastOffset < keep)
    leader.onWrittenCut(keep)
  }
  const fetch = (id: number): void => {
    if (leader === undefined || id === leader.leaderId || !broker(id).live) return
    const self = broker(leader.leaderId)
    const follower = broker(id)
    // KIP-320, with the brokers' own rules (src/replication/divergence.ts): the leader checks
    // the follower's last epoch; a diverging answer makes the follower truncate, and the next
    // fetch goes on from there.
    const lastEpoch = follower.log.at(-1) ?? -1
    const end = leaderEpochEnd(lastEpoch, epochCacheOf(self.log), image.leaderEpoch,
      leader.epochStartOffset)
    // ReplicaManager.readForFollower: a cut the follower may have copied past comes first.
    const cut = leader.truncationAfterCut(id, follower.log.length)
    const diverging = cut !== undefined
      ? { leaderEpoch: lastEpoch, endOffset: cut }
      : divergingEpochFor(lastEpoch, follower.log.length, end)
    if (diverging === 'unknown') fail(`follower ${id}'s epoch ${lastEpoch} is unknown`)
    if (diverging !== undefined && diverging !== 'unknown') {
      const offset = truncationOffset(diverging, diverging.leaderEpoch < 0
        ? undefined
        : epochCacheOf(follower.log).endOffsetForEpoch(diverging.leaderEpoch),
      follower.log.length, follower.highWatermark)
      if (offset < follower.highWatermark) fail(`follower ${id} would truncate below its HW`)
      if (offset >= follower.log.length) fail(`follower ${id} diverges but cannot truncate`)
      follower.log.length = offset
      follower.ids.length = offset
      follower.durable = offset
      return
    }
    for (let offset = 0; offset < follower.log.length; offset++) {
      if (follower.log[offset] !== self.log[offset] || follower.ids[offset] !== self.ids[offset]) {
        fail(`follower ${id} keeps offset ${offset} (epoch ${String(follower.log[offset])}) ` +
          'that the leader does not have')
      }
    }
    const common = follower.log.length
    leader.onFollowerFetch(id, follower.log.length, self.log.length, nowMs)
    afterHwMove()
    const take = Math.floor(random() * 4)
    follower.log.push(...self.log.slice(common, common + take))
    follower.ids.push(...self.ids.slice(common, common + take))
    follower.durable = follower.log.length
    follower.highWatermark = Math.min(leader.highWatermark, follower.log.length)
  }
  const tick = (): void => {
    nowMs += Math.floor(random() * 400)
    if (random() < 0.5) deliverMetadata()
    if (inFlight !== undefined && nowMs >= inFlight.atMs) answerAlterPartition(inFlight)
    if (leader !== undefined && inFlight === undefined) {
      // ReplicaRoles: a change left pending by an unknown outcome is sent again as it was.
      const change = leader.pendingChange ?? leader.proposeIsrChange(nowMs, id => broker(id).live)
      if (change !== undefined) {
        const fate = random() < 0.05 ? 'lost' : random() < 0.1 ? 'unknown' : 'answered'
        inFlight = { change, atMs: nowMs + Math.floor(random() * 300), fate }
      }
    }
  }
  /**
   * The controller's AlterPartition checks, then ReplicaRoles' policy for the answer: a refusal
   * drops the change; an unknown outcome drops a shrink (the HW then waits for the larger,
   * committed ISR) but keeps an expansion pending, since it may have been committed.
   */
  const answerAlterPartition = ({ change, fate }: NonNullable<typeof inFlight>): void => {
    inFlight = undefined
    const refused = fate === 'lost' || change.leaderEpoch !== image.leaderEpoch ||
      change.partitionEpoch !== image.partitionEpoch ||
      change.isr.some(id => !broker(id).live && !image.isr.includes(id))
    if (!refused) {
      if (change.kind === 'shrink') result.shrinks++
      else result.expands++
      commit({ ...image, isr: change.isr, partitionEpoch: image.partitionEpoch + 1 })
    }
    if (leader?.pendingChange !== change) return
    // A lost request is seen as an error with no proof (NOT_CONTROLLER, a timeout); only a
    // refusal after the partition epoch matched (INELIGIBLE_REPLICA) proves nothing applied.
    const definite = fate !== 'lost' && refused && change.leaderEpoch === image.leaderEpoch &&
      change.partitionEpoch === image.partitionEpoch
    if (fate === 'unknown' || !definite) {
      if (change.kind === 'shrink') leader.changeFailed()
      return
    }
    if (refused) leader.changeFailed()
  }
  const crash = (id: number): void => {
    const target = broker(id)
    if (!target.live) return
    target.live = false
    // Power loss: what was not fsynced is gone.
    target.log.length = target.durable
    target.ids.length = target.durable
    target.highWatermark = Math.min(target.highWatermark, target.durable)
    elect()
  }
  const restart = (id: number): void => {
    const target = broker(id)
    if (target.live) return
    target.live = true
    elect()
  }

  becomeLeader()
  for (let step = 0; step < EVENTS; step++) {
    const roll = random()
    if (roll < 0.25) produce()
    else if (roll < 0.39) flush()
    else if (roll < 0.4) failFlush()
    else if (roll < 0.75) fetch(pick(BROKERS))
    else if (roll < 0.97) tick()
    else if (roll < 0.98) crash(pick(BROKERS))
    else restart(pick(BROKERS))
    checkInvariants()
  }

  function checkInvariants (): void {
    if (image.isr.length === 0) fail('the ISR is empty')
    if (image.leaderId !== -1 && !image.isr.includes(image.leaderId)) {
      fail(`leader ${image.leaderId} is not in the ISR ${image.isr.join(',')}`)
    }
    if (leader === undefined) return
    const hw = leader.highWatermark
    if (lastHw.epoch === image.leaderEpoch && hw < lastHw.hw) {
      fail(`the high watermark went back from ${lastHw.hw} to ${hw} in epoch ${image.leaderEpoch}`)
    }
    lastHw = { epoch: image.leaderEpoch, hw }
    for (const id of new Set([...image.isr, ...leader.maximalIsr])) {
      if (broker(id).log.length < hw) {
        fail(`high watermark ${hw} passes ISR member ${id}'s log end ${broker(id).log.length}`)
      }
    }
    for (const [offset, record] of acknowledged) {
      for (const id of new Set([...image.isr, image.leaderId])) {
        if (broker(id).log[offset] !== record.epoch || broker(id).ids[offset] !== record.id) {
          fail(`acknowledged offset ${offset} (epoch ${record.epoch}, record ${record.id}) is ` +
            `missing on ISR member ${id}`)
        }
      }
    }
  }
  return result
}
