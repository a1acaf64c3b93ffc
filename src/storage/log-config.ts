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
}

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
}
