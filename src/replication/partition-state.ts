/**
 * The leader's view of one partition it leads: the replicas, the ISR, the leader and partition
 * epochs, what each follower has reported, and the one definition of the high watermark in a
 * cluster (Kafka's Partition + Replica + AlterPartition state, kafka.cluster.Partition).
 *
 * PURE: no I/O, no clock. Time comes in as `nowMs`; the driver (replica-manager.ts and
 * isr-driver.ts) persists nothing here itself: it raises the log's high watermark to what this
 * computes and sends the ISR changes this proposes to the controller.
 *
 * Rules, each as in Kafka:
 * - A follower's log end offset is only what it reports as its fetch offset, and a follower
 *   fetches only once what it appended is durable, so only durable offsets ever count
 *   (stricter than Kafka: the power-loss rule of the replication issue).
 * - lastCaughtUpTimeMs (Kafka's Replica.updateFetchStateOrThrow): a fetch at or past the
 *   leader's log end offset catches the follower up at that fetch's time; a fetch at or past
 *   the leader's log end offset as of the previous fetch catches it up at the previous fetch's
 *   time.
 * - High watermark = min over the maximal ISR of each member's log end offset (the leader's
 *   is its own acknowledged end), and it never goes backwards while this state lives
 *   (Partition.maybeIncrementLeaderHW). While an ISR change is in flight the maximal ISR is
 *   used (PendingExpandIsr: the ISR plus the new member; PendingShrinkIsr: the ISR before the
 *   shrink), so the high watermark never counts on a change the controller may refuse.
 * - Shrink candidates (Partition.getOutOfSyncReplicas): ISR members other than the leader that
 *   have not caught up for `replica.lag.time.max.ms`, or whose broker is not live (fenced).
 *   The leader never leaves its own ISR.
 * - Expand candidates (Partition.isFollowerInSync, KIP-207): a live replica outside the ISR
 *   whose log end offset is at least the high watermark and at least the start offset of the
 *   leader's current epoch (so it has fetched in this epoch and truncated what diverged).
 * - One ISR change at a time (Kafka's PendingExpandIsr/PendingShrinkIsr): a new one is proposed
 *   only after the metadata carried the last one (or the controller refused it).
 *
 * - A failed write's cut on the leader (`onWrittenCut`; stricter than Kafka, which takes the
 *   log directory offline): every follower may hold the lost tail, so each is told to
 *   truncate to the kept end at its next fetch past it, ends reported past it stop counting,
 *   and `awaitingCutTruncation` holds leader appends until every replica has dropped it.
 *
 * Invariants (asserted): the leader is in the ISR; the ISR is never empty; the high watermark
 * never decreases; the high watermark ≤ the leader's acknowledged end.
 */
import { assert } from '../util/assert.js'

/** A follower's log end offset before its first fetch in this leader epoch (Kafka's -1). */
export const UNKNOWN_OFFSET = -1

export interface LeaderAndIsr {
  leaderId: number
  leaderEpoch: number
  partitionEpoch: number
  replicas: readonly number[]
  isr: readonly number[]
}

export interface IsrChange {
  kind: 'expand' | 'shrink'
  /** The ISR to propose (AlterPartition's new_isr). */
  isr: number[]
  leaderEpoch: number
  /** The partition epoch the change is based on (a stale one is INVALID_UPDATE_VERSION). */
  partitionEpoch: number
}

interface FollowerState {
  logEndOffset: number
  lastCaughtUpTimeMs: number
  lastFetchTimeMs: number
  lastFetchLeaderLogEndOffset: number
}

/** The outcome of an acks=all produce whose batch ends at `lastOffset` (Kafka's DelayedProduce). */
export type AckAllStatus = 'done' | 'wait' | 'not-enough-replicas-after-append'

export class LeaderPartitionState {
  readonly leaderId: number
  readonly leaderEpoch: number
  /** The leader's log end offset when it became leader: the start of its epoch (KIP-207). */
  readonly epochStartOffset: number
  readonly #lagTimeMaxMs: number
  #replicas: readonly number[]
  #isr: readonly number[]
  #partitionEpoch: number
  #pending: IsrChange | undefined
  #highWatermark: number
  #leaderEndOffset: number
  readonly #followers = new Map<number, FollowerState>()
  /**
   * Followers that may hold a tail this leader lost to a failed write, each with the offset
   * to cut it back to (see `onWrittenCut`). At most one entry per replica.
   */
  readonly #mustTruncateTo = new Map<number, number>()

  constructor (state: LeaderAndIsr, options: {
    /** The leader's acknowledged (durable) end. */
    leaderEndOffset: number
    /** The leader's log end offset as it became leader: its epoch's first offset. */
    epochStartOffset: number
    /** The high watermark the log has (from its time as follower, or its previous epoch). */
    highWatermark: number
    nowMs: number
    replicaLagTimeMaxMs: number
  }) {
    assert(state.isr.includes(state.leaderId), 'a leader is in its own ISR')
    assert(options.highWatermark <= options.leaderEndOffset,
      'a high watermark never passes the acknowledged end')
    this.leaderId = state.leaderId
    this.leaderEpoch = state.leaderEpoch
    this.epochStartOffset = options.epochStartOffset
    this.#lagTimeMaxMs = options.replicaLagTimeMaxMs
    this.#replicas = [...state.replicas]
    this.#isr = [...state.isr]
    this.#partitionEpoch = state.partitionEpoch
    this.#highWatermark = options.highWatermark
    this.#leaderEndOffset = options.leaderEndOffset
    for (const id of this.#replicas) this.#resetFollower(id, options.nowMs)
    // Kafka's makeLeader ends with maybeIncrementLeaderHW: a leader alone in its ISR (a
    // restarted sole replica) commits its durable log at once rather than at the next append;
    // with followers in the ISR nothing moves until each has reported an offset.
    this.#maybeIncrementHighWatermark()
  }

  /**
   * Kafka's Partition.makeLeader / resetReplicaState: every follower's offset is unknown; ISR
   * members count as caught up now (they get a full lag time to fetch), the others never.
   */
  #resetFollower (id: number, nowMs: number): void {
    if (id === this.leaderId) return
    this.#followers.set(id, {
      logEndOffset: UNKNOWN_OFFSET,
      lastCaughtUpTimeMs: this.#isr.includes(id) ? nowMs : 0,
      lastFetchTimeMs: 0,
      lastFetchLeaderLogEndOffset: UNKNOWN_OFFSET,
    })
  }

  get highWatermark (): number { return this.#highWatermark }
  get isr (): readonly number[] { return this.#isr }
  get replicas (): readonly number[] { return this.#replicas }
  get partitionEpoch (): number { return this.#partitionEpoch }
  get pendingChange (): IsrChange | undefined { return this.#pending }

  /** The ISR the high watermark must wait for: the committed one plus a pending expansion. */
  get maximalIsr (): readonly number[] {
    const pending = this.#pending
    if (pending?.kind === 'expand') return pending.isr
    return this.#isr
  }

  followerLogEndOffset (id: number): number {
    return this.#followers.get(id)?.logEndOffset ?? UNKNOWN_OFFSET
  }

  isReplica (id: number): boolean {
    return this.#replicas.includes(id)
  }

  /** The leader's own acknowledged end moved (a durable append). True if the HW moved. */
  onLeaderEndOffset (leaderEndOffset: number): boolean {
    assert(leaderEndOffset >= this.#highWatermark, 'the leader never cuts below its HW')
    this.#leaderEndOffset = leaderEndOffset
    return this.#maybeIncrementHighWatermark()
  }

  /**
   * A failed write cut this leader's written end back to `keptEndOffset` (its acknowledged
   * end, ≥ the HW). Followers read written bytes before they are fsynced (as in Kafka, where
   * followers read the page cache), so any of them may hold records past `keptEndOffset` that
   * the leader no longer has, and the leader goes on appending other records at those offsets
   * in the same leader epoch, which the epoch check of KIP-320 alone cannot tell apart. Kafka
   * takes the log directory offline on such a failure (a new leader epoch follows); this log
   * heals in place, so each follower is made to truncate to `keptEndOffset` (the smallest of
   * all cuts since) at its next fetch past it.
   */
  onWrittenCut (keptEndOffset: number): void {
    assert(keptEndOffset >= this.#highWatermark, 'a failed write never cuts below the HW')
    for (const [id, follower] of this.#followers) {
      this.#mustTruncateTo.set(id, Math.min(this.#mustTruncateTo.get(id) ?? keptEndOffset,
        keptEndOffset))
      // An end it reported past the cut counted the lost records: the records the leader
      // writes at those offsets next are not on that follower, so the HW must not count them.
      follower.logEndOffset = Math.min(follower.logEndOffset, keptEndOffset)
    }
  }

  /**
   * True while a replica may still hold a tail a failed write cut off: the leader must not
   * write other records at those offsets in this epoch until every one has dropped it.
   */
  get awaitingCutTruncation (): boolean {
    for (const id of this.#mustTruncateTo.keys()) {
      if (this.#replicas.includes(id)) return true
    }
    return false
  }

  /**
   * Where follower `id`, fetching at `fetchOffset`, must truncate to because of a cut
   * (`onWrittenCut`), or undefined. A fetch at or below the cut clears it: whatever it reads
   * is read after the cut, so it is what the leader has. Call before reading for the fetch.
   */
  truncationAfterCut (id: number, fetchOffset: number): number | undefined {
    const cut = this.#mustTruncateTo.get(id)
    if (cut === undefined) return undefined
    if (fetchOffset > cut) return cut
    this.#mustTruncateTo.delete(id)
    return undefined
  }

  /**
   * A follower fetched at `fetchOffset`: that is its durable log end offset.
   * `leaderLogEndOffset` is the leader's log end offset at the time of the fetch (the lag
   * rule's yardstick, as in Kafka). True if the HW moved.
   */
  onFollowerFetch (id: number, fetchOffset: number, leaderLogEndOffset: number,
    nowMs: number): boolean {
    const follower = this.#followers.get(id)
    assert(follower !== undefined, `follower ${id} is a replica`)
    if (fetchOffset >= leaderLogEndOffset) {
      follower.lastCaughtUpTimeMs = Math.max(follower.lastCaughtUpTimeMs, nowMs)
    } else if (fetchOffset >= follower.lastFetchLeaderLogEndOffset &&
      follower.lastFetchLeaderLogEndOffset !== UNKNOWN_OFFSET) {
      follower.lastCaughtUpTimeMs = Math.max(follower.lastCaughtUpTimeMs,
        follower.lastFetchTimeMs)
    }
    follower.logEndOffset = fetchOffset
    follower.lastFetchLeaderLogEndOffset = leaderLogEndOffset
    follower.lastFetchTimeMs = nowMs
    return this.#maybeIncrementHighWatermark()
  }

  #maybeIncrementHighWatermark (): boolean {
    let candidate = this.#leaderEndOffset
    for (const id of this.maximalIsr) {
      if (id === this.leaderId) continue
      candidate = Math.min(candidate, this.followerLogEndOffset(id))
    }
    if (candidate <= this.#highWatermark) return false
    // Every maximal ISR member reported at least `candidate`, and the leader acknowledged it.
    assert(candidate <= this.#leaderEndOffset, 'the HW never passes the leader\'s durable end')
    this.#highWatermark = candidate
    return true
  }

  /**
   * Kafka's Partition.checkEnoughReplicasReachOffset: an acks=all batch ending at `lastOffset`
   * is done once the HW passes it, unless the ISR shrank below min.insync.replicas meanwhile.
   */
  ackAllStatus (lastOffset: number, minInsyncReplicas: number): AckAllStatus {
    if (this.#highWatermark <= lastOffset) return 'wait'
    return this.maximalIsr.length < minInsyncReplicas ? 'not-enough-replicas-after-append' : 'done'
  }

  /** Kafka's appendRecordsToLeader check: acks=all needs min.insync.replicas in the ISR. */
  hasEnoughReplicas (minInsyncReplicas: number): boolean {
    return this.#isr.length >= minInsyncReplicas
  }

  /** ISR members (never the leader) that are out of sync or not live (a fenced broker). */
  shrinkCandidates (nowMs: number, isLive: (id: number) => boolean): number[] {
    return this.#isr.filter(id => {
      if (id === this.leaderId) return false
      if (!isLive(id)) return true
      const follower = this.#followers.get(id)
      return follower === undefined || nowMs - follower.lastCaughtUpTimeMs > this.#lagTimeMaxMs
    })
  }

  /** KIP-207: the follower may join the ISR. */
  isExpandCandidate (id: number, isLive: (id: number) => boolean): boolean {
    if (this.#isr.includes(id) || !isLive(id) || !this.#followers.has(id)) return false
    const offset = this.followerLogEndOffset(id)
    return offset >= this.#highWatermark && offset >= this.epochStartOffset
  }

  /**
   * The next ISR change to send to the controller, if any and if none is in flight: shrinks
   * first (they unblock the high watermark), else one expansion with every candidate. The
   * change becomes pending: the HW uses the maximal ISR until `applyMetadata` or `changeFailed`.
   */
  proposeIsrChange (nowMs: number, isLive: (id: number) => boolean): IsrChange | undefined {
    if (this.#pending !== undefined) return undefined
    const out = this.shrinkCandidates(nowMs, isLive)
    let change: IsrChange | undefined
    if (out.length > 0) {
      change = { kind: 'shrink', isr: this.#isr.filter(id => !out.includes(id)),
        leaderEpoch: this.leaderEpoch, partitionEpoch: this.#partitionEpoch }
    } else {
      const joining = this.#replicas.filter(id => this.isExpandCandidate(id, isLive))
      if (joining.length > 0) {
        change = { kind: 'expand', isr: [...this.#isr, ...joining],
          leaderEpoch: this.leaderEpoch, partitionEpoch: this.#partitionEpoch }
      }
    }
    if (change === undefined) return undefined
    assert(change.isr.includes(this.leaderId), 'the leader never leaves its own ISR')
    this.#pending = change
    return change
  }

  /** The controller refused the pending change, or it could not be sent: try again later. */
  changeFailed (): void {
    this.#pending = undefined
  }

  /**
   * A Partition record for this partition with this leader epoch arrived: its ISR and partition
   * epoch become the state (the leader applies an ISR only from the metadata). A record with
   * a newer leader epoch or another leader means a new state object, not this call.
   */
  applyMetadata (state: LeaderAndIsr, nowMs: number): boolean {
    assert(state.leaderEpoch === this.leaderEpoch, 'the same leader epoch')
    assert(state.leaderId === this.leaderId, 'the same leader')
    assert(state.isr.includes(this.leaderId), 'a leader is in its own ISR')
    if (state.partitionEpoch < this.#partitionEpoch) return false
    const added = state.replicas.filter(id => !this.#replicas.includes(id))
    this.#replicas = [...state.replicas]
    this.#isr = [...state.isr]
    this.#partitionEpoch = state.partitionEpoch
    for (const id of added) this.#resetFollower(id, nowMs)
    for (const id of [...this.#followers.keys()]) {
      // #mustTruncateTo keeps its entry: a replica removed and added back may still hold a
      // lost tail (at most one entry per broker id).
      if (!this.#replicas.includes(id)) this.#followers.delete(id)
    }
    this.#pending = undefined
    // A shrink can only raise the HW (fewer members to wait for), never lower it.
    return this.#maybeIncrementHighWatermark()
  }

  /** Lag per follower, for metrics: the leader's acknowledged end minus the reported one. */
  followerLags (): { followerId: number, lagRecords: number, lastCaughtUpTimeMs: number }[] {
    return [...this.#followers].map(([followerId, follower]) => ({
      followerId,
      lagRecords: follower.logEndOffset === UNKNOWN_OFFSET
        ? this.#leaderEndOffset
        : Math.max(0, this.#leaderEndOffset - follower.logEndOffset),
      lastCaughtUpTimeMs: follower.lastCaughtUpTimeMs,
    }))
  }
}
