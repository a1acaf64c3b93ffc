/**
 * Monotonic timestamps (ms) of one sampled batch on its way through the storage engine, for the
 * debug latency breakdown (tributary.debug.latency.sample.rate; off by default). The caller
 * creates it and passes it to `PartitionLog.append`; the log and its flush round fill in what
 * they see. Unsampled batches carry none, so the cost when off is one `undefined` check per
 * stage of a round.
 */
export interface BatchTrace {
  /** Offsets assigned and the write queued (after admission and any roll). */
  appendedMs?: number
  /** This log's flush round was already running when the batch was queued: it waits for the
   * next round. */
  waitedForRound?: boolean
  /** The flush round that writes the batch started on this log. */
  roundStartMs?: number
  /** The round's writes to this log returned. */
  writtenMs?: number
  /** The round's fdatasyncs of this log returned (fsync before ack only). */
  syncedMs?: number
}
