/**
 * Per-partition log settings, named after Kafka's topic configs (segment.bytes → segmentBytes).
 * Defaults are Kafka's (LogConfig / ServerLogConfigs), except `fsyncBeforeAck`: Tributary
 * acknowledges a write only after an fdatasync covers it unless told otherwise.
 */
export interface LogConfig {
  segmentBytes: number
  segmentMs: number
  indexIntervalBytes: number
  segmentIndexBytes: number
  /** flush.messages: fsync after this many unflushed records (relaxed mode only). */
  flushIntervalMessages: number
  /** flush.ms: fsync at least this often (relaxed mode only). */
  flushIntervalMs: number
  retentionMs: number
  retentionBytes: number
  maxMessageBytes: number
  fsyncBeforeAck: boolean
  /** cleanup.policy: `delete` lets retention.ms/bytes delete segments; `compact` keys. */
  cleanupPolicy: readonly CleanupPolicy[]
  /**
   * Kafka's file.delete.delay.ms: a segment deleted by retention or DeleteRecords is renamed to
   * `.deleted` at once and its files removed this much later (and after its last reader).
   */
  fileDeleteDelayMs: number
  /** min.cleanable.dirty.ratio: the share of dirty bytes that makes a log worth cleaning. */
  minCleanableDirtyRatio: number
  /** min.compaction.lag.ms: records younger than this are never compacted. */
  minCompactionLagMs: number
  /** max.compaction.lag.ms: a log with dirty records older than this is cleaned anyway. */
  maxCompactionLagMs: number
  /** delete.retention.ms: tombstones live this long after the cleaning that reached them. */
  deleteRetentionMs: number
}

export type CleanupPolicy = 'delete' | 'compact'

export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushIntervalMs: Number.MAX_SAFE_INTEGER,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  maxMessageBytes: 1048588,
  fsyncBeforeAck: true,
  cleanupPolicy: ['delete'],
  fileDeleteDelayMs: 60_000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  deleteRetentionMs: 24 * 3600 * 1000,
}

/** Bytes of one offset index entry (relative offset, position). */
const OFFSET_INDEX_ENTRY_BYTES = 8

/**
 * The index interval a segment is built with: index.interval.bytes, raised so that the entries
 * of a full segment fit in segment.index.bytes. Kafka rolls a segment whose index is full; with
 * index.interval.bytes 0 and a small segment.index.bytes that is a new file (and one more open
 * descriptor) every few batches, so here the index gets sparser instead and only segment.bytes
 * or segment.ms roll. The defaults are unchanged by this (1 GiB / 1.3 M entries < 4096).
 */
export function segmentIndexIntervalBytes (config: LogConfig): number {
  const entries = Math.floor(config.segmentIndexBytes / OFFSET_INDEX_ENTRY_BYTES)
  // One entry short of full: an entry goes in when more than the interval passed since the last.
  return Math.max(config.indexIntervalBytes,
    Math.ceil(config.segmentBytes / Math.max(entries - 1, 1)))
}
