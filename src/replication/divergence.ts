/**
 * Where a follower's log diverges from its leader's (KIP-101, KIP-279, KIP-320): the leader's
 * check of a follower fetch, and the follower's truncation point. PURE, so the seeded
 * simulator (test/sim/replication-sim.ts) runs the very rules the brokers run.
 */

/** An epoch's end in a log (LeaderEpochFileCache.endOffsetFor); { -1, -1 } when unknown. */
export interface EpochEnd {
  leaderEpoch: number
  endOffset: number
}

/**
 * The leader's side (Kafka's Partition.fetchRecords, validateLastFetchedEpoch): `end` is the
 * leader's end of the follower's last fetched epoch. The follower diverges when the leader has
 * no such epoch (it ends an earlier one) or ends it before the follower's fetch offset; the
 * answer is that end. undefined: the follower's log matches up to its fetch offset. 'unknown':
 * the epoch is below anything the leader knows (OFFSET_OUT_OF_RANGE).
 */
export function divergingEpochFor (lastFetchedEpoch: number, fetchOffset: number,
  end: EpochEnd): EpochEnd | undefined | 'unknown' {
  if (lastFetchedEpoch < 0) return undefined
  if (end.leaderEpoch < 0 || end.endOffset < 0) return 'unknown'
  if (end.leaderEpoch < lastFetchedEpoch || end.endOffset < fetchOffset) return end
  return undefined
}

/**
 * The follower's side (Kafka's AbstractFetcherThread.getOffsetTruncationState): the leader
 * ends epoch `diverging.leaderEpoch` at `diverging.endOffset`; this log keeps what both agree
 * on, up to the smaller of that and its own end of that epoch (`localEnd`), and never more
 * than it has. If the epochs still differ, the next fetch narrows it down further.
 */
export function truncationOffset (diverging: EpochEnd, localEnd: EpochEnd | undefined,
  logEndOffset: number, highWatermark: number): number {
  let offset = diverging.endOffset < 0 ? highWatermark : diverging.endOffset
  if (localEnd !== undefined && localEnd.endOffset >= 0) {
    offset = Math.min(offset, localEnd.endOffset)
  }
  return Math.min(offset, logEndOffset)
}

/**
 * A leader's end of `requestedEpoch`, as if its own epoch were in its epoch cache from the
 * moment it became leader (Kafka's Partition.makeLeader assigns it, maybeAssignEpochStartOffset;
 * the log's cache here learns epochs from appended batches only). Until the leader appends in
 * its epoch, an epoch newer than any in its log ends where the leader's epoch starts, reported
 * with the newest epoch the log has: without this a follower that led an epoch the new leader
 * never saw would get "unknown" instead of where to truncate.
 */
export function leaderEpochEnd (requestedEpoch: number, log: {
  latestEpoch: number
  endOffsetForEpoch (epoch: number): EpochEnd
}, leaderEpoch: number, epochStartOffset: number): EpochEnd {
  const latest = log.latestEpoch
  if (requestedEpoch < 0 || latest >= leaderEpoch || requestedEpoch >= leaderEpoch) {
    return log.endOffsetForEpoch(requestedEpoch)
  }
  if (requestedEpoch < latest) return log.endOffsetForEpoch(requestedEpoch)
  // latest ≤ requested < the leader's epoch: the leader's epoch is the next higher entry.
  return { leaderEpoch: latest >= 0 ? latest : requestedEpoch, endOffset: epochStartOffset }
}
