/**
 * Which old segments retention deletes (Kafka's UnifiedLog.deleteOldSegments): a pure decision
 * over a log's segments, oldest first, so it can be tested without files or clocks.
 *
 * - `retention.ms`: a segment whose largest record timestamp is older than `retention.ms`
 *   (Kafka's LogSegment.largestTimestamp; a segment without timestamps counts from when the
 *   broker opened or created it, as Kafka falls back to the file's modification time).
 * - `retention.bytes`: the oldest segments, while the log without them still holds at least
 *   `retention.bytes` (deleteRetentionSizeBreachedSegments).
 * - the log start offset: a segment wholly below it (deleteLogStartOffsetBreachedSegments, after
 *   DeleteRecords, or a restart that found a checkpointed start past its first segments).
 *
 * Only a prefix goes, and only segments wholly below the high watermark (Kafka's
 * deletableSegments: a consumer may not have read past it yet, and a replica may still need it).
 * An empty active segment is never deleted; when every segment goes, the caller rolls first so
 * the log keeps an active segment (Kafka's deleteSegments). Time and size apply only with
 * `cleanup.policy` containing `delete`; the log start offset always applies.
 */

export interface RetainedSegment {
  baseOffset: number
  /** The offset after the segment's last batch. */
  nextOffset: number
  size: number
  /** Largest record timestamp in the segment, or -1 if none. */
  maxTimestamp: number
  /** When the broker opened or created the segment (wall clock). */
  createdMs: number
}

export interface RetentionLimits {
  retentionMs: number
  retentionBytes: number
  /** cleanup.policy contains `delete`. */
  deleteEnabled: boolean
}

export interface RetentionState {
  nowMs: number
  logStartOffset: number
  highWatermark: number
  logEndOffset: number
}

export type RetentionReason = 'retention.ms' | 'retention.bytes' | 'log start offset'

export interface RetentionPlan {
  /** How many of the oldest segments go (0: none). */
  count: number
  reason: RetentionReason | undefined
  /**
   * Per deleted segment, when it became eligible (wall clock): for retention.ms its largest
   * timestamp plus retention.ms; otherwise `nowMs`, when the check found it.
   */
  eligibleSinceMs: number[]
}

/** The wall-clock time `retention.ms` is measured from for `segment`. */
export function largestTimestamp (segment: RetainedSegment): number {
  return segment.maxTimestamp >= 0 ? segment.maxTimestamp : segment.createdMs
}

/**
 * The longest deletable prefix of `segments` (Kafka's deletableSegments with each predicate).
 * `predicate(segment, next)` decides one segment; the prefix ends at the first it refuses.
 */
function deletablePrefix (segments: readonly RetainedSegment[], state: RetentionState,
  predicate: (segment: RetainedSegment, next: RetainedSegment | undefined) => boolean): number {
  let count = 0
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as RetainedSegment
    const next = segments[i + 1]
    const upperBound = next?.baseOffset ?? state.logEndOffset
    const lastAndEmpty = next === undefined && segment.size === 0
    if (state.highWatermark < upperBound || lastAndEmpty || !predicate(segment, next)) break
    count++
  }
  return count
}

export function planRetention (segments: readonly RetainedSegment[], limits: RetentionLimits,
  state: RetentionState): RetentionPlan {
  const candidates: { reason: RetentionReason, count: number }[] = []
  if (limits.deleteEnabled && limits.retentionMs >= 0) {
    candidates.push({
      reason: 'retention.ms',
      count: deletablePrefix(segments, state,
        segment => state.nowMs - largestTimestamp(segment) > limits.retentionMs),
    })
  }
  if (limits.deleteEnabled && limits.retentionBytes >= 0) {
    let excess = segments.reduce((total, segment) => total + segment.size, 0) -
      limits.retentionBytes
    candidates.push({
      reason: 'retention.bytes',
      count: deletablePrefix(segments, state, segment => {
        if (excess - segment.size < 0) return false
        excess -= segment.size
        return true
      }),
    })
  }
  candidates.push({
    reason: 'log start offset',
    count: deletablePrefix(segments, state, (_segment, next) =>
      next !== undefined && next.baseOffset <= state.logStartOffset),
  })
  // Each rule deletes a prefix, and Kafka runs them one after the other: together they delete
  // the longest of the three prefixes.
  let best: { reason: RetentionReason, count: number } | undefined
  for (const candidate of candidates) {
    if (candidate.count > (best?.count ?? 0)) best = candidate
  }
  const count = best?.count ?? 0
  const eligibleSinceMs = segments.slice(0, count).map(segment =>
    best?.reason === 'retention.ms'
      ? largestTimestamp(segment) + limits.retentionMs
      : state.nowMs)
  return { count, reason: best?.reason, eligibleSinceMs }
}
